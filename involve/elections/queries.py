"""Questions other pages ask about elections."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, select

from involve.elections.models import Election, RollEntry, Status
from involve.extensions import db, utcnow
from involve.people.models import Person


def published_results(service_id: int | None, since: datetime | None) -> list[Election]:
    """Elections whose results were published (since ``since``), newest first.

    ``service_id`` None means organisation-wide elections.
    """
    query = select(Election).where(Election.status == Status.results_published)
    if service_id is None:
        query = query.where(Election.service_id.is_(None))
    else:
        query = query.where(Election.service_id == service_id)
    if since is not None:
        query = query.where(Election.results_published_at >= since)
    return list(db.session.scalars(query.order_by(Election.results_published_at.desc())))


def _in_scope(query: Select, actor: Any) -> Select:
    """Only elections of the actor's services, and organisation-wide ones."""
    ids = actor.service_ids()
    if ids is None:
        return query
    return query.where(Election.service_id.in_(ids) | Election.service_id.is_(None))


def elections_for(actor: Any) -> list[Election]:
    """Elections in the actor's services and organisation-wide ones, newest first."""
    return list(db.session.scalars(_in_scope(
        select(Election).order_by(Election.created_at.desc(), Election.id.desc()), actor)))


def waiting_voters(election: Election) -> list[RollEntry]:
    """People on the roll who may vote and have not yet, by name."""
    return list(db.session.scalars(
        select(RollEntry).join(Person, Person.id == RollEntry.person_id)
        .where(RollEntry.election_id == election.id, RollEntry.eligible.is_(True),
               RollEntry.voted.is_(False)).order_by(Person.full_name)))


def roll_entry_of(election: Election, person_id: int) -> RollEntry | None:
    """A person's entry on an election's roll, if they have one."""
    return db.session.scalar(select(RollEntry).where(RollEntry.election_id == election.id,
                                                     RollEntry.person_id == person_id))


def home_elections(actor: Any) -> dict[str, list]:
    """For the home page: ballots waiting for this person, open nominations, recent results."""
    query = _in_scope(select(Election).where(Election.status.in_(
        [Status.nominations_open, Status.voting_open, Status.results_published])), actor)
    # Organisation-wide roles see every service; show only what this person may open.
    from involve.permissions import can

    elections = [e for e in db.session.scalars(query.order_by(Election.id.desc()).limit(20))
                 if can("elections.view", e, actor)]
    waiting = set(db.session.scalars(select(RollEntry.election_id).where(
        RollEntry.person_id == actor.person_id, RollEntry.eligible.is_(True),
        RollEntry.voted.is_(False), RollEntry.election_id.in_([e.id for e in elections]))))
    recent = utcnow() - timedelta(days=60)
    return {
        "to_vote": [e for e in elections if e.status is Status.voting_open and e.id in waiting],
        "nominations": [e for e in elections if e.status is Status.nominations_open],
        "results": [e for e in elections if e.status is Status.results_published
                    and e.results_published_at and e.results_published_at >= recent],
    }
