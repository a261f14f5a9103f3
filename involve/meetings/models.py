"""Meeting series, meetings, agenda items, attendance, minutes revisions and actions."""

from __future__ import annotations

import enum
import secrets
from datetime import date, datetime

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
from involve.kernel import clock
from involve.kernel.errors import DomainError, IllegalMove  # noqa: F401 (IllegalMove: for services)
from involve.kernel.states import Labelled, Stateful, StateMachine
from involve.people.models import Person, Role, Service

MeetingsError = DomainError  # the kernel's refusal, by this domain's name


class SeriesKind(enum.StrEnum):
    """What a series of meetings is for."""

    residents = "residents"
    relatives = "relatives"
    ambassadors = "ambassadors"
    board = "board"
    other = "other"

    @property
    def label(self) -> str:
        return {"residents": "Residents' meeting", "relatives": "Relatives' meeting",
                "ambassadors": "Ambassadors' meeting", "board": "Board meeting",
                "other": "Other meeting"}[self.value]


class MeetingStatus(Labelled):
    """Where a meeting is in its life."""

    planned = "planned", "Planned"
    agenda_published = "agenda_published", "Agenda published"
    held = "held", "Held"
    minutes_drafted = "minutes_drafted", "Minutes drafted"
    minutes_approved = "minutes_approved", "Minutes approved"
    minutes_published = "minutes_published", "Minutes published"
    cancelled = "cancelled", "Cancelled"

    @property
    def minutes_sentence(self) -> str:
        """Where the minutes are, as a sentence in plain English."""
        return {"planned": "The minutes will be written after the meeting.",
                "agenda_published": "The minutes will be written after the meeting.",
                "held": "The minutes have not been written yet.",
                "minutes_drafted": "The minutes are written, and waiting to be approved.",
                "minutes_approved": "The minutes are approved, and not published yet.",
                "minutes_published": "The minutes are published.",
                "cancelled": "The meeting was cancelled, so there are no minutes."}[self.value]


# The moves a meeting may make; anything else raises IllegalMove.
TRANSITIONS: dict[MeetingStatus, set[MeetingStatus]] = {
    MeetingStatus.planned: {MeetingStatus.agenda_published, MeetingStatus.held,
                            MeetingStatus.cancelled},
    MeetingStatus.agenda_published: {MeetingStatus.held, MeetingStatus.cancelled},
    MeetingStatus.held: {MeetingStatus.minutes_drafted},
    MeetingStatus.minutes_drafted: {MeetingStatus.minutes_approved},
    MeetingStatus.minutes_approved: {MeetingStatus.minutes_published},
    MeetingStatus.minutes_published: set(),
    MeetingStatus.cancelled: set(),
}

MINUTES_STATES = {MeetingStatus.minutes_drafted, MeetingStatus.minutes_approved,
                  MeetingStatus.minutes_published}
HELD_STATES = {MeetingStatus.held} | MINUTES_STATES


class ItemKind(enum.StrEnum):
    """Standing items appear on every agenda; the rest are raised by people."""

    welcome = "welcome"
    matters_arising = "matters_arising"
    any_other_business = "any_other_business"
    item = "item"


STANDING_ITEMS = [
    (ItemKind.welcome, "Welcome and apologies",
     "The chair welcomes everyone and reads out apologies from people who cannot come."),
    (ItemKind.matters_arising, "Matters arising",
     "What has happened about the actions from earlier meetings."),
    (ItemKind.any_other_business, "Any other business",
     "Anything else people want to raise today."),
]


class ItemStatus(enum.StrEnum):
    """A suggestion waits for the chair, who puts it on the agenda or declines it."""

    suggested = "suggested"
    accepted = "accepted"
    declined = "declined"


class Attendance(enum.StrEnum):
    """Whether an invitee came."""

    present = "present"
    apologies = "apologies"
    absent = "absent"

    @property
    def label(self) -> str:
        return {"present": "Present", "apologies": "Sent apologies", "absent": "Absent"}[
            self.value]


