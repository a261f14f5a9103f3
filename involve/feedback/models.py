"""Ambassador feedback, comments, board answers, briefings, and feedback from everyone."""

from __future__ import annotations

import enum
import secrets
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from involve.extensions import UTCDateTime, db, db_enum, utcnow
from involve.kernel import clock
from involve.kernel.errors import DomainError, IllegalMove  # noqa: F401 (IllegalMove: for services)
from involve.kernel.states import Labelled, Stateful, StateMachine
from involve.people.models import Organisation, Person, Service

FeedbackError = DomainError  # the kernel's refusal, by this domain's name


class FeedbackKind(enum.StrEnum):
    """What ambassadors carry to the board."""

    compliment = "compliment"
    suggestion = "suggestion"
    concern = "concern"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class FeedbackStatus(Labelled):
    """Where an ambassador's feedback is on its way through the board."""

    received = "received", "Received"
    under_review = "under_review", "Under review"
    answered = "answered", "Answered"
    closed = "closed", "Closed"


# The board's moves: from each state, the states it may go to. Every item gets an answer
# before it is closed: people are waiting to hear back.
FEEDBACK_MOVES = {
    FeedbackStatus.received: {FeedbackStatus.under_review, FeedbackStatus.answered},
    FeedbackStatus.under_review: {FeedbackStatus.answered},
    FeedbackStatus.answered: {FeedbackStatus.closed, FeedbackStatus.answered},
    FeedbackStatus.closed: set(),
}


def _refused_move(current: FeedbackStatus, target: FeedbackStatus) -> str:
    if current == FeedbackStatus.closed:
        return "This feedback is closed, so it cannot be changed or answered."
    if target == FeedbackStatus.closed and current != FeedbackStatus.answered:
        return ("Answer this feedback before closing it: the ambassador and the people they "
                "speak for are waiting to hear back.")
    return f"Feedback that is {current.label.lower()} cannot be moved to {target.label.lower()}."


def _closed_at(item: AmbassadorFeedback, current: FeedbackStatus,
               target: FeedbackStatus) -> None:
    if target == FeedbackStatus.closed:
        item.closed_at = utcnow()


MACHINE = StateMachine(FEEDBACK_MOVES, explain=_refused_move, after=_closed_at)


class SubmissionKind(enum.StrEnum):
    """What someone tells us through the form for everyone."""

    compliment = "compliment"
    suggestion = "suggestion"
    concern = "concern"
    complaint = "complaint"
    speak_up = "speak_up"

    @property
    def label(self) -> str:
        return {"compliment": "Compliment", "suggestion": "Suggestion", "concern": "Concern",
                "complaint": "Complaint",
                "speak_up": "Freedom to speak up (staff)"}[self.value]

    @property
    def noun(self) -> str:
        """The kind as it reads inside a sentence ("We have your complaint")."""
        return "freedom to speak up concern" if self == SubmissionKind.speak_up \
            else self.value


class SubmissionStatus(enum.StrEnum):
    """Where a submission is in the provider's procedure."""

    received = "received"
    acknowledged = "acknowledged"
    answered = "answered"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class ComplaintOutcome(enum.StrEnum):
    """What the answer to a complaint found."""

    upheld = "upheld"
    partly_upheld = "partly_upheld"
    not_upheld = "not_upheld"
    resolved = "resolved"
    not_applicable = "not_applicable"

    @property
    def label(self) -> str:
        return {"upheld": "Upheld", "partly_upheld": "Partly upheld",
                "not_upheld": "Not upheld", "resolved": "Resolved early",
                "not_applicable": "Not a complaint"}[self.value]


class StepKind(enum.StrEnum):
    """A later step in a submission's life: reopened, or its answer deadline extended."""

    reopened = "reopened"
    extended = "extended"

    @property
    def label(self) -> str:
        return {"reopened": "Reopened", "extended": "Deadline extended"}[self.value]


class Theme(db.Model):
    """A theme feedback is filed under (food, activities, care ...); the organisation's list."""

    __tablename__ = "feedback_theme"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    name: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(default=0)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship()

    @property
    def scope_service_id(self) -> None:
        return None


