"""Every change to an election: its stages, nominations, the roll, voting and the count.

Plain functions: they never commit and never read the request. Anything the rules refuse raises
an :class:`ElectionsError` with a message in plain words, and the caller rolls back.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import (
    ColumnElement,
    Select,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    text,
    update,
)

from involve import audit
from involve.auth.services import new_code
from involve.elections import ballot_box
from involve.elections.ballot_box import BadKey
from involve.elections.counting import count_election
from involve.elections.models import (
    Ballot,
    BallotOrder,
    Candidate,
    Channel,
    CountedReceipt,
    Election,
    ElectionsError,
    IllegalMove,
    Method,
    PaperBatch,
    RollEntry,
    SealedBallot,
    Status,
)
from involve.elections.queries import roll_entry_of
from involve.extensions import db, utcnow
from involve.images import ImageRejected, clean_photo
from involve.kernel import clock
from involve.people.models import Person, Role, RoleGrant, active_grants_query

__all__ = ["BadKey", "ElectionsError", "IllegalMove"]

STATEMENT_LIMIT = 1500
EASY_READ_LIMIT = 400


class NotOnRoll(ElectionsError):
    """The person is not on the roll, or may not vote in this election."""


class AlreadyVoted(ElectionsError):
    """The roll entry already shows a vote, on some channel."""


class BadBallot(ElectionsError):
    """The choices on a ballot break the election's rules."""


class BadCode(ElectionsError):
    """A voting code that is unknown, used, or for another election."""


class PaperMismatch(ElectionsError):
    """Paper ballots do not reconcile with the paper voters marked on the roll."""


# --- codes --------------------------------------------------------------------------------


