"""Elections, candidates, the roll of voters, voting codes, paper batches and secret ballots.

Who voted (``RollEntry``) and what was voted live apart. Until the count a ballot is a
``SealedBallot`` nobody can read: sealed with the election's public key, whose private half is
only on the printed ballot box key card. At the count the sealed ballots are opened, shuffled and
kept as ``Ballot`` rows (random id, choices, nothing else); their receipts go, shuffled apart, to
``CountedReceipt``; the sealed ballots are deleted and their space reclaimed.
"""

from __future__ import annotations

import enum
import secrets
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from involve.extensions import UTCDateTime, db, db_enum, utcnow
from involve.kernel.errors import DomainError, IllegalMove  # noqa: F401 (IllegalMove: for services)
from involve.kernel.states import Labelled, Stateful, StateMachine
from involve.people.models import Person, Service

ElectionsError = DomainError  # the kernel's refusal, by this domain's name


class Status(Labelled):
    """The stages of an election's life."""

    draft = "draft", "Being set up"
    nominations_open = "nominations_open", "Nominations open"
    nominations_closed = "nominations_closed", "Nominations closed"
    voting_open = "voting_open", "Voting open"
    voting_closed = "voting_closed", "Voting closed"
    counted = "counted", "Counted"
    results_published = "results_published", "Results published"
    cancelled = "cancelled", "Cancelled"

#: The moves an election may make, from each stage.
MOVES: dict[Status, set[Status]] = {
    Status.draft: {Status.nominations_open, Status.cancelled},
    Status.nominations_open: {Status.nominations_closed, Status.cancelled},
    Status.nominations_closed: {Status.nominations_open, Status.voting_open, Status.counted,
                                Status.cancelled},
    Status.voting_open: {Status.voting_closed, Status.cancelled},
    Status.voting_closed: {Status.counted, Status.cancelled},
    Status.counted: {Status.results_published},
    Status.results_published: set(),
    Status.cancelled: set(),
}

MACHINE = StateMachine(MOVES, explain=lambda current, target: (
    f"This election is at the stage “{current.label}”, so it cannot move to “{target.label}”."))

#: Stages in which the election's details and candidates may still change.
EDITABLE = {Status.draft, Status.nominations_open, Status.nominations_closed}


class Method(enum.StrEnum):
    """How people vote and how the votes are counted."""

    block = "block"
    approval = "approval"
    stv = "stv"

    @property
    def label(self) -> str:
        return {
            "block": "Choose up to the number of seats (block vote)",
            "approval": "Choose as many as you like (approval vote)",
            "stv": "Put candidates in order, 1st, 2nd, 3rd (single transferable vote)",
        }[self.value]

    def plain(self, seats: int) -> str:
        """How to vote, in words a voter understands (no method names)."""
        if self is Method.block:
            return (f"Choose up to {seats} {'person' if seats == 1 else 'people'}."
                    if seats > 1 else "Choose 1 person.")
        if self is Method.approval:
            return "Choose as many people as you like."
        return "Put people in order: your 1st choice, your 2nd choice, and so on."

    @property
    def ranked(self) -> bool:
        return self is Method.stv


class BallotOrder(enum.StrEnum):
    """The order of the names on a ballot, as the election chooses (and the ballot says)."""

    alphabetical = "alphabetical"
    shuffled = "shuffled"

    @property
    def label(self) -> str:
        return {"alphabetical": "In alphabetical order of first name",
                "shuffled": "In a different random order on each ballot online (paper "
                            "ballots keep one printed order)"}[self.value]


class Channel(enum.StrEnum):
    """How a person on the roll voted."""

    online = "online"
    code = "code"
    assisted = "assisted"
    paper = "paper"

    @property
    def label(self) -> str:
        return {"online": "Online, signed in", "code": "With a voting code",
                "assisted": "With help from staff", "paper": "On paper"}[self.value]


