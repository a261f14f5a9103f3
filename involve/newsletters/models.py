"""Newsletter issues, their pictures, subscribers, the suppression list and deliveries."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime

from sqlalchemy import (
    JSON,
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

NewslettersError = DomainError  # the kernel's refusal, by this domain's name


class MissingAltText(NewslettersError):
    """The issue has a picture without a description."""


class SubscriptionError(NewslettersError):
    """A subscription address or link cannot be used."""


def new_link_key() -> str:
    """A fresh opaque key for one address's newsletter links (192 random bits)."""
    return secrets.token_urlsafe(24)


ORGANISATION_LIST = "organisation"


def list_key(service_id: int | None) -> str:
    """The name of a newsletter (a service's, or the organisation's) in people's choices."""
    return ORGANISATION_LIST if service_id is None else f"service-{service_id}"


class Audience(enum.StrEnum):
    """Who an issue is written for."""

    service_users = "service_users"
    families = "families"
    staff = "staff"
    board = "board"
    partners = "partners"
    public = "public"

    @property
    def label(self) -> str:
        return AUDIENCE_LABELS[self]


AUDIENCE_LABELS = {
    Audience.service_users: "People who use the service",
    Audience.families: "Families and carers",
    Audience.staff: "Staff",
    Audience.board: "The board",
    Audience.partners: "Partners",
    Audience.public: "Anyone (public, with email subscribers)",
}


class IssueStatus(Labelled):
    """Where an issue is in its life: draft -> (scheduled) -> published -> sending -> sent."""

    draft = "draft", "Draft"
    scheduled = "scheduled", "Scheduled"
    published = "published", "Published"
    sending = "sending", "Sending"
    paused = "paused", "Sending paused"
    sent = "sent", "Sent"


# The moves an issue may make; anything else raises IllegalMove.
MOVES: dict[IssueStatus, set[IssueStatus]] = {
    IssueStatus.draft: {IssueStatus.scheduled, IssueStatus.published},
    IssueStatus.scheduled: {IssueStatus.published, IssueStatus.draft},
    IssueStatus.published: {IssueStatus.sending},
    IssueStatus.sending: {IssueStatus.paused, IssueStatus.sent},
    IssueStatus.paused: {IssueStatus.sending},
    IssueStatus.sent: set(),
}


class Issue(Stateful, db.Model):
    """One newsletter issue for a service (or the whole organisation), to some audiences."""

    __tablename__ = "newsletter_issue"
    __table_args__ = (
        Index("ix_newsletter_issue_scope", "organisation_id", "service_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    audiences: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[IssueStatus] = mapped_column(db_enum(IssueStatus, "newsletter_status"),
                                                default=IssueStatus.draft)
    publish_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    send_when_published: Mapped[bool] = mapped_column(default=False)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    send_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_reason: Mapped[str] = mapped_column(Text, default="")
    # A send held up by its mail server (unreachable, or refusing us): since when, the
    # server's words, how many tries so far and when the next one is due. Cleared when
    # mail goes again, when the author is told by email if it lasted a while.
    held_up_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    held_up_reason: Mapped[str] = mapped_column(Text, default="")
    held_up_tries: Mapped[int] = mapped_column(default=0)
    next_try_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    service: Mapped[Service | None] = relationship()
    created_by: Mapped[Person | None] = relationship()
    images: Mapped[list[IssueImage]] = relationship(back_populates="issue",
                                                    order_by="IssueImage.id")

    @property
    def scope_service_id(self) -> int | None:
        return self.service_id

    @property
    def scope_name(self) -> str:
        return self.service.name if self.service else "Whole organisation"

    @property
    def list_key(self) -> str:
        """Which newsletter this issue belongs to, as readers choose them."""
        return list_key(self.service_id)

    @property
    def audience_list(self) -> list[Audience]:
        return [Audience(a) for a in self.audiences if a in Audience._value2member_map_]

    @property
    def is_public(self) -> bool:
        return Audience.public.value in self.audiences

    @property
    def is_published(self) -> bool:
        return self.status in (IssueStatus.published, IssueStatus.sending, IssueStatus.paused,
                               IssueStatus.sent)

    @property
    def is_editable(self) -> bool:
        return self.status in (IssueStatus.draft, IssueStatus.scheduled)


ILLEGAL_MESSAGES = {
    **{(state, IssueStatus.published): "This issue is already published."
       for state in (IssueStatus.published, IssueStatus.sending, IssueStatus.paused,
                     IssueStatus.sent)},
    **{(state, IssueStatus.scheduled): "This issue is already published, so it cannot be "
                                       "scheduled."
       for state in (IssueStatus.published, IssueStatus.sending, IssueStatus.paused,
                     IssueStatus.sent)},
    (IssueStatus.sending, IssueStatus.sending): "This issue is already being sent.",
    (IssueStatus.sent, IssueStatus.sending): "This issue has already been sent. Nobody will "
                                             "be mailed twice.",
    (IssueStatus.draft, IssueStatus.sending): "Publish the issue before sending it.",
    (IssueStatus.scheduled, IssueStatus.sending): "The issue is waiting to be published. "
                                                  "Send it once it is published.",
}

MACHINE = StateMachine(MOVES, explain=lambda current, target: ILLEGAL_MESSAGES.get(
    (current, target)) or f"This issue is {current.label.lower()}: it cannot be "
                          f"{target.label.lower()} now.")
Issue.MACHINE = MACHINE


class IssueImage(db.Model):
    """A picture in an issue, re-encoded on upload; its alt text is required."""

    __tablename__ = "newsletter_image"

    @property
    def organisation_id(self) -> int:
        """The organisation this belongs to (the organisation boundary)."""
        return self.issue.organisation_id

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("newsletter_issue.id"), index=True)
    alt_text: Mapped[str] = mapped_column(String(300))
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    issue: Mapped[Issue] = relationship(back_populates="images")

    @property
    def scope_service_id(self) -> int | None:
        return self.issue.service_id

    @property
    def path(self) -> str:
        return f"/newsletters/images/{self.id}.jpg"

    @property
    def markdown(self) -> str:
        return f"![{self.alt_text}]({self.path})"


