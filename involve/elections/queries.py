"""Questions other pages ask about elections."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select

from involve.elections import policy
from involve.elections.models import Election, RollEntry, Status
from involve.extensions import db, utcnow
from involve.people.models import Person
from involve.people.policy import scoped


def published_results(service_id: int | None, since: datetime | None, *,
                      organisation_id: int) -> list[Election]:
    """An organisation's elections whose results were published (since ``since``), newest
    first. ``service_id`` None means organisation-wide elections."""
    query = select(Election).where(Election.organisation_id == organisation_id,
                                   Election.status == Status.results_published)
    if service_id is None:
        query = query.where(Election.service_id.is_(None))
    else:
        query = query.where(Election.service_id == service_id)
    if since is not None:
        query = query.where(Election.results_published_at >= since)
    return list(db.session.scalars(query.order_by(Election.results_published_at.desc())))


def elections_for(actor: Any) -> list[Election]:
    """Elections the actor may see, newest first: drafts only for those who run them."""
    drafts_too = scoped(actor, Election.service_id, Election.organisation_id, policy.MANAGERS)
    return list(db.session.scalars(
        select(Election).where(policy.visible(actor),
                               or_(Election.status != Status.draft, drafts_too))
        .order_by(Election.created_at.desc(), Election.id.desc())))


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
    query = select(Election).where(policy.visible(actor), Election.status.in_(
        [Status.nominations_open, Status.voting_open, Status.results_published]))
    elections = list(db.session.scalars(query.order_by(Election.id.desc()).limit(20)))
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