class Election(Stateful, db.Model):
    """An ambassador election for one service, or for the whole organisation (no service)."""

    __tablename__ = "election"
    MACHINE = MACHINE
    __table_args__ = (
        CheckConstraint("seats >= 1", name="at_least_one_seat"),
        CheckConstraint("term_months >= 1", name="term_at_least_a_month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    seats: Mapped[int] = mapped_column(default=1)
    term_months: Mapped[int] = mapped_column(default=12)
    method: Mapped[Method] = mapped_column(db_enum(Method, "election_method"), default=Method.block)
    status: Mapped[Status] = mapped_column(db_enum(Status, "election_status"), default=Status.draft)
    ballot_order: Mapped[BallotOrder] = mapped_column(
        db_enum(BallotOrder, "election_ballot_order"), default=BallotOrder.alphabetical,
        server_default=BallotOrder.alphabetical.value)
    nominations_open_on: Mapped[date | None]
    nominations_close_on: Mapped[date | None]
    voting_opens_on: Mapped[date | None]
    voting_closes_on: Mapped[date | None]
    cancelled_reason: Mapped[str] = mapped_column(Text, default="")
    unopposed: Mapped[bool] = mapped_column(default=False)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    count_seed: Mapped[int | None] = mapped_column(BigInteger)
    counted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voting_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    results_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The public half of the ballot box key; the private half is only on the printed card.
    ballot_box_key: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    # When the manager typed the card's key back: voting may then open, by hand or on its date.
    ballot_box_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    service: Mapped[Service | None] = relationship()
    candidates: Mapped[list[Candidate]] = relationship(back_populates="election",
                                                       order_by="Candidate.id")

    @property
    def scope_service_id(self) -> int | None:
        return self.service_id

    @property
    def scope_label(self) -> str:
        return self.service.name if self.service else "Whole organisation"

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE

    @property
    def standing(self) -> list[Candidate]:
        """Candidates who consented and have not withdrawn, in ballot order."""
        return [c for c in self.candidates if c.is_standing]

    @property
    def listed(self) -> list[Candidate]:
        """Standing candidates in the election's printed order, numbered from 1 on paper:
        alphabetical, or (for shuffled ballots) the order of nomination."""
        if self.ballot_order is BallotOrder.alphabetical:
            return sorted(self.standing, key=lambda c: (c.person.full_name.casefold(), c.id))
        return self.standing

    @property
    def results_visible(self) -> bool:
        """Results exist only once voting has closed and the count has run."""
        return self.status in (Status.counted, Status.results_published)

    @property
    def max_choices(self) -> int | None:
        """How many a voter may choose: the seats (block), anyone (approval), or rank all."""
        if self.method is Method.block:
            return self.seats
        return None

    @property
    def elected_candidates(self) -> list[Candidate]:
        if not self.result:
            return []
        by_id = {c.id: c for c in self.candidates}
        return [by_id[i] for i in self.result.get("elected_candidate_ids", []) if i in by_id]

    @property
    def elected_people(self) -> list[Person]:
        """The people elected, in order of election (empty until counted)."""
        return [c.person for c in self.elected_candidates]

    @property
    def turnout(self) -> dict[str, Any]:
        """Turnout kept with the count: roll size, voters, and voters by channel (counts only)."""
        return (self.result or {}).get("turnout", {})

    @property
    def turnout_percent(self) -> Decimal | None:
        t = self.turnout
        if not t or not t.get("roll"):
            return None
        return (Decimal(t["voted"]) * 100 / Decimal(t["roll"])).quantize(Decimal("0.1"))


class Candidate(db.Model):
    """A person nominated to stand; they stand only once they (or staff for them) consent."""

    __tablename__ = "election_candidate"

    @property
    def organisation_id(self) -> int:
        """The organisation this belongs to (the organisation boundary)."""
        return self.election.organisation_id
    __table_args__ = (UniqueConstraint("election_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("election.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    nominated_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    nominated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    consented_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    statement: Mapped[str] = mapped_column(Text, default="")
    easy_read: Mapped[str] = mapped_column(Text, default="")
    photo: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    has_photo: Mapped[bool] = mapped_column(default=False)
    photo_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    photo_consent_note: Mapped[str] = mapped_column(String(300), default="")

    election: Mapped[Election] = relationship(back_populates="candidates")
    person: Mapped[Person] = relationship(foreign_keys=[person_id])
    nominated_by: Mapped[Person | None] = relationship(foreign_keys=[nominated_by_id])
    consent_recorded_by: Mapped[Person | None] = relationship(
        foreign_keys=[consent_recorded_by_id])

    @property
    def scope_service_id(self) -> int | None:
        return self.election.service_id

    @property
    def is_standing(self) -> bool:
        return self.consented_at is not None and self.withdrawn_at is None

    @property
    def state_label(self) -> str:
        if self.withdrawn_at:
            return "Withdrawn"
        return "Standing" if self.consented_at else "Waiting for consent"


class RollEntry(db.Model):
    """One person on an election's roll: whether they may vote, whether and how they did.

    It never says what they voted for: nothing joins it to a sealed or an opened ballot.
    """

    __tablename__ = "election_roll_entry"

    @property
    def organisation_id(self) -> int:
        """The organisation this belongs to (the organisation boundary)."""
        return self.election.organisation_id
    __table_args__ = (
        UniqueConstraint("election_id", "person_id"),
        CheckConstraint("eligible OR ineligible_reason <> ''", name="ineligible_has_reason"),
        CheckConstraint("NOT voted OR channel IS NOT NULL", name="voted_has_channel"),
        Index("ix_roll_entry_election_voted", "election_id", "voted"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("election.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    eligible: Mapped[bool] = mapped_column(default=True)
    ineligible_reason: Mapped[str] = mapped_column(String(300), default="")
    voted: Mapped[bool] = mapped_column(default=False)
    channel: Mapped[Channel | None] = mapped_column(db_enum(Channel, "roll_channel"))
    paper_voter: Mapped[bool] = mapped_column(default=False)
    # Only a keyed hash of the voting code is kept; the code itself is printed once.
    code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)

    election: Mapped[Election] = relationship()
    person: Mapped[Person] = relationship()

    @property
    def scope_service_id(self) -> int | None:
        return self.election.service_id


def new_ballot_id() -> str:
    """A random ballot id, so the order of casting cannot be read back from the keys."""
    return secrets.token_hex(16)


class SealedBallot(db.Model):
    """A ballot as cast: sealed with the election's public key, unreadable without the card.

    It lives only until the count. ``receipt_hash`` is the keyed hash of the voter's receipt
    (paper ballots have none).
    """

    __tablename__ = "election_sealed_ballot"

    @property
    def organisation_id(self) -> int:
        """The organisation this belongs to (the organisation boundary)."""
        return db.session.get(Election, self.election_id).organisation_id

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_ballot_id)
    election_id: Mapped[int] = mapped_column(ForeignKey("election.id"), index=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    receipt_hash: Mapped[str | None] = mapped_column(String(64), unique=True)


class Ballot(db.Model):
    """An opened ballot, kept after the count: its choices and nothing else.

    Written in random order in the count's one transaction, with a random id: nothing in it
    says whose it is, when it was cast, or which receipt it had. ``choices`` holds candidate
    ids: in preference order for ranked methods, sorted otherwise.
    """

    __tablename__ = "election_ballot"

    @property
    def organisation_id(self) -> int:
        """The organisation this belongs to (the organisation boundary)."""
        return db.session.get(Election, self.election_id).organisation_id

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_ballot_id)
    election_id: Mapped[int] = mapped_column(ForeignKey("election.id"), index=True)
    choices: Mapped[list[int]] = mapped_column(JSON)


class CountedReceipt(db.Model):
    """The keyed hash of a receipt whose ballot was counted: proof of inclusion, nothing more.

    Written at the count in its own random order, apart from the opened ballots.
    """

    __tablename__ = "election_counted_receipt"

    @property
    def organisation_id(self) -> int:
        """The organisation this belongs to (the organisation boundary)."""
        return db.session.get(Election, self.election_id).organisation_id

    receipt_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("election.id"), index=True)


class PaperBatch(db.Model):
    """A batch of paper ballots typed in by a manager; it must reconcile with the roll.

    ``ballot_count`` is every paper in the batch: those with choices, the blank ones (sealed
    as empty ballots, so they look like any other in the box) and the spoilt ones (not sealed:
    they count in the turnout, never in the count).
    """

    __tablename__ = "election_paper_batch"

    @property
    def organisation_id(self) -> int:
        """The organisation this belongs to (the organisation boundary)."""
        return db.session.get(Election, self.election_id).organisation_id
    __table_args__ = (
        CheckConstraint("ballot_count >= 1", name="at_least_one_ballot"),
        CheckConstraint("spoilt_count >= 0 AND blank_count >= 0 "
                        "AND spoilt_count + blank_count <= ballot_count",
                        name="spoilt_and_blank_within_batch"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("election.id"), index=True)
    ballot_count: Mapped[int]
    spoilt_count: Mapped[int] = mapped_column(default=0, server_default="0")
    blank_count: Mapped[int] = mapped_column(default=0, server_default="0")
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))

    entered_by: Mapped[Person | None] = relationship()