class Subscriber(db.Model):
    """Someone without an account who asked for a service's public newsletter by email."""

    __tablename__ = "newsletter_subscriber"

    @property
    def organisation_id(self) -> int:
        """The organisation this belongs to (the organisation boundary)."""
        return self.service.organisation_id
    __table_args__ = (UniqueConstraint("service_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    service: Mapped[Service] = relationship()

    @property
    def scope_service_id(self) -> int:
        return self.service_id


class SuppressionReason(enum.StrEnum):
    """Why an address must never be mailed a newsletter again."""

    unsubscribed = "unsubscribed"
    hard_bounce = "hard_bounce"


class Suppression(db.Model):
    """An address one organisation never mails a newsletter: unsubscribed or hard-bounced.

    Per organisation: stopping one organisation's newsletters leaves every other's as it was.
    """

    __tablename__ = "newsletter_suppression"
    __table_args__ = (UniqueConstraint("organisation_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    email: Mapped[str] = mapped_column(String(254))
    reason: Mapped[SuppressionReason] = mapped_column(
        db_enum(SuppressionReason, "suppression_reason"))
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DeliveryStatus(enum.StrEnum):
    """Where one recipient's copy of an issue is."""

    queued = "queued"
    sending = "sending"
    sent = "sent"
    failed = "failed"


class Delivery(db.Model):
    """One recipient's copy of an issue; unique per issue and address, so nobody gets two."""

    __tablename__ = "newsletter_delivery"

    @property
    def organisation_id(self) -> int:
        """The organisation this belongs to (the organisation boundary)."""
        return self.issue.organisation_id
    __table_args__ = (
        UniqueConstraint("issue_id", "email"),
        Index("ix_newsletter_delivery_issue_status", "issue_id", "status"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("newsletter_issue.id"))
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200), default="")
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("newsletter_subscriber.id", ondelete="SET NULL"))
    status: Mapped[DeliveryStatus] = mapped_column(db_enum(DeliveryStatus, "delivery_status"),
                                                   default=DeliveryStatus.queued)
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    claim: Mapped[str | None] = mapped_column(String(36), index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    issue: Mapped[Issue] = relationship()


class NewsletterPreference(db.Model):
    """One address's choices for one organisation's newsletters, and its link key.

    The key is the opaque part of the unsubscribe and preferences links in every email that
    organisation sends the address: random, stored, never expiring and never readable as the
    address. ``stopped_lists`` holds the :attr:`Issue.list_key` of each newsletter the address
    no longer wants by email (the home's kept, the organisation's dropped, say).
    """

    __tablename__ = "newsletter_preference"
    __table_args__ = (UniqueConstraint("organisation_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    email: Mapped[str] = mapped_column(String(254))
    link_key: Mapped[str] = mapped_column(String(64), unique=True,
                                          default=lambda: new_link_key())
    stopped_lists: Mapped[list[str]] = mapped_column(JSON, default=list)
    wants_print: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