def _keyed_hash(purpose: str, value: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def normalise_code(code: str) -> str:
    """Upper case, without spaces or dashes, so "abcd-efgh" and "ABCD EFGH" are the same code."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def code_hash(code: str) -> str:
    """The keyed hash kept for a voting code (the code itself is never stored)."""
    return _keyed_hash("vote", normalise_code(code))


def receipt_hash(code: str) -> str:
    """The keyed hash kept on a ballot for its receipt code."""
    return _keyed_hash("receipt", normalise_code(code))


def receipt_mark(hash_: str) -> str:
    """The short mark of a receipt shown on the published list."""
    return hash_[:10]


# --- creating and editing -----------------------------------------------------------------


def create_election(*, organisation_id: int, service_id: int | None, title: str, seats: int,
                    method: Method, term_months: int = 12, description: str = "",
                    nominations_open_on: date | None = None,
                    nominations_close_on: date | None = None,
                    voting_opens_on: date | None = None, voting_closes_on: date | None = None,
                    ballot_order: BallotOrder = BallotOrder.alphabetical,
                    by: Person) -> Election:
    """Create an election in draft."""
    election = Election(organisation_id=organisation_id, service_id=service_id, title=title,
                        seats=seats, method=method, term_months=term_months,
                        description=description, nominations_open_on=nominations_open_on,
                        nominations_close_on=nominations_close_on,
                        voting_opens_on=voting_opens_on, voting_closes_on=voting_closes_on,
                        ballot_order=ballot_order, created_by_id=by.id, status=Status.draft)
    _check_dates(election)
    db.session.add(election)
    db.session.flush()
    audit.record("election.created", actor=by, obj=election, title=title)
    return election


def _check_dates(election: Election) -> None:
    days = [election.nominations_open_on, election.nominations_close_on,
            election.voting_opens_on, election.voting_closes_on]
    known = [d for d in days if d]
    if known != sorted(known):
        raise ElectionsError("The dates are in the wrong order: nominations open, then close, "
                             "then voting opens, then voting closes.")


def _not_published(election: Election) -> None:
    if election.status is Status.results_published:
        raise IllegalMove("The results of this election are published, so it cannot be changed.")


def _must_be_editable(election: Election) -> None:
    _not_published(election)
    if not election.is_editable:
        raise IllegalMove(f"This election is at the stage “{election.status.label}”, so its "
                          "details and candidates cannot be changed.")


def update_election(election: Election, *, by: Person, **fields: object) -> Election:
    """Change an election's title, seats, method, term or dates before voting opens."""
    _must_be_editable(election)
    allowed = {"title", "description", "seats", "method", "term_months", "ballot_order",
               "nominations_open_on", "nominations_close_on", "voting_opens_on",
               "voting_closes_on"}
    changed = {}
    for name, value in fields.items():
        if name not in allowed:
            raise ValueError(f"cannot change {name}")
        if getattr(election, name) != value:
            setattr(election, name, value)
            changed[name] = str(value)
    _check_dates(election)
    audit.record("election.updated", actor=by, obj=election, changed=sorted(changed))
    return election


# --- the stages ---------------------------------------------------------------------------


def _move(election: Election, target: Status, by: Person | None, **details: object) -> None:
    """Move and audit the move; ``by`` is None for a move made by its date (the schedule)."""
    if by is None:
        details["on_its_date"] = True
    election.move_to(target, by=by, audit_action="election.moved", **details)


def open_nominations(election: Election, *, by: Person | None) -> None:
    """Open nominations (also reopens them after closing, before voting)."""
    _move(election, Status.nominations_open, by)
    election.unopposed = False


def close_nominations(election: Election, *, by: Person | None) -> None:
    """Close nominations; notes when the seats can be filled unopposed."""
    _move(election, Status.nominations_closed, by)
    election.unopposed = 0 < len(election.standing) <= election.seats


def _grant_in_force() -> ColumnElement[bool]:
    return RoleGrant.id.in_(select(active_grants_query().subquery().c.id))


def _eligible(election: Election, what=Person) -> Select:
    """Service users with a grant in force today in the election's scope, as a query."""
    query = (select(what).join(RoleGrant, RoleGrant.person_id == Person.id)
             .where(_grant_in_force(),
                    RoleGrant.role == Role.service_user,
                    Person.organisation_id == election.organisation_id,
                    Person.status == "active"))
    if election.service_id is not None:
        query = query.where(RoleGrant.service_id == election.service_id)
    return query.distinct()


def eligible_people(election: Election) -> list[Person]:
    """Service users with a grant in force today in the election's scope."""
    return list(db.session.scalars(_eligible(election).order_by(Person.full_name, Person.id)))


def is_eligible(election: Election, person_id: int) -> bool:
    """Whether one person is among :func:`eligible_people` (one statement, at any size)."""
    return db.session.scalar(
        _eligible(election, Person.id).where(Person.id == person_id).limit(1)) is not None


def roll_preview(election: Election) -> list[tuple[Person, RollEntry | None]]:
    """The roll as it stands: before voting, who would be on it (with any ineligible marks)."""
    entries = {e.person_id: e for e in db.session.scalars(
        select(RollEntry).where(RollEntry.election_id == election.id))}
    if election.status in (Status.draft, Status.nominations_open, Status.nominations_closed):
        people = eligible_people(election)
        seen = {p.id for p in people}
        people += [e.person for e in entries.values() if e.person_id not in seen]
    else:
        people = sorted((e.person for e in entries.values()), key=lambda p: (p.full_name, p.id))
    return [(p, entries.get(p.id)) for p in people]


def _roll_still_open(election: Election) -> None:
    _not_published(election)
    if election.status not in (Status.draft, Status.nominations_open, Status.nominations_closed):
        raise IllegalMove("The roll was fixed when voting opened, so it cannot change now.")


def mark_ineligible(election: Election, person: Person, reason: str, *, by: Person) -> RollEntry:
    """Mark someone as not able to vote in this election, with the reason, before voting opens."""
    _roll_still_open(election)
    reason = reason.strip()
    if not reason:
        raise ElectionsError("Say why this person cannot vote.")
    if not is_eligible(election, person.id):
        raise NotOnRoll(f"{person.full_name} is not a service user here, so is not on the roll.")
    entry = roll_entry_of(election, person.id)
    if entry is None:
        entry = RollEntry(election_id=election.id, person_id=person.id)
        db.session.add(entry)
    entry.eligible = False
    entry.ineligible_reason = reason[:300]
    db.session.flush()
    audit.record("election.marked_ineligible", actor=by, obj=election, subject=person,
                 reason=reason[:300])
    return entry


def mark_eligible(election: Election, person: Person, *, by: Person) -> None:
    """Undo an ineligible mark before voting opens."""
    _roll_still_open(election)
    entry = roll_entry_of(election, person.id)
    if entry is None or entry.eligible:
        raise ElectionsError(f"{person.full_name} is not marked as unable to vote.")
    db.session.delete(entry)
    audit.record("election.marked_eligible", actor=by, obj=election, subject=person)


def _ready_for_a_vote(election: Election) -> None:
    if not election.can_move_to(Status.voting_open):
        raise IllegalMove(f"This election is at the stage “{election.status.label}”, so voting "
                          "cannot open.")
    standing = len(election.standing)
    if election.status is Status.nominations_closed and standing <= election.seats:
        raise IllegalMove(
            f"There {'is' if standing == 1 else 'are'} {standing} "
            f"candidate{'' if standing == 1 else 's'} for {election.seats} "
            f"seat{'' if election.seats == 1 else 's'}, so there is no vote: "
            + ("fill the seats unopposed." if standing else "reopen nominations or cancel."))


def make_ballot_box(election: Election, *, by: Person, key: bytes | None = None) -> str:
    """Make the election's ballot box key pair; returns the private key as card text.

    Only the public half is kept. The private half is returned once, to print on the ballot
    box key card, and is never stored: not in the database, the audit or the session. Making
    a new box before voting opens replaces the old one (a card that was lost is then useless).
    ``key`` fixes the private key, for the demo only.
    """
    _ready_for_a_vote(election)
    private = ballot_box.new_key(key)
    election.ballot_box_key = bytes(private.public_key)
    election.ballot_box_confirmed_at = None  # the new card's key must be typed back
    audit.record("election.ballot_box_made", actor=by, obj=election)
    return ballot_box.key_text(private)


def confirm_ballot_box(election: Election, key: str, *, by: Person) -> None:
    """Check the key typed back from the printed card, so voting may open (by hand now, or
    by itself on its date). A wrong key raises :class:`BadKey` and confirms nothing.

    Checking the key first means a card that was never printed cannot lock the votes away.
    """
    _ready_for_a_vote(election)
    if election.ballot_box_key is None:
        raise IllegalMove("Make and print the ballot box key card first: voting opens once "
                          "its key is typed back.")
    ballot_box.read_key(key, election.ballot_box_key)
    election.ballot_box_confirmed_at = utcnow()
    audit.record("election.ballot_box_confirmed", actor=by, obj=election)


def open_voting(election: Election, key: str | None = None, *, by: Person | None) -> int:
    """Open voting and fix the roll: everyone eligible now gets an entry. Returns the roll's
    size. With ``key``, the key from the card is confirmed first; without it (by hand after
    confirming, or on the voting date) the key must have been confirmed already.
    """
    if key is not None and by is not None:
        confirm_ballot_box(election, key, by=by)
    _ready_for_a_vote(election)
    if election.ballot_box_key is None:
        raise IllegalMove("Voting did not open: the ballot box key card has not been made. "
                          "Make and print the card, then type its key back.")
    if election.ballot_box_confirmed_at is None:
        raise IllegalMove("Voting did not open: the key on the ballot box key card has not "
                          "been typed back yet. Type it back, then open voting.")
    _move(election, Status.voting_open, by)
    marked = select(RollEntry.person_id).where(RollEntry.election_id == election.id)
    unmarked = _eligible(election, Person.id).where(Person.id.not_in(marked)).subquery()
    # One INSERT ... SELECT: the roll of a large organisation never passes through Python.
    db.session.execute(insert(RollEntry).from_select(
        ["election_id", "person_id"], select(literal(election.id), unmarked.c.id)))
    election.voting_opened_at = utcnow()
    db.session.flush()
    size = db.session.scalar(select(func.count()).where(RollEntry.election_id == election.id,
                                                        RollEntry.eligible.is_(True)))
    audit.record("election.roll_fixed", actor=by, obj=election, roll=size)
    return size


def close_voting(election: Election, *, by: Person | None) -> None:
    """Close voting: no more ballots on any channel (paper batches may still be entered)."""
    _move(election, Status.voting_closed, by)


def cancel_election(election: Election, reason: str, *, by: Person) -> None:
    """Cancel the election, saying why."""
    reason = reason.strip()
    if not reason:
        raise ElectionsError("Say why the election is cancelled.")
    _move(election, Status.cancelled, by, reason=reason[:300])
    election.cancelled_reason = reason


# --- the stages on their dates ------------------------------------------------------------


def due_move(election: Election, today: date) -> tuple[str, date] | None:
    """The move an election's dates call for today, with the date that calls for it.

    Nominations and voting open at the start of their day and close at the end of theirs.
    Nominations still open when voting is due close first. An unopposed election has no vote.
    """
    s = election.status
    if s is Status.draft and election.nominations_open_on and \
            election.nominations_open_on <= today:
        return "open_nominations", election.nominations_open_on
    if s is Status.nominations_open:
        if election.nominations_close_on and election.nominations_close_on < today:
            return "close_nominations", election.nominations_close_on
        if election.voting_opens_on and election.voting_opens_on <= today:
            return "close_nominations", election.voting_opens_on
    if s is Status.nominations_closed and not election.unopposed and \
            election.voting_opens_on and election.voting_opens_on <= today and not (
                election.voting_closes_on and election.voting_closes_on < today):
        return "open_voting", election.voting_opens_on
    if s is Status.voting_open and election.voting_closes_on and \
            election.voting_closes_on < today:
        return "close_voting", election.voting_closes_on
    return None


def elections_due(today: date) -> list[int]:
    """Ids of elections (in every organisation) whose dates call for a move today."""
    dated = ((Election.nominations_open_on <= today) | (Election.nominations_close_on < today)
             | (Election.voting_opens_on <= today) | (Election.voting_closes_on < today))
    candidates = db.session.scalars(select(Election).where(dated, Election.status.in_(
        [Status.draft, Status.nominations_open, Status.nominations_closed, Status.voting_open]))
        .order_by(Election.id))
    return [e.id for e in candidates if due_move(e, today)]


def move_on_date(election: Election, action: str) -> None:
    """Make a move the dates call for, as the schedule (audited like a manual move, with no
    actor). Voting opens only with a confirmed ballot box key; closing voting waits for casts
    in flight, as by hand."""
    {"open_nominations": open_nominations, "close_nominations": close_nominations,
     "open_voting": open_voting, "close_voting": close_voting}[action](election, by=None)


def election_runners(election: Election) -> list[Person]:
    """Who runs the election and hears when it could not move on its date: the managers of its
    service (or of the organisation, for an organisation-wide election) and whoever made it."""
    from involve.people.queries import people_with_role

    people = {p.id: p for p in people_with_role(Role.manager, election.service_id,
                                                organisation_id=election.organisation_id)}
    maker = db.session.get(Person, election.created_by_id) if election.created_by_id else None
    if maker is not None and maker.organisation_id == election.organisation_id:
        people.setdefault(maker.id, maker)
    return sorted(people.values(), key=lambda p: (p.full_name, p.id))


def election_helpers(election: Election) -> list[Person]:
    """Staff and managers of the election's service (of every service, for an
    organisation-wide one): they are asked to offer help to those who have not voted."""
    query = (select(Person).join(RoleGrant, RoleGrant.person_id == Person.id)
             .where(_grant_in_force(), RoleGrant.role.in_([Role.staff, Role.manager]),
                    Person.organisation_id == election.organisation_id,
                    Person.status == "active"))
    if election.service_id is not None:
        query = query.where((RoleGrant.service_id == election.service_id)
                            | RoleGrant.service_id.is_(None))
    return list(db.session.scalars(query.distinct().order_by(Person.full_name, Person.id)))


def services_held(person_ids: list[int], roles: list[Role]) -> dict[int, set[int | None]]:
    """Where each person holds one of ``roles`` today: service ids, None for the whole
    organisation (one statement)."""
    held: dict[int, set[int | None]] = {}
    if person_ids:
        for person_id, service_id in db.session.execute(
                select(RoleGrant.person_id, RoleGrant.service_id).where(
                    _grant_in_force(), RoleGrant.person_id.in_(person_ids),
                    RoleGrant.role.in_(roles))):
            held.setdefault(person_id, set()).add(service_id)
    return held


def mailable(person: Person) -> str | None:
    """The address to email a person at: only an account in use (set up, not deactivated, the
    person not gone) has an address they confirmed by setting it up."""
    user = person.user
    return user.email if user is not None and user.email and user.is_active else None


# --- nominations --------------------------------------------------------------------------


def _nominations_open(election: Election) -> None:
    _not_published(election)
    if election.status is not Status.nominations_open:
        raise IllegalMove("Nominations are not open for this election.")


def nominate(election: Election, person: Person, *, by: Person, consent: bool = False,
             on_behalf: bool = False) -> Candidate:
    """Nominate a service user. Nominating yourself is consent; staff may record consent for
    someone (``on_behalf``), which is audited."""
    _nominations_open(election)
    if not is_eligible(election, person.id):
        raise ElectionsError(f"{person.full_name} is not a service user here, so cannot stand.")
    exists = db.session.scalar(select(Candidate.id).where(Candidate.election_id == election.id,
                                                          Candidate.person_id == person.id))
    if exists:
        raise ElectionsError(f"{person.full_name} is already nominated.")
    candidate = Candidate(election=election, person_id=person.id, nominated_by_id=by.id)
    db.session.add(candidate)
    db.session.flush()
    audit.record("election.nominated", actor=by, obj=election, subject=person,
                 on_behalf=on_behalf)
    if person.id == by.id or consent:
        give_consent(candidate, by=by)
    return candidate


def give_consent(candidate: Candidate, *, by: Person) -> None:
    """Record the nominee's consent to stand (given by them, or recorded by staff for them)."""
    _nominations_open(candidate.election)
    if candidate.withdrawn_at:
        raise ElectionsError("This nomination was withdrawn.")
    if candidate.consented_at:
        raise ElectionsError(f"{candidate.person.full_name} has already agreed to stand.")
    candidate.consented_at = utcnow()
    candidate.consent_recorded_by_id = by.id
    on_behalf = by.id != candidate.person_id
    audit.record("election.consent_recorded_on_behalf" if on_behalf else "election.consented",
                 actor=by, obj=candidate.election, subject=candidate.person_id)


def update_candidate(candidate: Candidate, *, statement: str, easy_read: str, by: Person,
                     photo: bytes | None = None, photo_consent: bool = False,
                     photo_consent_note: str = "") -> None:
    """Change a candidate's statement, easy-read statement and photo (with consent)."""
    _must_be_editable(candidate.election)
    if candidate.withdrawn_at:
        raise ElectionsError("This candidate has withdrawn.")
    if len(statement) > STATEMENT_LIMIT:
        raise ElectionsError(f"The statement is too long: keep it under {STATEMENT_LIMIT} "
                             "characters.")
    if len(easy_read) > EASY_READ_LIMIT:
        raise ElectionsError(f"The easy-read statement is too long: keep it to a few short "
                             f"sentences (under {EASY_READ_LIMIT} characters).")
    candidate.statement = statement.strip()
    candidate.easy_read = easy_read.strip()
    if photo:
        if not photo_consent:
            raise ElectionsError("Tick the box to say the candidate agreed to their photo "
                                 "being shown.")
        try:
            candidate.photo = clean_photo(photo, max_pixels=600)
        except ImageRejected as error:
            raise ElectionsError(str(error)) from error
        candidate.has_photo = True
        candidate.photo_consent_at = utcnow()
        candidate.photo_consent_note = photo_consent_note.strip()[:300] or (
            "Agreed by the candidate" if by.id == candidate.person_id
            else f"Recorded by {by.full_name}")
    audit.record("election.candidate_updated", actor=by, obj=candidate.election,
                 subject=candidate.person_id, photo=bool(photo))


def withdraw(candidate: Candidate, *, by: Person) -> None:
    """Withdraw a candidate, which is possible until voting opens."""
    election = candidate.election
    _must_be_editable(election)
    if candidate.withdrawn_at:
        raise ElectionsError("This candidate has already withdrawn.")
    candidate.withdrawn_at = utcnow()
    if election.status is Status.nominations_closed:
        election.unopposed = 0 < len(election.standing) <= election.seats
    audit.record("election.withdrawn", actor=by, obj=election, subject=candidate.person_id)


# --- voting -------------------------------------------------------------------------------


def _voting_open(election: Election) -> None:
    if election.status in (Status.draft, Status.nominations_open, Status.nominations_closed):
        raise IllegalMove("Voting has not opened yet for this election.")
    if election.status is not Status.voting_open:
        raise IllegalMove("Voting has closed for this election.")


def roll_entry_for(election: Election, person: Person) -> RollEntry:
    """The person's entry on the roll, if they may vote; otherwise a clear error."""
    entry = roll_entry_of(election, person.id)
    return check_can_vote(election, entry, person.full_name)


def check_can_vote(election: Election, entry: RollEntry | None, name: str = "You") -> RollEntry:
    """Refuse, in plain words, anyone who may not vote now."""
    _voting_open(election)
    you = name == "You"
    if entry is None or entry.election_id != election.id:
        raise NotOnRoll(("You are" if you else f"{name} is") + " not on the roll for this "
                        "election, so cannot vote in it.")
    if not entry.eligible:
        raise NotOnRoll(("You" if you else name) + " cannot vote in this election: "
                        + entry.ineligible_reason)
    if entry.voted and entry.channel is Channel.paper:
        # A paper mark is staff's record, which may be a slip: say what the roll shows, and
        # how to put it right, rather than telling someone they voted.
        raise AlreadyVoted("The roll shows that " + ("you have" if you else f"{name} has")
                           + " already voted on paper. If that is not right, ask a member of "
                           "staff: they can put it right.")
    if entry.voted:
        raise AlreadyVoted(("You have" if you else f"{name} has") + " already voted in this "
                           "election. Each person votes once.")
    return entry


def choices_from_ticks(election: Election, ticked: Iterable[int]) -> tuple[int, ...]:
    """Check ticked candidates (block or approval) and return them, sorted."""
    ticked = list(ticked)
    standing = {c.id for c in election.standing}
    if not ticked:
        raise BadBallot("You have not chosen anyone. Choose a person, or choose “I do not "
                        "want to choose anyone”.")
    if len(set(ticked)) != len(ticked):
        raise BadBallot("The same person is ticked twice.")
    if not set(ticked) <= standing:
        raise BadBallot("That is not one of the candidates in this election.")
    if election.max_choices is not None and len(ticked) > election.max_choices:
        raise BadBallot(f"You ticked {len(ticked)} people. Choose up to {election.max_choices}.")
    return tuple(sorted(ticked))


def choices_from_ranks(election: Election, ranks: Mapping[int, int]) -> tuple[int, ...]:
    """Check a ranking given as ``{candidate id: 1, 2, 3 ...}`` and return ids in order.

    Ranks must start at 1 and go up one at a time: no two people share a rank, none is skipped.
    """
    standing = {c.id for c in election.standing}
    if not ranks:
        raise BadBallot("You have not chosen anyone. Give someone your 1st choice, or choose "
                        "“I do not want to choose anyone”.")
    if not set(ranks) <= standing:
        raise BadBallot("That is not one of the candidates in this election.")
    numbers = sorted(ranks.values())
    if len(set(numbers)) != len(numbers):
        raise BadBallot("Two people have the same number. Give each choice a different number.")
    if numbers != list(range(1, len(numbers) + 1)):
        raise BadBallot("The numbers must go 1, 2, 3 without a gap.")
    return tuple(sorted(ranks, key=ranks.__getitem__))


def choices_from_order(election: Election, order: Sequence[int]) -> tuple[int, ...]:
    """Check choices given as a list (ranked: first preference first)."""
    if election.method.ranked:
        if len(set(order)) != len(order):
            raise BadBallot("The same person is chosen twice. Give each person one number.")
        return choices_from_ranks(election, {cid: i + 1 for i, cid in enumerate(order)})
    return choices_from_ticks(election, order)


#: What the confirm page says for a blank ballot.
BLANK_WORDS = ("You do not want to choose anyone. Your vote is counted as blank: it shows you "
               "took part, but gives nobody a vote.")


def describe_choices(election: Election, choices: Sequence[int]) -> list[str]:
    """The choices in words, for the confirm page (a blank ballot chose nobody)."""
    if not choices:
        return [BLANK_WORDS]
    names = {c.id: c.person.full_name for c in election.standing}
    if election.method.ranked:
        return [f"{_ordinal(i + 1)} choice: {names[c]}" for i, c in enumerate(choices)]
    return [f"You chose {names[c]}" for c in choices]


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def cast_ballot(election: Election, entry_id: int, choices: Sequence[int], *,
                channel: Channel, helper: Person | None = None, blank: bool = False) -> str:
    """Cast a ballot: mark the roll entry voted and put the ballot in the box, together.

    A ``blank`` ballot ("I do not want to choose anyone") chooses nobody: it is sealed like any
    other, so nothing tells it apart until the count, where it is in the turnout only.

    The roll entry must change from not voted to voted in this statement, or nothing is cast
    (so two attempts at once cannot both succeed). The ballot keeps no trace of who cast it.
    Returns the receipt code, which is shown once and stored only as a hash.
    """
    _voting_open(election)
    if blank:
        if list(choices):
            raise BadBallot("A blank vote chooses nobody. Choose people, or choose nobody, "
                            "not both.")
        choices = ()
    else:
        choices = choices_from_order(election, list(choices))
    marked = db.session.execute(
        update(RollEntry)
        .where(RollEntry.id == entry_id, RollEntry.election_id == election.id,
               RollEntry.eligible.is_(True), RollEntry.voted.is_(False),
               _still_at(election, Status.voting_open))
        .values(voted=True, channel=channel)
        .execution_options(synchronize_session=False))
    if marked.rowcount != 1:
        if _status_now(election) is not Status.voting_open:
            raise IllegalMove("This vote was not cast: voting closed a moment ago. "
                              "Nothing was changed.")
        raise AlreadyVoted("This vote was not counted: the roll shows this person has already "
                           "voted, or cannot vote in this election. Nothing was changed.")
    receipt = new_code()
    db.session.add(SealedBallot(
        election_id=election.id, receipt_hash=receipt_hash(receipt),
        sealed=ballot_box.seal(election.ballot_box_key, choices,
                               ballot_box.width_for(len(election.standing)))))
    if helper is not None:
        # Help is recorded, the choice never is.
        audit.record("election.assisted_vote", actor=helper, obj=election,
                     subject=db.session.get(RollEntry, entry_id).person_id)
    db.session.flush()
    return receipt


def _still_at(election: Election, *statuses: Status) -> ColumnElement[bool]:
    """A guard for a write: the election is still at one of ``statuses``, checked in the
    writing statement itself.

    On PostgreSQL the election row is share-locked, so closing voting (an update of that row)
    waits for casts in flight, and a cast that comes after the close re-reads the row, finds it
    closed and writes nothing. SQLite has one writer at a time, so the check is always current.
    """
    return exists(select(Election.id).where(Election.id == election.id,
                                            Election.status.in_(statuses))
                  .with_for_update(read=True))


def _status_now(election: Election) -> Status:
    return Status(db.session.scalar(select(Election.status).where(Election.id == election.id)))


def start_assisted_vote(election: Election, person: Person, *, by: Person) -> RollEntry:
    """A member of staff opens the ballot for a named voter on a shared tablet (audited)."""
    entry = roll_entry_for(election, person)
    audit.record("election.assisted_ballot_opened", actor=by, obj=election, subject=person)
    return entry


def issue_voting_codes(election: Election, *, by: Person,
                       person_ids: Iterable[int] | None = None) -> list[tuple[RollEntry, str]]:
    """New voting codes for people on the roll who have not voted (old cards stop working).

    Returns each entry with its code, for printing once; only hashes are kept.
    """
    if election.status is not Status.voting_open:
        raise IllegalMove("Voting cards can be printed only while voting is open.")
    query = select(RollEntry).where(RollEntry.election_id == election.id,
                                    RollEntry.eligible.is_(True), RollEntry.voted.is_(False))
    if person_ids is not None:
        query = query.where(RollEntry.person_id.in_(list(person_ids)))
    entries = list(db.session.scalars(query))
    if not entries:
        raise ElectionsError("Everyone on the roll has already voted, so no cards are needed.")
    issued = []
    for entry in entries:
        code = new_code()
        entry.code_hash = code_hash(code)
        issued.append((entry, code))
    db.session.flush()
    audit.record("election.voting_codes_issued", actor=by, obj=election, cards=len(issued))
    issued.sort(key=lambda pair: (pair[0].person.full_name, pair[0].id))
    return issued


def entry_for_code(election: Election, code: str) -> RollEntry:
    """The roll entry a voting code belongs to, or a clear error (unknown, used, other election)."""
    if not normalise_code(code):
        raise BadCode("Type the code from your voting card.")
    entry = db.session.scalar(select(RollEntry).where(RollEntry.code_hash == code_hash(code)))
    if entry is None:
        raise BadCode("We do not know that code. Check it against your voting card.")
    if entry.election_id != election.id:
        raise BadCode("That code is for a different election.")
    _voting_open(election)
    if entry.voted:
        raise BadCode("That code has already been used to vote. Each code works once.")
    if not entry.eligible:
        raise NotOnRoll("That code cannot be used: " + entry.ineligible_reason)
    return entry


# --- paper --------------------------------------------------------------------------------


def mark_paper_voter(election: Election, person: Person, *, by: Person) -> None:
    """Mark on the roll that a person voted on paper (their paper goes in a batch later)."""
    entry = roll_entry_for(election, person)
    marked = db.session.execute(
        update(RollEntry).where(RollEntry.id == entry.id, RollEntry.voted.is_(False))
        .values(voted=True, channel=Channel.paper, paper_voter=True)
        .execution_options(synchronize_session=False))
    if marked.rowcount != 1:
        raise AlreadyVoted(f"{person.full_name} has already voted.")
    db.session.expire(entry)
    audit.record("election.paper_voter_marked", actor=by, obj=election, subject=person)


def unmark_paper_voter(election: Election, person: Person, reason: str, *,
                       by: Person) -> None:
    """Undo a "voted on paper" mark made by mistake, saying why (audited); possible until the
    count. The person can then vote again while voting is open."""
    _not_published(election)
    if election.status not in (Status.voting_open, Status.voting_closed):
        raise IllegalMove("A paper mark can be undone only until the votes are counted.")
    reason = reason.strip()
    if not reason:
        raise ElectionsError("Say why the paper mark is being undone.")
    entry = roll_entry_of(election, person.id)
    if entry is None:
        raise NotOnRoll(f"{person.full_name} is not on the roll for this election.")
    undone = db.session.execute(
        update(RollEntry).where(RollEntry.id == entry.id, RollEntry.voted.is_(True),
                                RollEntry.channel == Channel.paper,
                                _still_at(election, Status.voting_open, Status.voting_closed))
        .values(voted=False, channel=None, paper_voter=False)
        .execution_options(synchronize_session=False))
    if undone.rowcount != 1:
        if _status_now(election) not in (Status.voting_open, Status.voting_closed):
            raise IllegalMove("The votes are being counted, so the paper mark stays.")
        raise ElectionsError(f"{person.full_name} is not marked as voted on paper, so there is "
                             "nothing to undo.")
    db.session.expire(entry)
    audit.record("election.paper_voter_unmarked", actor=by, obj=election, subject=person,
                 reason=reason[:300])


@dataclass
class PaperCheck:
    """Whether the paper voters marked on the roll match the papers entered, in words."""

    voters: int
    entered: int
    spoilt: int
    blank: int
    batches: list[PaperBatch]
    problems: list[str]
    fixes: list[str]

    @property
    def matches(self) -> bool:
        return not self.problems


def _people(n: int) -> str:
    return f"{n} {'person' if n == 1 else 'people'}"


def _papers(n: int) -> str:
    return f"{n} paper{'' if n == 1 else 's'}"


def paper_check(election: Election) -> PaperCheck:
    """Reconcile paper voters on the roll with papers entered, saying what does not match and
    how to put it right. The count waits until they match."""
    voters, entered = paper_figures(election)
    batches = list(db.session.scalars(select(PaperBatch).where(
        PaperBatch.election_id == election.id).order_by(PaperBatch.entered_at, PaperBatch.id)))
    spoilt = sum(b.spoilt_count for b in batches)
    blank = sum(b.blank_count for b in batches)
    problems, fixes = [], []
    if voters > entered:
        problems.append(f"{_people(voters)} are marked on the roll as voting on paper, but only "
                        f"{_papers(entered)} {'is' if entered == 1 else 'are'} entered: "
                        f"{_papers(voters - entered)} {'is' if voters - entered == 1 else 'are'} "
                        "missing.")
        fixes.append("Find the missing papers and enter them in a batch. Blank and spoilt "
                     "papers count too: enter them as blank or spoilt.")
        fixes.append("If someone was marked as voting on paper by mistake, undo their mark on "
                     "the roll, saying why.")
    elif entered > voters:
        problems.append(f"{_papers(entered)} {'is' if entered == 1 else 'are'} entered, but only "
                        f"{_people(voters)} {'is' if voters == 1 else 'are'} marked on the roll "
                        f"as voting on paper: {_people(entered - voters)} "
                        f"{'is' if entered - voters == 1 else 'are'} not marked.")
        fixes.append("Mark on the roll each person who handed in a paper (press “Voted on "
                     "paper” beside their name).")
    return PaperCheck(voters, entered, spoilt, blank, batches, problems, fixes)


def paper_figures(election: Election) -> tuple[int, int]:
    """(paper voters marked on the roll, paper ballots entered so far)."""
    voters = db.session.scalar(select(func.count()).where(
        RollEntry.election_id == election.id, RollEntry.channel == Channel.paper))
    entered = db.session.scalar(select(func.coalesce(func.sum(PaperBatch.ballot_count), 0))
                                .where(PaperBatch.election_id == election.id))
    return voters or 0, entered or 0


def parse_paper_lines(election: Election, text: str) -> list[tuple[int, ...]]:
    """Read typed paper ballots, one a line, candidates by their number on the paper."""
    standing = election.listed
    ballots = []
    for n, line in enumerate(text.splitlines(), start=1):
        parts = line.replace(",", " ").split()
        if not parts:
            continue
        try:
            numbers = [int(p) for p in parts]
        except ValueError:
            raise BadBallot(f"Line {n}: use candidate numbers only, like 2 1 3.") from None
        if any(not 1 <= x <= len(standing) for x in numbers):
            raise BadBallot(f"Line {n}: candidates are numbered 1 to {len(standing)}.")
        try:
            ballots.append(choices_from_order(election, [standing[x - 1].id for x in numbers]))
        except BadBallot as error:
            raise BadBallot(f"Line {n}: {error}") from None
    return ballots


def enter_paper_batch(election: Election, declared: int, text: str, *, by: Person,
                      spoilt: int = 0, blank: int = 0) -> PaperBatch:
    """Enter a batch of paper ballots; it must hold the number declared, and paper ballots may
    never outnumber the paper voters marked on the roll.

    ``declared`` counts every paper: those typed (one a line), the ``blank`` ones (nobody
    chosen: sealed as empty ballots, so they look like the rest) and the ``spoilt`` ones
    (unreadable or against the rules: counted in the turnout, never in the count)."""
    if spoilt < 0 or blank < 0:
        raise BadBallot("The numbers of spoilt and blank papers cannot be below 0.")
    if election.status not in (Status.voting_open, Status.voting_closed):
        _not_published(election)
        raise IllegalMove("Paper ballots can be entered only while voting is open or just "
                          "after it closes, before the count.")
    ballots = parse_paper_lines(election, text)
    if not db.session.scalar(select(_still_at(election, Status.voting_open,
                                              Status.voting_closed))):
        raise IllegalMove("Paper ballots can no longer be entered: the votes are being counted.")
    papers = len(ballots) + blank + spoilt
    if papers != declared:
        raise PaperMismatch(
            f"The batch does not add up: you said {declared} papers but typed {len(ballots)}"
            + (f", with {blank} blank" if blank else "")
            + (f" and {spoilt} spoilt" if spoilt else "")
            + f", which makes {papers}. Nothing was saved; check the papers and try again.")
    if papers == 0:
        raise PaperMismatch("The batch is empty. Count the papers and type them.")
    voters, entered = paper_figures(election)
    if entered + papers > voters:
        raise PaperMismatch(
            f"The batch does not reconcile: {voters} paper voter{'' if voters == 1 else 's'} "
            f"marked on the roll, {entered} paper{'' if entered == 1 else 's'} already "
            f"entered, and this batch has {papers}. Mark the paper voters first. "
            "Nothing was saved.")
    batch = PaperBatch(election_id=election.id, ballot_count=papers, spoilt_count=spoilt,
                       blank_count=blank, entered_by_id=by.id)
    db.session.add(batch)
    ballots += [()] * blank
    secrets.SystemRandom().shuffle(ballots)
    width = ballot_box.width_for(len(election.standing))
    for choices in ballots:
        db.session.add(SealedBallot(election_id=election.id,
                                    sealed=ballot_box.seal(election.ballot_box_key, choices,
                                                           width)))
    db.session.flush()
    audit.record("election.paper_batch_entered", actor=by, obj=election, papers=papers,
                 spoilt=spoilt, blank=blank)
    return batch


# --- the count and results ----------------------------------------------------------------


def turnout_figures(election: Election) -> dict[str, object]:
    """Counts only: the roll, how many voted, and how many by each channel."""
    rows = db.session.execute(
        select(RollEntry.channel, func.count()).where(
            RollEntry.election_id == election.id, RollEntry.eligible.is_(True),
            RollEntry.voted.is_(True)).group_by(RollEntry.channel)).all()
    by_channel = {c.value: 0 for c in Channel}
    for channel, n in rows:
        by_channel[Channel(channel).value] = n
    roll = db.session.scalar(select(func.count()).where(RollEntry.election_id == election.id,
                                                        RollEntry.eligible.is_(True)))
    return {"roll": roll or 0, "voted": sum(by_channel.values()), "by_channel": by_channel}


def count_votes(election: Election, key: str = "", *, by: Person,
                seed: int | None = None) -> None:
    """Open the ballot box with the key from the card, count, and keep the whole result.

    The sealed ballots (online and paper) are opened in memory, shuffled, counted and written
    back as opened ballots in that random order, with random ids and nothing else; the receipts
    of counted ballots are written apart, in an order of their own; the sealed ballots are
    deleted. Call :func:`reclaim_sealed_space` after the commit. A wrong key changes nothing.
    An unopposed election is settled without a key.
    """
    standing = election.standing
    if election.status is Status.nominations_closed:
        if not election.unopposed or not standing:
            raise IllegalMove("Only an election with no more candidates than seats can be "
                              "settled before a vote.")
        _move(election, Status.counted, by, unopposed=True)
        election.result = {
            "method": election.method.value, "unopposed": True, "seats": election.seats,
            "candidates": [c.person.full_name for c in standing],
            "candidate_ids": [c.id for c in standing], "quota": None, "stages": [],
            "elected": [c.person.full_name for c in standing],
            "elected_candidate_ids": [c.id for c in standing], "seed": None,
            "turnout": {"roll": 0, "voted": 0, "by_channel": {}},
        }
        election.counted_at = utcnow()
        return
    if election.status is not Status.voting_closed:
        raise IllegalMove("Votes are counted once voting has closed.")
    # One count at a time, and no paper batch slips in while the box is open.
    db.session.flush()
    db.session.refresh(election, with_for_update=True)
    if election.status is not Status.voting_closed:
        raise IllegalMove("Votes are counted once voting has closed.")
    check = paper_check(election)
    if not check.matches:
        raise PaperMismatch("The paper ballots do not match the roll yet, so the votes cannot "
                            "be counted. " + " ".join(check.problems + check.fixes))
    private = ballot_box.read_key(key, election.ballot_box_key or b"")
    rows = db.session.execute(select(SealedBallot.sealed, SealedBallot.receipt_hash)
                              .where(SealedBallot.election_id == election.id)).all()
    opened = list(ballot_box.open_all(private, (row.sealed for row in rows)))
    receipts = [row.receipt_hash for row in rows if row.receipt_hash]
    del rows
    shuffle = secrets.SystemRandom().shuffle
    shuffle(opened)
    shuffle(receipts)
    index = {c.id: i for i, c in enumerate(standing)}
    piles = Counter(tuple(index[c] for c in choices if c in index)
                    for choices in opened if choices)
    blank = len(opened) - sum(piles.values())
    if not piles:
        raise ElectionsError(("Every ballot was blank" if blank else "No ballots were cast")
                             + ", so there is nothing to count. You can cancel the election, "
                             "saying why.")
    try:
        result = count_election(election.method.value, [c.person.full_name for c in standing],
                                [(n, ranking) for ranking, n in piles.items()],
                                election.seats, seed, title=election.title)
    except ValueError as error:
        raise ElectionsError(f"The votes could not be counted: {error}.") from error
    data = result.to_dict()
    data["unopposed"] = False
    data["candidate_ids"] = [c.id for c in standing]
    data["elected_candidate_ids"] = [standing[i].id for i in result.elected]
    data["turnout"] = turnout_figures(election)
    # Blank and spoilt papers are in the turnout, never in the count.
    data["turnout"]["blank"] = blank
    data["turnout"]["spoilt"] = check.spoilt
    _keep_opened(election, opened, receipts)
    _move(election, Status.counted, by, seed=result.seed)
    election.result = data
    election.count_seed = result.seed
    election.counted_at = utcnow()


def _keep_opened(election: Election, opened: list[tuple[int, ...]],
                 receipts: list[str]) -> None:
    """Write the opened ballots and the counted receipts, each in its own shuffled order, and
    delete the sealed ballots."""
    if opened:
        db.session.execute(insert(Ballot), [
            {"id": secrets.token_hex(16), "election_id": election.id, "choices": list(c)}
            for c in opened])
    if receipts:
        db.session.execute(insert(CountedReceipt), [
            {"receipt_hash": h, "election_id": election.id} for h in receipts])
    db.session.execute(delete(SealedBallot).where(SealedBallot.election_id == election.id)
                       .execution_options(synchronize_session=False))


def reclaim_sealed_space() -> None:
    """Reclaim the space the deleted sealed ballots used, so no trace of them stays on disk.

    Runs outside any transaction, after the count is committed: SQLite rebuilds the database
    file (VACUUM) and empties its write-ahead log; PostgreSQL rewrites the sealed ballot table
    (VACUUM FULL), so the old pages, with their transaction ids, are gone.
    """
    with db.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("VACUUM")
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            connection.execute(text(f"VACUUM FULL {SealedBallot.__tablename__}"))


def publish_results(election: Election, *, by: Person, on: date | None = None) -> list[Person]:
    """Publish the results and start each elected person's ambassador term."""
    from involve.people.models import AmbassadorTerm

    _move(election, Status.results_published, by)
    election.results_published_at = utcnow()
    starts = on or clock.today()
    ends = _add_months(starts, election.term_months) - timedelta(days=1)
    elected = election.elected_people
    for person in elected:
        db.session.add(AmbassadorTerm(person_id=person.id, service_id=election.service_id,
                                      starts_on=starts, ends_on=ends, election_id=election.id))
    db.session.flush()
    return elected


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def receipt_counted(election: Election, code: str) -> bool:
    """Whether a ballot with this receipt code is in the count."""
    return db.session.scalar(select(CountedReceipt.receipt_hash).where(
        CountedReceipt.election_id == election.id,
        CountedReceipt.receipt_hash == receipt_hash(code))) is not None


def published_receipt_marks(election: Election) -> list[str]:
    """The short marks of every counted online ballot's receipt, sorted (so in no order of
    casting); they are kept apart from the opened ballots and lead to none of them."""
    return sorted(receipt_mark(h) for h in db.session.scalars(
        select(CountedReceipt.receipt_hash).where(CountedReceipt.election_id == election.id)))


def ballots_in_random_order(election: Election) -> list[Ballot]:
    """The ballots, shuffled, for export or inspection."""
    ballots = list(db.session.scalars(select(Ballot).where(Ballot.election_id == election.id)))
    secrets.SystemRandom().shuffle(ballots)
    return ballots


def notice_recipients(election: Election) -> list[Person]:
    """Who hears about the results: the electorate, their families, and the board."""
    from involve.people.models import FamilyLink

    voters = select(RollEntry.person_id).where(RollEntry.election_id == election.id)
    if election.unopposed:
        voters = _eligible(election, Person.id)
    families = select(FamilyLink.family_person_id).where(FamilyLink.service_user_id.in_(voters))
    board = select(RoleGrant.person_id).where(
        _grant_in_force(), RoleGrant.role == Role.board)
    ids = select(Person.id).where(Person.id.in_(voters) | Person.id.in_(families)
                                  | Person.id.in_(board))
    return list(db.session.scalars(select(Person).where(
        Person.id.in_(ids), Person.organisation_id == election.organisation_id)
        .order_by(Person.id)))
