"""Questions other pages ask about elections."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from involve.elections.models import Election, RollEntry, Status
from involve.extensions import db, utcnow


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


def home_elections(actor: Any) -> dict[str, list]:
    """For the home page: ballots waiting for this person, open nominations, recent results."""
    ids = actor.service_ids()
    query = select(Election).where(Election.status.in_(
        [Status.nominations_open, Status.voting_open, Status.results_published]))
    if ids is not None:
        query = query.where(Election.service_id.in_(ids) | Election.service_id.is_(None))
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