class AmbassadorFeedback(Stateful, db.Model):
    """What people told an ambassador, carried to the board, and the board's answer."""

    __tablename__ = "ambassador_feedback"
    MACHINE = MACHINE

    @property
    def organisation_id(self) -> int:
        """The organisation this belongs to (the organisation boundary)."""
        return self.service.organisation_id
    __table_args__ = (
        CheckConstraint("people_count >= 1", name="someone_said_it"),
        CheckConstraint("answered_at IS NULL OR answered_at >= received_at",
                        name="answered_after_received"),
        Index("ix_ambassador_feedback_service_status", "service_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    theme_id: Mapped[int] = mapped_column(ForeignKey("feedback_theme.id"))
    kind: Mapped[FeedbackKind] = mapped_column(db_enum(FeedbackKind, "feedback_kind"))
    what_was_said: Mapped[str] = mapped_column(Text)
    people_count: Mapped[int] = mapped_column(default=1)
    may_name: Mapped[bool] = mapped_column(default=False)
    said_by: Mapped[str] = mapped_column(String(300), default="")
    safeguarding: Mapped[bool] = mapped_column(default=False)
    ambassador_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    briefing_id: Mapped[int | None] = mapped_column(ForeignKey("briefing.id"))
    status: Mapped[FeedbackStatus] = mapped_column(db_enum(FeedbackStatus, "feedback_status"),
                                                   default=FeedbackStatus.received)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    service: Mapped[Service] = relationship()
    theme: Mapped[Theme] = relationship()
    ambassador: Mapped[Person] = relationship(foreign_keys=[ambassador_id])
    recorded_by: Mapped[Person] = relationship(foreign_keys=[recorded_by_id])
    answered_by: Mapped[Person | None] = relationship(foreign_keys=[answered_by_id])
    briefing: Mapped[Briefing | None] = relationship(back_populates="said_back")
    comments: Mapped[list[FeedbackComment]] = relationship(
        back_populates="feedback", order_by="FeedbackComment.created_at")
    safeguarding_records: Mapped[list[SafeguardingRecord]] = relationship(
        back_populates="feedback", order_by="SafeguardingRecord.recorded_at")

    @property
    def scope_service_id(self) -> int:
        return self.service_id

    @property
    def days_to_answer(self) -> int | None:
        """Whole days from receipt to the board's answer (None while unanswered)."""
        if self.answered_at is None:
            return None
        return (self.answered_at - self.received_at).days


class SafeguardingRecord(db.Model):
    """What was done about feedback that may be a safeguarding matter: the action taken,
    whether a referral was made and to whom, and the outcome (each update kept)."""

    __tablename__ = "feedback_safeguarding_record"
    __table_args__ = (
        CheckConstraint("action_taken <> ''", name="says_what_was_done"),
        CheckConstraint("NOT referral_made OR referred_to <> ''", name="referral_names_whom"),
    )

    @property
    def organisation_id(self) -> int:
        """The organisation this belongs to (the organisation boundary)."""
        return self.feedback.organisation_id

    id: Mapped[int] = mapped_column(primary_key=True)
    feedback_id: Mapped[int] = mapped_column(ForeignKey("ambassador_feedback.id"), index=True)
    action_taken: Mapped[str] = mapped_column(Text)
    referral_made: Mapped[bool] = mapped_column(default=False)
    referred_to: Mapped[str] = mapped_column(String(300), default="")
    outcome: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    feedback: Mapped[AmbassadorFeedback] = relationship(back_populates="safeguarding_records")
    recorded_by: Mapped[Person] = relationship()

    @property
    def scope_service_id(self) -> int:
        return self.feedback.service_id


class FeedbackComment(db.Model):
    """A comment in the discussion of one item of ambassador feedback."""

    __tablename__ = "feedback_comment"

    @property
    def organisation_id(self) -> int:
        """The organisation this belongs to (the organisation boundary)."""
        return self.feedback.organisation_id
    __table_args__ = (
        CheckConstraint("hidden_at IS NULL OR hidden_reason <> ''", name="hidden_with_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    feedback_id: Mapped[int] = mapped_column(ForeignKey("ambassador_feedback.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    hidden_reason: Mapped[str] = mapped_column(String(500), default="")

    feedback: Mapped[AmbassadorFeedback] = relationship(back_populates="comments")
    author: Mapped[Person] = relationship(foreign_keys=[author_id])
    hidden_by: Mapped[Person | None] = relationship(foreign_keys=[hidden_by_id])

    @property
    def scope_service_id(self) -> int:
        return self.feedback.service_id

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None


class Briefing(db.Model):
    """A board briefing for the ambassadors of a service (or of every service)."""

    __tablename__ = "briefing"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    posted_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    service: Mapped[Service | None] = relationship()
    posted_by: Mapped[Person] = relationship()
    shares: Mapped[list[BriefingShare]] = relationship(back_populates="briefing",
                                                       order_by="BriefingShare.shared_at")
    said_back: Mapped[list[AmbassadorFeedback]] = relationship(back_populates="briefing")

    @property
    def scope_service_id(self) -> int | None:
        return self.service_id

    @property
    def scope_label(self) -> str:
        return self.service.name if self.service else "Every service"


class BriefingShare(db.Model):
    """An ambassador's word that they have shared a briefing with the people they represent."""

    __tablename__ = "briefing_share"

    @property
    def organisation_id(self) -> int:
        """The organisation this belongs to (the organisation boundary)."""
        return self.briefing.organisation_id
    __table_args__ = (UniqueConstraint("briefing_id", "ambassador_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    briefing_id: Mapped[int] = mapped_column(ForeignKey("briefing.id"))
    ambassador_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    shared_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    briefing: Mapped[Briefing] = relationship(back_populates="shares")
    ambassador: Mapped[Person] = relationship()


def _random_id() -> int:
    """A random id: submissions are numbered so that no id says which came first (an
    anonymous concern cannot be placed among other people's by its number)."""
    return secrets.randbelow(2**31 - 2) + 1


class Submission(db.Model):
    """A compliment, suggestion, concern, complaint or speak-up concern from anyone.

    An anonymous submission keeps no path back to a person: the CHECK constraint makes the
    database refuse a submitter, a recorder, a name or contact details on it.
    """

    __tablename__ = "feedback_submission"

    @property
    def organisation_id(self) -> int:
        """The organisation this belongs to (the organisation boundary)."""
        return self.service.organisation_id
    __table_args__ = (
        CheckConstraint(
            "NOT anonymous OR (submitter_id IS NULL AND recorded_by_id IS NULL "
            "AND name = '' AND contact = '')", name="anonymous_has_no_link"),
        CheckConstraint("acknowledged_at IS NULL OR acknowledged_at >= received_at",
                        name="acknowledged_after_received"),
        CheckConstraint("answered_at IS NULL OR acknowledged_at IS NOT NULL",
                        name="answered_after_acknowledged"),
        CheckConstraint("guardian_id IS NULL OR kind = 'speak_up'",
                        name="only_speak_up_goes_to_the_guardian"),
        Index("ix_feedback_submission_service_status", "service_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False, default=_random_id)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    kind: Mapped[SubmissionKind] = mapped_column(db_enum(SubmissionKind, "submission_kind"))
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("feedback_theme.id"))
    body: Mapped[str] = mapped_column(Text)
    anonymous: Mapped[bool] = mapped_column(default=False)
    submitter_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    name: Mapped[str] = mapped_column(String(200), default="")
    contact: Mapped[str] = mapped_column(String(254), default="")
    status: Mapped[SubmissionStatus] = mapped_column(
        db_enum(SubmissionStatus, "submission_status"), default=SubmissionStatus.received)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    acknowledge_by: Mapped[date | None]
    answer_by: Mapped[date | None]
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    outcome: Mapped[ComplaintOutcome | None] = mapped_column(
        db_enum(ComplaintOutcome, "complaint_outcome"))
    learning: Mapped[str] = mapped_column(Text, default="")
    escalation_route: Mapped[str] = mapped_column(Text, default="")
    # A speak-up concern sent to the Freedom to Speak Up guardian instead of the service's
    # managers (it may be about one of them): only the guardian reads and answers it.
    guardian_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))

    service: Mapped[Service] = relationship()
    theme: Mapped[Theme | None] = relationship()
    guardian: Mapped[Person | None] = relationship(foreign_keys=[guardian_id])
    submitter: Mapped[Person | None] = relationship(foreign_keys=[submitter_id])
    recorded_by: Mapped[Person | None] = relationship(foreign_keys=[recorded_by_id])
    acknowledged_by: Mapped[Person | None] = relationship(foreign_keys=[acknowledged_by_id])
    answered_by: Mapped[Person | None] = relationship(foreign_keys=[answered_by_id])
    steps: Mapped[list[SubmissionStep]] = relationship(
        back_populates="submission", order_by="SubmissionStep.taken_at")

    @property
    def scope_service_id(self) -> int:
        return self.service_id

    @property
    def is_complaint(self) -> bool:
        return self.kind == SubmissionKind.complaint

    def overdue(self, today: date | None = None) -> str:
        """"acknowledge" or "answer" when a deadline has passed undone, else ""."""
        today = today or clock.today()
        if self.status == SubmissionStatus.received and self.acknowledge_by \
                and today > self.acknowledge_by:
            return "acknowledge"
        if self.status != SubmissionStatus.answered and self.answer_by \
                and today > self.answer_by:
            return "answer"
        return ""

    @property
    def days_to_acknowledge(self) -> int | None:
        if self.acknowledged_at is None:
            return None
        return (self.acknowledged_at - self.received_at).days

    @property
    def days_to_answer(self) -> int | None:
        if self.answered_at is None:
            return None
        return (self.answered_at - self.received_at).days


class SubmissionStep(db.Model):
    """A complaint reopened (the person was not satisfied) or its answer deadline extended:
    the reason, and what the deadline or answer was before, kept as history."""

    __tablename__ = "feedback_submission_step"
    __table_args__ = (CheckConstraint("reason <> ''", name="step_has_reason"),)

    @property
    def organisation_id(self) -> int:
        """The organisation this belongs to (the organisation boundary)."""
        return self.submission.organisation_id

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("feedback_submission.id"), index=True)
    kind: Mapped[StepKind] = mapped_column(db_enum(StepKind, "submission_step_kind"))
    reason: Mapped[str] = mapped_column(Text)
    answer_by_before: Mapped[date | None]
    answer_by_after: Mapped[date | None]
    previous_answer: Mapped[str] = mapped_column(Text, default="")
    previous_outcome: Mapped[str] = mapped_column(String(40), default="")
    taken_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="steps")
    taken_by: Mapped[Person] = relationship()

    @property
    def scope_service_id(self) -> int:
        return self.submission.service_id


class BoardAgendaEntry(db.Model):
    """The "Ambassador feedback" item put on a board meeting's agenda (once per meeting).

    Meeting ids carry no foreign key so that feedback stands on its own without meetings.
    """

    __tablename__ = "feedback_board_agenda_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    meeting_id: Mapped[int] = mapped_column(unique=True)
    agenda_item_id: Mapped[int | None]
    item_count: Mapped[int] = mapped_column(default=0)
    added_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    items: Mapped[list[AmbassadorFeedback]] = relationship(
        secondary="feedback_board_agenda_listing", order_by="AmbassadorFeedback.received_at")

    @property
    def scope_service_id(self) -> None:
        return None  # the board's agenda is organisation-wide


class BoardAgendaListing(db.Model):
    """One item of ambassador feedback listed under a board meeting's agenda item: the list
    stays live (items answered later show as they are) and refreshing adds newer ones."""

    __tablename__ = "feedback_board_agenda_listing"
    __table_args__ = (UniqueConstraint("entry_id", "feedback_id"),)

    @property
    def organisation_id(self) -> int:
        """The organisation this belongs to (the organisation boundary)."""
        return db.session.get(BoardAgendaEntry, self.entry_id).organisation_id

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("feedback_board_agenda_entry.id"))
    feedback_id: Mapped[int] = mapped_column(ForeignKey("ambassador_feedback.id"), index=True)


class FeedbackSettings(db.Model):
    """An organisation's settings for feedback, set once: where people can go when they are
    not happy with the answer to a complaint (the ombudsman route), and its Freedom to Speak
    Up guardian."""

    __tablename__ = "feedback_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), unique=True)
    escalation_route: Mapped[str] = mapped_column(Text, default="")
    speak_up_guardian_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    speak_up_guardian: Mapped[Person | None] = relationship(
        foreign_keys=[speak_up_guardian_id])

    @property
    def scope_service_id(self) -> None:
        return None


class AnonymousDailyCount(db.Model):
    """How many anonymous submissions of a kind a service received on a day.

    What the audit log keeps instead of an event per anonymous submission: an event would sit
    between other people's events in order and time, and so place the submission among them.
    """

    __tablename__ = "feedback_anonymous_count"
    __table_args__ = (UniqueConstraint("service_id", "day", "kind"),)

    @property
    def organisation_id(self) -> int:
        """The organisation this belongs to (the organisation boundary)."""
        return self.service.organisation_id

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    day: Mapped[date]
    kind: Mapped[SubmissionKind] = mapped_column(db_enum(SubmissionKind, "submission_kind"))
    count: Mapped[int] = mapped_column(default=0)

    service: Mapped[Service] = relationship()
