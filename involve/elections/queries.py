"""Questions other pages ask about elections."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from involve.elections import policy
from involve.elections.models import Candidate, Election, RollEntry, Status
from involve.extensions import db, utcnow
from involve.people.models import Person, Role, RoleGrant, active_grants_query
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


def elections_for(actor: Any) -> Select:
    """Elections the actor may see, newest first, with their services, as a query to
    paginate: drafts only for those who run them."""
    drafts_too = scoped(actor, Election.service_id, Election.organisation_id, policy.MANAGERS)
    return (select(Election).where(policy.visible(actor),
                                   or_(Election.status != Status.draft, drafts_too))
            .options(joinedload(Election.service))  # each row names its service
            .order_by(Election.created_at.desc(), Election.id.desc()))


def waiting_voters(election: Election, helper: Any = None) -> list[RollEntry]:
    """People on the roll who may vote and have not yet, by name; with ``helper`` (an
    actor), only those whose names the helper may see (:func:`policy.voters_to_help`)."""
    query = (select(RollEntry).join(Person, Person.id == RollEntry.person_id)
             .where(RollEntry.election_id == election.id, RollEntry.eligible.is_(True),
                    RollEntry.voted.is_(False)))
    if helper is not None:
        query = query.where(policy.voters_to_help(helper, election))
    return list(db.session.scalars(query.order_by(Person.full_name)))


def may_help(helper: Any, election: Election, person_id: int) -> bool:
    """Whether ``helper`` (an actor) may open the ballot of this person on a tablet."""
    return db.session.scalar(select(RollEntry.id).where(
        RollEntry.election_id == election.id, RollEntry.person_id == person_id,
        policy.voters_to_help(helper, election))) is not None


def roll_entry_of(election: Election, person_id: int) -> RollEntry | None:
    """A person's entry on an election's roll, if they have one."""
    return db.session.scalar(select(RollEntry).where(RollEntry.election_id == election.id,
                                                     RollEntry.person_id == person_id))


def home_elections(actor: Any) -> dict[str, list]:
    """For the home page: ballots waiting for this person, open nominations, recent results."""
    query = select(Election).where(policy.visible(actor), Election.status.in_(
        [Status.nominations_open, Status.voting_open, Status.results_published]))
    # Results name the people elected: their candidates come in one more statement, not one
    # per election and person.
    elections = list(db.session.scalars(query.options(
        selectinload(Election.candidates).joinedload(Candidate.person))
        .order_by(Election.id.desc()).limit(20)))
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


# --- the roll, a page at a time -------------------------------------------------------------

ROLL_PER_PAGE = 100
ROLL_OPEN_STATES = (Status.draft, Status.nominations_open, Status.nominations_closed)


@dataclass
class RollPage:
    """One page of the roll: (person, their roll entry or None) rows, and where it sits."""

    items: list[tuple[Person, RollEntry | None]]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def roll_page(election: Election, page: int = 1,
              per_page: int = ROLL_PER_PAGE) -> RollPage:
    """A page of the roll, in two statements whatever its size (a count and the rows).

    Before voting opens: the service users who would be on it (by name), then anyone else with
    an entry, each with any ineligible mark. Once voting has opened: the fixed roll, by name.
    """
    entry_join = and_(RollEntry.election_id == election.id, RollEntry.person_id == Person.id)
    if election.status in ROLL_OPEN_STATES:
        grants = select(RoleGrant.person_id).where(
            RoleGrant.id.in_(select(active_grants_query().subquery().c.id)),
            RoleGrant.role == Role.service_user)
        if election.service_id is not None:
            grants = grants.where(RoleGrant.service_id == election.service_id)
        eligible = and_(Person.id.in_(grants), Person.organisation_id == election.organisation_id,
                        Person.status == "active")
        query = (select(Person, RollEntry).outerjoin(RollEntry, entry_join)
                 .where(or_(eligible, RollEntry.id.is_not(None)))
                 .order_by(case((eligible, 0), else_=1), Person.full_name, Person.id))
    else:
        query = (select(Person, RollEntry).join(RollEntry, entry_join)
                 .order_by(Person.full_name, Person.id))
    # Counted on ids alone: every column of 60,000 people and entries made the count slow.
    total = db.session.scalar(select(func.count()).select_from(
        query.with_only_columns(Person.id).order_by(None).subquery())) or 0
    page = max(1, page)
    rows = db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).all()
    return RollPage([(person, entry) for person, entry in rows], page, per_page, total)


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def result_in_words(election: Election) -> list[str]:
    """The result as a few short sentences in easy read (for the web page and the poster)."""
    result = election.result or {}
    names = [p.full_name for p in election.elected_people]
    lines = []
    if result.get("unopposed"):
        lines.append(f"{len(names)} {'person' if len(names) == 1 else 'people'} wanted to be "
                     f"{'an ambassador' if election.seats == 1 else 'ambassadors'}, and there "
                     f"{'was' if election.seats == 1 else 'were'} {election.seats} "
                     f"place{'' if election.seats == 1 else 's'}. So there was no vote.")
    else:
        turnout = result.get("turnout", {})
        lines.append(f"{turnout.get('voted', 0)} of the {turnout.get('roll', 0)} people who "
                     "could vote took part.")
    if names:
        lines.append(f"{_and(names)} {'was' if len(names) == 1 else 'were'} elected.")
        lines.append((f"{names[0]} will be an ambassador" if len(names) == 1
                      else "They will be ambassadors")
                     + f" for {election.term_months} month"
                     + ("" if election.term_months == 1 else "s") + ".")
    lines.append("Thank you to everyone who stood, and to everyone who voted.")
    return lines