class ActionStatus(enum.StrEnum):
    """Where an action is."""

    open = "open"
    in_progress = "in_progress"
    done = "done"
    will_not_do = "will_not_do"

    @property
    def label(self) -> str:
        return {"open": "Not started", "in_progress": "In progress", "done": "Done",
                "will_not_do": "We will not do this"}[self.value]


OPEN_ACTION_STATES = (ActionStatus.open, ActionStatus.in_progress)


def _feed_key() -> str:
    return secrets.token_urlsafe(24)


class MeetingSeries(db.Model):
    """A regular meeting of a service (or of the whole organisation) and who it is for."""

    __tablename__ = "meeting_series"
    __table_args__ = (UniqueConstraint("organisation_id", "service_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[SeriesKind] = mapped_column(db_enum(SeriesKind, "series_kind"))
    # Roles in the series' scope that are invited to every meeting (values of Role).
    invited_roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    invite_ambassadors: Mapped[bool] = mapped_column(default=False)
    share_with_families: Mapped[bool] = mapped_column(default=False)
    share_with_partners: Mapped[bool] = mapped_column(default=False)
    default_room: Mapped[str] = mapped_column(String(200), default="")
    feed_key: Mapped[str] = mapped_column(String(64), default=_feed_key, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    service: Mapped[Service | None] = relationship()

    @property
    def scope_service_id(self) -> int | None:
        return self.service_id

    @property
    def roles(self) -> set[Role]:
        return {Role(r) for r in self.invited_roles}

    @property
    def scope_label(self) -> str:
        return self.service.name if self.service else "Whole organisation"


class Meeting(Stateful, db.Model):
    """One meeting of a series, with its place, people and the state it is in."""

    __tablename__ = "meeting"

    @property
    def organisation_id(self) -> int:
        """The organisation this belongs to (the organisation boundary)."""
        return self.series.organisation_id
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_meeting_series_starts", "series_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("meeting_series.id"))
    # Copied from the series so that scope checks and lists need no join.
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    room: Mapped[str] = mapped_column(String(200), default="")
    online_link: Mapped[str] = mapped_column(String(500), default="")
    chair_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    minute_taker_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    hearing_loop: Mapped[bool] = mapped_column(default=False)
    easy_read_agenda: Mapped[bool] = mapped_column(default=False)
    step_free: Mapped[bool] = mapped_column(default=False)
    access_notes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[MeetingStatus] = mapped_column(db_enum(MeetingStatus, "meeting_status"),
                                                  default=MeetingStatus.planned)
    cancelled_reason: Mapped[str] = mapped_column(Text, default="")
    # Guests who came without an invitation: named ones, and how many others.
    guest_count: Mapped[int] = mapped_column(default=0)
    guest_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Calendars replace an event when its SEQUENCE grows: every move and the cancelling.
    calendar_sequence: Mapped[int] = mapped_column(default=0)
    easy_read_summary: Mapped[str] = mapped_column(Text, default="")
    agenda_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    minutes_drafted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    minutes_approved_on: Mapped[date | None]
    minutes_approved_how: Mapped[str] = mapped_column(String(200), default="")
    minutes_approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    minutes_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    minutes_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    series: Mapped[MeetingSeries] = relationship()
    chair: Mapped[Person | None] = relationship(foreign_keys=[chair_id])
    minute_taker: Mapped[Person | None] = relationship(foreign_keys=[minute_taker_id])
    minutes_approved_by: Mapped[Person | None] = relationship(
        foreign_keys=[minutes_approved_by_id])
    items: Mapped[list[AgendaItem]] = relationship(
        back_populates="meeting", order_by="AgendaItem.position, AgendaItem.id")
    invitees: Mapped[list[MeetingInvitee]] = relationship(back_populates="meeting")

    @property
    def scope_service_id(self) -> int | None:
        return self.service_id

    @property
    def title(self) -> str:
        return self.series.name

    @property
    def is_held(self) -> bool:
        return self.status in HELD_STATES

    @property
    def has_minutes(self) -> bool:
        return self.status in MINUTES_STATES

    @property
    def guests_total(self) -> int:
        return self.guest_count + len(self.guest_names or [])

    @property
    def agenda_is_public(self) -> bool:
        return self.status not in (MeetingStatus.planned,) and (
            self.agenda_published_at is not None or self.is_held)


def _illegal_move_message(current: MeetingStatus, target: MeetingStatus) -> str:
    if current == MeetingStatus.cancelled:
        return "This meeting was cancelled, so it cannot change any more."
    if target == MeetingStatus.minutes_approved and current in (
            MeetingStatus.minutes_approved, MeetingStatus.minutes_published):
        return "These minutes have already been approved."
    if target == MeetingStatus.minutes_published and current == MeetingStatus.minutes_published:
        return "These minutes have already been published."
    if target == MeetingStatus.minutes_published:
        return "Minutes must be approved before they are published."
    if target == MeetingStatus.minutes_approved:
        return "There are no drafted minutes to approve yet."
    if target == MeetingStatus.agenda_published:
        return "The agenda can only be published before the meeting is held."
    if target == MeetingStatus.held:
        return "This meeting has already been marked as held."
    if target == MeetingStatus.cancelled:
        return "A meeting that has been held cannot be cancelled."
    return f"A meeting that is '{current.label}' cannot become '{target.label}'."


MACHINE = StateMachine(TRANSITIONS, explain=_illegal_move_message)
Meeting.MACHINE = MACHINE


class MeetingInvitee(db.Model):
    """Someone invited to a meeting (by role in the scope, or by name) and whether they came."""

    __tablename__ = "meeting_invitee"

    @property
    def organisation_id(self) -> int:
        """The organisation this belongs to (the organisation boundary)."""
        return self.meeting.organisation_id
    __table_args__ = (UniqueConstraint("meeting_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    named: Mapped[bool] = mapped_column(default=False)
    attendance: Mapped[Attendance | None] = mapped_column(db_enum(Attendance, "attendance"))

    meeting: Mapped[Meeting] = relationship(back_populates="invitees")
    person: Mapped[Person] = relationship()


class AgendaItem(db.Model):
    """An item on an agenda, or a suggestion waiting for the chair (with its minutes)."""

    __tablename__ = "agenda_item"

    @property
    def organisation_id(self) -> int:
        """The organisation this belongs to (the organisation boundary)."""
        return self.meeting.organisation_id
    __table_args__ = (
        CheckConstraint("status <> 'declined' OR decline_reason <> ''",
                        name="declined_has_reason"),
        Index("ix_agenda_item_meeting_status", "meeting_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"))
    kind: Mapped[ItemKind] = mapped_column(db_enum(ItemKind, "agenda_item_kind"),
                                           default=ItemKind.item)
    status: Mapped[ItemStatus] = mapped_column(db_enum(ItemStatus, "agenda_item_status"),
                                               default=ItemStatus.accepted)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    raised_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    suggested_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    presenter_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    duration_minutes: Mapped[int | None]
    position: Mapped[int] = mapped_column(default=0)
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notes: Mapped[str] = mapped_column(Text, default="")
    decisions: Mapped[str] = mapped_column(Text, default="")
    # The suggester's own words, kept when the chair rewords the item for the agenda.
    original_title: Mapped[str] = mapped_column(String(200), default="")
    original_description: Mapped[str] = mapped_column(Text, default="")
    # Raised under "any other business" once the agenda was out.
    other_business: Mapped[bool] = mapped_column(default=False)
    # A picture for the easy-read agenda and minutes (re-encoded JPEG) and its description.
    picture: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    picture_alt: Mapped[str] = mapped_column(String(300), default="")
    has_picture: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    meeting: Mapped[Meeting] = relationship(back_populates="items")
    raised_by: Mapped[Person | None] = relationship(foreign_keys=[raised_by_id])
    suggested_by: Mapped[Person | None] = relationship(foreign_keys=[suggested_by_id])
    presenter: Mapped[Person | None] = relationship(foreign_keys=[presenter_id])

    @property
    def scope_service_id(self) -> int | None:
        return self.meeting.service_id

    @property
    def is_standing(self) -> bool:
        return self.kind != ItemKind.item

    @property
    def was_reworded(self) -> bool:
        return bool(self.original_title)


class MinutesRevision(db.Model):
    """Every saved change to a meeting's minutes: who, when, why, and the full text."""

    __tablename__ = "minutes_revision"

    @property
    def organisation_id(self) -> int:
        """The organisation this belongs to (the organisation boundary)."""
        return db.session.get(Meeting, self.meeting_id).organisation_id
    __table_args__ = (UniqueConstraint("meeting_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    number: Mapped[int]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")
    after_publication: Mapped[bool] = mapped_column(default=False)
    full_text: Mapped[str] = mapped_column(Text)
    snapshot: Mapped[dict] = mapped_column(JSON, default=dict)

    created_by: Mapped[Person | None] = relationship()


class AttachmentKind(enum.StrEnum):
    """What a file attached to the minutes is."""

    pdf = "pdf"
    picture = "picture"


class MinutesAttachment(db.Model):
    """A PDF or a picture attached to a meeting's minutes (checked and cleaned on upload)."""

    __tablename__ = "minutes_attachment"

    @property
    def organisation_id(self) -> int:
        """The organisation this belongs to (the organisation boundary)."""
        return self.meeting.organisation_id

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    kind: Mapped[AttachmentKind] = mapped_column(db_enum(AttachmentKind, "attachment_kind"))
    filename: Mapped[str] = mapped_column(String(200))
    # For a picture, what it shows (alt text); for a PDF, what it is.
    description: Mapped[str] = mapped_column(String(300))
    size: Mapped[int] = mapped_column(default=0)
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    meeting: Mapped[Meeting] = relationship()

    @property
    def scope_service_id(self) -> int | None:
        return self.meeting.service_id

    @property
    def is_picture(self) -> bool:
        return self.kind == AttachmentKind.picture


class Action(db.Model):
    """"You said, we did": what people said, what will be done, by whom, and what was done.

    An action may come from a meeting's agenda item or from elsewhere (feedback), and may
    belong to a service or (``service_id`` NULL) to the whole organisation.
    """

    __tablename__ = "meeting_action"
    __table_args__ = (
        CheckConstraint("status <> 'will_not_do' OR will_not_do_reason <> ''",
                        name="will_not_do_has_reason"),
        CheckConstraint("status <> 'done' OR done_at IS NOT NULL", name="done_has_time"),
        Index("ix_meeting_action_service_status", "service_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"))
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id"), index=True)
    agenda_item_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_item.id"), index=True)
    you_said: Mapped[str] = mapped_column(Text)
    we_will: Mapped[str] = mapped_column(Text)
    said_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    name_who_said: Mapped[bool] = mapped_column(default=False)
    owner_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    due_on: Mapped[date]
    status: Mapped[ActionStatus] = mapped_column(db_enum(ActionStatus, "action_status"),
                                                 default=ActionStatus.open)
    we_did: Mapped[str] = mapped_column(Text, default="")
    will_not_do_reason: Mapped[str] = mapped_column(Text, default="")
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When it was done or given up (matters arising shows what closed since the last meeting).
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(40), default="meeting")
    source_id: Mapped[int | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    owner: Mapped[Person] = relationship(foreign_keys=[owner_id])
    said_by: Mapped[Person | None] = relationship(foreign_keys=[said_by_id])
    meeting: Mapped[Meeting | None] = relationship()
    service: Mapped[Service | None] = relationship()

    @property
    def scope_service_id(self) -> int | None:
        return self.service_id

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_ACTION_STATES

    def is_overdue(self, today: date | None = None) -> bool:
        return self.is_open and self.due_on < (today or clock.today())

