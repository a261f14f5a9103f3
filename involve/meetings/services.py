"""Every state change of meetings: plain functions that never commit and never read a request.

Illegal moves raise a :class:`MeetingsError` subclass with a message in plain words; the view
shows it and does not commit, so nothing changes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from datetime import date, datetime, timedelta

from flask import current_app, has_request_context, url_for
from sqlalchemy import func, select

from involve import audit, mail
from involve.extensions import db, utcnow
from involve.images import ImageRejected, clean_photo
from involve.kernel import clock
from involve.meetings.models import (
    STANDING_ITEMS,
    Action,
    ActionStatus,
    AgendaItem,
    AttachmentKind,
    Attendance,
    IllegalMove,
    ItemKind,
    ItemStatus,
    Meeting,
    MeetingInvitee,
    MeetingSeries,
    MeetingsError,
    MeetingStatus,
    MinutesAttachment,
    MinutesRevision,
    SeriesKind,
)
from involve.people.models import AmbassadorTerm, Person, Role
from involve.people.queries import people_with_role
from involve.text import OUTSIDE_PICTURE_MESSAGE, outside_pictures

log = logging.getLogger(__name__)

__all__ = ["MeetingsError", "IllegalMove"]


class EndBeforeStart(MeetingsError):
    """A meeting must end after it starts."""


class MissingDetail(MeetingsError):
    """Something the meeting or action needs was not given."""


class TooLate(MeetingsError):
    """The meeting has moved on too far for this."""


class NotHeldYet(MeetingsError):
    """Minutes and attendance wait until the meeting has been held."""


class RevisionNeeded(MeetingsError):
    """Published minutes change only through a new revision with a note."""


class MissingOwner(MissingDetail):
    """An action needs someone to own it."""


class DueInThePast(MeetingsError):
    """A new action cannot already be late."""


class UploadRejected(MeetingsError):
    """An uploaded file is not one we can keep; the message says why."""


# PDFs attached to minutes: checked by their header and bounded in size.
PDF_MAX_BYTES = 10 * 1024 * 1024


# --- series and meetings -----------------------------------------------------------------

def create_series(*, organisation_id: int, service_id: int | None, name: str,
                  kind: SeriesKind | str, invited_roles: Iterable[Role | str],
                  invite_ambassadors: bool = False, share_with_families: bool = False,
                  share_with_partners: bool = False, default_room: str = "",
                  by: Person | None) -> MeetingSeries:
    """Start a series of meetings for a service (or the organisation) and say who it is for."""
    name = _series_name(name, organisation_id=organisation_id, service_id=service_id)
    series = MeetingSeries(
        organisation_id=organisation_id, service_id=service_id, name=name,
        kind=SeriesKind(kind), invited_roles=sorted({Role(r).value for r in invited_roles}),
        invite_ambassadors=invite_ambassadors, share_with_families=share_with_families,
        share_with_partners=share_with_partners, default_room=default_room.strip())
    db.session.add(series)
    db.session.flush()
    audit.record("meeting.series_created", actor=by, obj=series, name=name)
    return series


def _series_name(name: str, *, organisation_id: int, service_id: int | None,
                 series_id: int | None = None) -> str:
    """A series' name, given and not used by another series of the same service."""
    name = name.strip()
    if not name:
        raise MissingDetail("Give the series a name, for example \"Residents' meeting\".")
    scope = MeetingSeries.service_id == service_id if service_id is not None \
        else MeetingSeries.service_id.is_(None)
    taken = select(MeetingSeries.id).where(
        MeetingSeries.organisation_id == organisation_id, scope, MeetingSeries.name == name)
    if series_id is not None:
        taken = taken.where(MeetingSeries.id != series_id)
    if db.session.scalar(taken.limit(1)) is not None:
        raise MissingDetail(f"There is already a series called \"{name}\" here. Choose "
                            "another name.")
    return name


def change_series(series: MeetingSeries, *, name: str, kind: SeriesKind | str,
                  invited_roles: Iterable[Role | str], invite_ambassadors: bool = False,
                  share_with_families: bool = False, share_with_partners: bool = False,
                  default_room: str = "", by: Person | None) -> MeetingSeries:
    """Change a series' name, who is invited and who may read its minutes.

    Coming meetings invite anyone newly covered; nobody already invited is taken off.
    """
    series.name = _series_name(name, organisation_id=series.organisation_id,
                               service_id=series.service_id, series_id=series.id)
    series.kind = SeriesKind(kind)
    series.invited_roles = sorted({Role(r).value for r in invited_roles})
    series.invite_ambassadors = invite_ambassadors
    series.share_with_families = share_with_families
    series.share_with_partners = share_with_partners
    series.default_room = default_room.strip()
    db.session.flush()
    coming = db.session.scalars(select(Meeting).where(
        Meeting.series_id == series.id,
        Meeting.status.in_([MeetingStatus.planned, MeetingStatus.agenda_published]))).all()
    for meeting in coming:
        refresh_invitees(meeting)
    audit.record("meeting.series_changed", actor=by, obj=series, name=series.name,
                 invited_roles=series.invited_roles, share_with_families=share_with_families,
                 share_with_partners=share_with_partners)
    return series


def schedule_meeting(series: MeetingSeries, *, starts_at: datetime, ends_at: datetime,
                     room: str = "", online_link: str = "", chair: Person | None = None,
                     minute_taker: Person | None = None,
                     named_invitees: Iterable[Person] = (), hearing_loop: bool = False,
                     easy_read_agenda: bool = False, step_free: bool = False,
                     access_notes: str = "", by: Person | None) -> Meeting:
    """Plan a meeting of a series, with the standing items and its invitees."""
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise ValueError("meeting times must be timezone-aware")
    if ends_at <= starts_at:
        raise EndBeforeStart("The meeting must end after it starts. Check the times.")
    if not room.strip() and not online_link.strip():
        raise MissingDetail("Say where the meeting is: a room, an online link, or both.")
    meeting = Meeting(
        series=series, series_id=series.id, service_id=series.service_id,
        starts_at=starts_at, ends_at=ends_at, room=room.strip(), online_link=online_link.strip(),
        chair_id=chair.id if chair else None,
        minute_taker_id=minute_taker.id if minute_taker else None,
        hearing_loop=hearing_loop, easy_read_agenda=easy_read_agenda, step_free=step_free,
        access_notes=access_notes.strip())
    db.session.add(meeting)
    db.session.flush()
    for position, (kind, title, description) in enumerate(STANDING_ITEMS):
        db.session.add(AgendaItem(meeting_id=meeting.id, kind=kind, title=title,
                                  description=description, status=ItemStatus.accepted,
                                  position=position))
    named = {p.id for p in named_invitees}
    for extra in (chair, minute_taker):
        if extra is not None:
            named.add(extra.id)
    refresh_invitees(meeting, named_ids=named)
    audit.record("meeting.scheduled", actor=by, obj=meeting,
                 starts_at=starts_at.isoformat(), series_id=series.id)
    return meeting


def change_meeting(meeting: Meeting, *, starts_at: datetime, ends_at: datetime,
                   room: str = "", online_link: str = "", chair: Person | None = None,
                   minute_taker: Person | None = None, hearing_loop: bool = False,
                   easy_read_agenda: bool = False, step_free: bool = False,
                   access_notes: str = "", by: Person | None) -> int:
    """Change a coming meeting's time, place, people or access notes.

    When the time or the place changes, invitees with email are told (the old and the new);
    returns how many emails were sent.
    """
    if meeting.status not in (MeetingStatus.planned, MeetingStatus.agenda_published):
        raise TooLate("Only a meeting that has not happened yet can be changed.")
    if ends_at <= starts_at:
        raise EndBeforeStart("The meeting must end after it starts. Check the times.")
    if not room.strip() and not online_link.strip():
        raise MissingDetail("Say where the meeting is: a room, an online link, or both.")
    moved = meeting.starts_at != starts_at or meeting.ends_at != ends_at
    replaced = meeting.room != room.strip() or meeting.online_link != online_link.strip()
    before = {"starts_at": meeting.starts_at, "ends_at": meeting.ends_at,
              "room": meeting.room, "online_link": meeting.online_link}
    meeting.starts_at, meeting.ends_at = starts_at, ends_at
    meeting.room, meeting.online_link = room.strip(), online_link.strip()
    meeting.chair_id = chair.id if chair else None
    meeting.minute_taker_id = minute_taker.id if minute_taker else None
    meeting.hearing_loop, meeting.easy_read_agenda = hearing_loop, easy_read_agenda
    meeting.step_free, meeting.access_notes = step_free, access_notes.strip()
    refresh_invitees(meeting, named_ids=[p.id for p in (chair, minute_taker) if p])
    audit.record("meeting.changed", actor=by, obj=meeting, moved=moved, place_changed=replaced,
                 starts_at=starts_at.isoformat())
    if not (moved or replaced):
        return 0
    meeting.calendar_sequence += 1
    return _email_invitees(meeting, "meetings/mail/changed", calendar=True, subject=
                           f"Changed: {meeting.title} is now on {_day(meeting.starts_at)}"
                           if moved else f"New place: {meeting.title} on "
                           f"{_day(meeting.starts_at)}",
                           before=before, moved=moved, replaced=replaced)


def is_a_move(meeting: Meeting, *, starts_at: datetime, ends_at: datetime, room: str,
              online_link: str) -> bool:
    """Whether these details change the meeting's time or place (and so email invitees).

    Details :func:`change_meeting` would refuse are refused here, with the same words.
    """
    if meeting.status not in (MeetingStatus.planned, MeetingStatus.agenda_published):
        raise TooLate("Only a meeting that has not happened yet can be changed.")
    if ends_at <= starts_at:
        raise EndBeforeStart("The meeting must end after it starts. Check the times.")
    if not room.strip() and not online_link.strip():
        raise MissingDetail("Say where the meeting is: a room, an online link, or both.")
    return (meeting.starts_at != starts_at or meeting.ends_at != ends_at
            or meeting.room != room.strip() or meeting.online_link != online_link.strip())


def refresh_invitees(meeting: Meeting, *, named_ids: Iterable[int] = ()) -> list[MeetingInvitee]:
    """Invite everyone who holds an invited role in the scope now, plus named people."""
    series = meeting.series
    wanted: dict[int, bool] = {}
    for role in series.roles:
        for person in people_with_role(role, series.service_id,
                                       organisation_id=series.organisation_id):
            wanted.setdefault(person.id, False)
    if series.invite_ambassadors:
        today = clock.today()
        terms = select(AmbassadorTerm.person_id).join(
            Person, Person.id == AmbassadorTerm.person_id).where(
            Person.organisation_id == series.organisation_id,
            AmbassadorTerm.starts_on <= today,
            (AmbassadorTerm.ends_on.is_(None)) | (AmbassadorTerm.ends_on >= today))
        if series.service_id is not None:
            terms = terms.where((AmbassadorTerm.service_id == series.service_id)
                                | AmbassadorTerm.service_id.is_(None))
        for person_id in db.session.scalars(terms):
            wanted.setdefault(person_id, False)
    for person_id in named_ids:
        wanted[person_id] = True
    existing = {row.person_id: row for row in db.session.scalars(
        select(MeetingInvitee).where(MeetingInvitee.meeting_id == meeting.id))}
    added = []
    for person_id, named in wanted.items():
        row = existing.get(person_id)
        if row is None:
            row = MeetingInvitee(meeting_id=meeting.id, person_id=person_id, named=named)
            db.session.add(row)
            added.append(row)
        elif named and not row.named:
            row.named = True
    db.session.flush()
    return added


def mark_held(meeting: Meeting, *, by: Person | None, now: datetime | None = None) -> None:
    """Record that the meeting took place, so that attendance and minutes can follow."""
    now = now or utcnow()
    if meeting.starts_at > now and meeting.status in (MeetingStatus.planned,
                                                       MeetingStatus.agenda_published):
        raise NotHeldYet("The meeting has not started yet. Mark it as held once it has begun.")
    meeting.move_to(MeetingStatus.held, by=by, audit_action="meeting.held")
    meeting.held_at = now


def cancel_meeting(meeting: Meeting, *, reason: str, by: Person | None) -> int:
    """Cancel a meeting with a reason invitees will see; email those who have email."""
    reason = reason.strip()
    if not reason:
        raise MissingDetail("Say why the meeting is cancelled. Invitees will see this.")
    meeting.move_to(MeetingStatus.cancelled, by=by, audit_action="meeting.cancelled",
                    reason=reason)
    meeting.cancelled_reason = reason
    meeting.calendar_sequence += 1
    return _email_invitees(meeting, "meetings/mail/cancelled", calendar=True,
                           subject=f"Cancelled: {meeting.title} on {_day(meeting.starts_at)}")


# --- the agenda --------------------------------------------------------------------------

def _open_for_items(meeting: Meeting) -> None:
    if meeting.status == MeetingStatus.cancelled:
        raise TooLate("This meeting was cancelled, so nothing can be added to its agenda.")
    if meeting.is_held:
        raise TooLate("This meeting has already been held. Suggest your item for the next "
                      "meeting instead.")


def suggest_item(meeting: Meeting, *, title: str, description: str = "", by: Person,
                 on_behalf_of: Person | None = None) -> AgendaItem:
    """Suggest an item for the agenda (staff may record it on someone's behalf)."""
    _open_for_items(meeting)
    title = title.strip()
    if not title:
        raise MissingDetail("Say in a few words what you would like to talk about.")
    raiser = on_behalf_of or by
    item = AgendaItem(meeting_id=meeting.id, kind=ItemKind.item, status=ItemStatus.suggested,
                      title=title, description=description.strip(), raised_by_id=raiser.id,
                      suggested_by_id=by.id, position=0)
    db.session.add(item)
    db.session.flush()
    audit.record("meeting.item_suggested", actor=by, obj=meeting, subject=raiser,
                 item_id=item.id)
    return item


def _accepted(meeting_id: int) -> list[AgendaItem]:
    return list(db.session.scalars(
        select(AgendaItem).where(AgendaItem.meeting_id == meeting_id,
                                 AgendaItem.status == ItemStatus.accepted)
        .order_by(AgendaItem.position, AgendaItem.id)))


def _place(item: AgendaItem) -> None:
    # New items go after the others but before "any other business"; items raised as other
    # business go after that heading, in the order they were raised.
    items = [i for i in _accepted(item.meeting_id) if i.id != item.id]
    aob = [i for i in items if i.kind == ItemKind.any_other_business]
    later = [i for i in items if i.other_business]
    rest = [i for i in items if i.kind != ItemKind.any_other_business and not i.other_business]
    order = [*rest, *aob, *later, item] if item.other_business else [*rest, item, *aob, *later]
    for position, each in enumerate(order):
        each.position = position


# Other business may be added until the minutes are approved (it is raised on the day).
OTHER_BUSINESS_STATES = {MeetingStatus.planned, MeetingStatus.agenda_published,
                         MeetingStatus.held, MeetingStatus.minutes_drafted}


def _title(title: str, message: str) -> str:
    title = title.strip()
    if not title:
        raise MissingDetail(message)
    if len(title) > 200:
        raise MissingDetail("Keep the title under 200 letters.")
    return title


def add_agenda_item(meeting: Meeting, *, title: str, description: str = "",
                    raised_by: Person | None = None, by: Person | None,
                    presenter: Person | None = None,
                    duration_minutes: int | None = None,
                    other_business: bool = False) -> AgendaItem:
    """Put an item straight onto the agenda (before "any other business").

    With ``other_business`` the item goes under "any other business": the chair can add
    those after the agenda is out, and on the day, until the minutes are approved.
    """
    if other_business:
        if meeting.status not in OTHER_BUSINESS_STATES:
            raise TooLate("This meeting was cancelled, so nothing can be added to its agenda."
                          if meeting.status == MeetingStatus.cancelled else
                          "These minutes are approved, so no more business can be added.")
    else:
        _open_for_items(meeting)
    title = _title(title, "Give the item a title.")
    if duration_minutes is not None and not 1 <= duration_minutes <= 240:
        raise MissingDetail("Choose between 1 and 240 minutes.")
    item = AgendaItem(meeting_id=meeting.id, kind=ItemKind.item, status=ItemStatus.accepted,
                      title=title, description=description.strip(),
                      raised_by_id=raised_by.id if raised_by else None,
                      suggested_by_id=by.id if by else None,
                      presenter_id=presenter.id if presenter else None,
                      duration_minutes=duration_minutes, decided_at=utcnow(),
                      decided_by_id=by.id if by else None, other_business=other_business)
    db.session.add(item)
    db.session.flush()
    _place(item)
    audit.record("meeting.item_added", actor=by, obj=meeting, item_id=item.id,
                 other_business=other_business)
    return item


def reword_item(item: AgendaItem, *, title: str, description: str, by: Person) -> AgendaItem:
    """Change how an item reads on the agenda; the suggester's own words are kept on record."""
    meeting = item.meeting
    if item.status == ItemStatus.declined:
        raise IllegalMove("This suggestion was declined, so it is not on the agenda.")
    if meeting.status == MeetingStatus.cancelled:
        raise TooLate("This meeting was cancelled, so its agenda cannot change.")
    if meeting.status in (MeetingStatus.minutes_approved, MeetingStatus.minutes_published):
        raise TooLate("These minutes are approved, so the agenda can no longer be reworded.")
    title = _title(title, "Give the item a title. People will read it on the agenda.")
    description = description.strip()
    if title == item.title and description == item.description:
        return item
    if item.raised_by_id is not None and not item.original_title:
        # Only the first rewording keeps the words: after that they are the chair's own.
        item.original_title, item.original_description = item.title, item.description
    item.title, item.description = title, description
    audit.record("meeting.item_reworded", actor=by, obj=meeting, item_id=item.id)
    return item


def accept_suggestion(item: AgendaItem, *, by: Person, presenter: Person | None = None,
                      duration_minutes: int | None = None, title: str | None = None,
                      description: str | None = None) -> AgendaItem:
    """Put a suggestion onto the agenda (reworded if the chair gives new words).

    The person who raised it (and whoever recorded it for them) is emailed.
    """
    _open_for_items(item.meeting)
    if item.status != ItemStatus.suggested:
        raise IllegalMove("This suggestion has already been decided.")
    item.status = ItemStatus.accepted
    item.decided_by_id, item.decided_at = by.id, utcnow()
    item.presenter_id = presenter.id if presenter else item.presenter_id
    item.duration_minutes = duration_minutes or item.duration_minutes
    if title is not None:
        reword_item(item, title=title, by=by,
                    description=item.description if description is None else description)
    _place(item)
    audit.record("meeting.suggestion_accepted", actor=by, obj=item.meeting,
                 subject=item.raised_by_id, item_id=item.id)
    _tell_suggester(item, "meetings/mail/suggestion_accepted",
                    f"On the agenda: {item.original_title or item.title}")
    return item


def decline_suggestion(item: AgendaItem, *, reason: str, by: Person) -> AgendaItem:
    """Decline a suggestion with a reason the person who raised it will see (and is emailed)."""
    if item.status != ItemStatus.suggested:
        raise IllegalMove("This suggestion has already been decided.")
    reason = reason.strip()
    if not reason:
        raise MissingDetail("Say why the suggestion is declined. The person who made it will "
                            "see your reason.")
    item.status = ItemStatus.declined
    item.decline_reason = reason
    item.decided_by_id, item.decided_at = by.id, utcnow()
    audit.record("meeting.suggestion_declined", actor=by, obj=item.meeting,
                 subject=item.raised_by_id, item_id=item.id)
    _tell_suggester(item, "meetings/mail/suggestion_declined",
                    f"Not on the agenda this time: {item.title}")
    return item


def _tell_suggester(item: AgendaItem, template: str, subject: str) -> int:
    # The person who raised it, and staff who recorded it for them (so that they can tell
    # someone without email).
    meeting = item.meeting
    link = _link("meetings.meeting", meeting_id=meeting.id)
    people = {p.id: p for p in (item.raised_by, item.suggested_by) if p is not None}
    return sum(_email_person(person, template, subject=subject, item=item, meeting=meeting,
                             link=link, for_someone=person.id != item.raised_by_id)
               for person in people.values())


def set_item_picture(item: AgendaItem, *, data: bytes, alt_text: str, by: Person) -> AgendaItem:
    """Give an item a picture for the easy-read agenda and minutes (cleaned, with alt text)."""
    if item.status == ItemStatus.declined:
        raise IllegalMove("This suggestion was declined, so it is not on the agenda.")
    if item.meeting.status == MeetingStatus.cancelled:
        raise TooLate("This meeting was cancelled, so its agenda cannot change.")
    alt_text = alt_text.strip()
    if not alt_text:
        raise MissingDetail("Say what the picture shows, for people who cannot see it.")
    if len(alt_text) > 300:
        raise MissingDetail("Keep the description of the picture under 300 letters.")
    try:
        clean = clean_photo(data, max_pixels=current_app.config.get("PHOTO_MAX_PIXELS", 1024))
    except ImageRejected as error:
        raise UploadRejected(str(error)) from None
    item.picture, item.picture_alt, item.has_picture = clean, alt_text, True
    audit.record("meeting.item_picture_set", actor=by, obj=item.meeting, item_id=item.id)
    return item


def remove_item_picture(item: AgendaItem, *, by: Person) -> AgendaItem:
    """Take an item's picture away."""
    item.picture, item.picture_alt, item.has_picture = None, "", False
    audit.record("meeting.item_picture_removed", actor=by, obj=item.meeting, item_id=item.id)
    return item


def move_item(item: AgendaItem, direction: str, *, by: Person) -> None:
    """Move an agenda item one place up or down."""
    if item.status != ItemStatus.accepted:
        raise IllegalMove("Only items on the agenda can be moved.")
    if item.meeting.is_held or item.meeting.status == MeetingStatus.cancelled:
        raise TooLate("The meeting has been held; its agenda can no longer be reordered.")
    items = _accepted(item.meeting_id)
    index = items.index(item)
    other = index - 1 if direction == "up" else index + 1
    if direction not in ("up", "down") or not 0 <= other < len(items):
        raise IllegalMove("That item cannot move any further.")
    items[index], items[other] = items[other], items[index]
    for position, each in enumerate(items):
        each.position = position
    audit.record("meeting.item_moved", actor=by, obj=item.meeting, item_id=item.id,
                 direction=direction)


def publish_agenda(meeting: Meeting, *, by: Person | None) -> int:
    """Publish the agenda: invitees with email get it; the rest get a printed copy.

    Returns how many emails were sent.
    """
    meeting.move_to(MeetingStatus.agenda_published, by=by,
                    audit_action="meeting.agenda_published")
    meeting.agenda_published_at = utcnow()
    refresh_invitees(meeting)
    return _email_invitees(meeting, "meetings/mail/agenda", calendar=True,
                           subject=f"Agenda: {meeting.title} on {_day(meeting.starts_at)}")


# --- attendance --------------------------------------------------------------------------

def record_attendance(meeting: Meeting, *, marks: Mapping[int, Attendance | str | None],
                      guest_count: int = 0, guest_names: Iterable[str] = (),
                      by: Person | None) -> None:
    """Record who came, who sent apologies and who was absent, and the guests.

    Guests are the people who came without an invitation: those named (a visiting advocate,
    a GP) and how many others.
    """
    if meeting.status == MeetingStatus.cancelled:
        raise TooLate("This meeting was cancelled, so there is no attendance to take.")
    if guest_count < 0:
        raise MissingDetail("The number of guests cannot be below nought.")
    names = _guest_names(guest_names)
    # Only the rows marked (a page of a large meeting), never every invitee.
    rows = {row.person_id: row for row in db.session.scalars(
        select(MeetingInvitee).where(MeetingInvitee.meeting_id == meeting.id,
                                     MeetingInvitee.person_id.in_(list(marks))))}
    for person_id, mark in marks.items():
        row = rows.get(person_id)
        if row is None:
            raise MissingDetail("That person is not invited to this meeting.")
        row.attendance = Attendance(mark) if mark else None
    meeting.guest_count = guest_count
    meeting.guest_names = names
    db.session.flush()
    present = db.session.scalar(select(func.count(MeetingInvitee.id)).where(
        MeetingInvitee.meeting_id == meeting.id,
        MeetingInvitee.attendance == Attendance.present))
    audit.record("meeting.attendance_recorded", actor=by, obj=meeting, present=present,
                 guests=guest_count + len(names))


def _guest_names(names: Iterable[str]) -> list[str]:
    cleaned: list[str] = []
    for name in names:
        name = " ".join(name.split())
        if not name:
            continue
        if len(name) > 120:
            raise MissingDetail("A guest's name is too long. Write one name on each line.")
        if name not in cleaned:
            cleaned.append(name)
    if len(cleaned) > 100:
        raise MissingDetail("Name at most 100 guests; count the others instead.")
    return cleaned


def mark_everyone_present(meeting: Meeting, *, by: Person | None) -> int:
    """Mark every invitee present, so that the chair only changes the exceptions.

    Returns how many people are marked.
    """
    if meeting.status == MeetingStatus.cancelled:
        raise TooLate("This meeting was cancelled, so there is no attendance to take.")
    rows = list(db.session.scalars(
        select(MeetingInvitee).where(MeetingInvitee.meeting_id == meeting.id)))
    for row in rows:
        row.attendance = Attendance.present
    audit.record("meeting.everyone_present", actor=by, obj=meeting, present=len(rows))
    return len(rows)


# --- minutes -----------------------------------------------------------------------------

def minutes_text(meeting: Meeting, items: Iterable[AgendaItem] | None = None) -> str:
    """The whole minutes as one Markdown document (kept in every revision)."""
    items = list(items if items is not None else meeting.items)
    lines = [f"# Minutes: {meeting.title}", "",
             f"{_day(meeting.starts_at)}", ""]
    if meeting.easy_read_summary:
        lines += ["## In short (easy read)", "", meeting.easy_read_summary, ""]
    for number, item in enumerate(
            (i for i in items if i.status == ItemStatus.accepted), start=1):
        lines += [f"## {number}. {item.title}", ""]
        if item.notes:
            lines += [item.notes, ""]
        if item.decisions:
            lines += ["**Decisions**", "", item.decisions, ""]
    return "\n".join(lines).strip() + "\n"


def save_minutes(meeting: Meeting, *, summary: str, notes: Mapping[int, tuple[str, str]],
                 by: Person, revision_note: str = "") -> MinutesRevision:
    """Save the minutes (notes and decisions per item, and the easy-read summary).

    Every save keeps a revision. Once published, minutes change only through a new revision
    that says what changed and why.
    """
    if not meeting.is_held:
        if meeting.status == MeetingStatus.cancelled:
            raise NotHeldYet("This meeting was cancelled, so it has no minutes.")
        raise NotHeldYet("The meeting has not been held yet. Mark it as held first, then "
                         "write the minutes.")
    published = meeting.status == MeetingStatus.minutes_published
    revision_note = revision_note.strip()
    if published and not revision_note:
        raise RevisionNeeded("These minutes are published. To change them, make a new "
                             "revision: say what you changed and why.")
    if meeting.status == MeetingStatus.minutes_approved and not revision_note:
        raise RevisionNeeded("These minutes are approved. Say what you changed and why.")
    for text in (summary, *(part for pair in notes.values() for part in pair)):
        outside = outside_pictures(text)
        if outside:
            raise MissingDetail(OUTSIDE_PICTURE_MESSAGE.format(src=outside[0]))
    items = {item.id: item for item in meeting.items if item.status == ItemStatus.accepted}
    for item_id, (item_notes, decisions) in notes.items():
        item = items.get(item_id)
        if item is None:
            raise MissingDetail("That item is not on this meeting's agenda.")
        item.notes, item.decisions = item_notes.strip(), decisions.strip()
    meeting.easy_read_summary = summary.strip()
    before = meeting.status
    if meeting.status == MeetingStatus.held:
        meeting.move_to(MeetingStatus.minutes_drafted)
        meeting.minutes_drafted_at = utcnow()
    number = (db.session.scalar(select(func.max(MinutesRevision.number)).where(
        MinutesRevision.meeting_id == meeting.id)) or 0) + 1
    revision = MinutesRevision(
        meeting_id=meeting.id, number=number, created_by_id=by.id, note=revision_note,
        after_publication=published, full_text=minutes_text(meeting, items.values()),
        snapshot={"summary": meeting.easy_read_summary,
                  "items": {str(i.id): {"title": i.title, "notes": i.notes,
                                        "decisions": i.decisions} for i in items.values()}})
    db.session.add(revision)
    db.session.flush()
    # Saved minutes are audited as a move (from held to drafted the first time, else none).
    meeting.audit_move(before, "meeting.minutes_revised" if published
                       else "meeting.minutes_saved", by=by, revision=number, note=revision_note)
    return revision


def approve_minutes(meeting: Meeting, *, approved_on: date, how: str,
                    by: Person | None) -> None:
    """Record that the minutes were approved (at the next meeting, or by the chair)."""
    if meeting.status in (MeetingStatus.minutes_approved, MeetingStatus.minutes_published):
        raise IllegalMove("These minutes have already been approved.")
    if approved_on > clock.today():
        raise MissingDetail("The date of approval cannot be in the future.")
    if meeting.held_at and approved_on < meeting.starts_at.date():
        raise MissingDetail("Minutes cannot be approved before the meeting took place.")
    how = how.strip() or "By the chair"
    meeting.move_to(MeetingStatus.minutes_approved, by=by, audit_action="meeting.minutes_approved",
                    approved_on=approved_on.isoformat(), how=how)
    meeting.minutes_approved_on = approved_on
    meeting.minutes_approved_how = how
    meeting.minutes_approved_by_id = by.id if by else None


def publish_minutes(meeting: Meeting, *, by: Person | None) -> int:
    """Publish approved minutes to the series' audience.

    Invitees with email get them, and so do the families and partners the series shares its
    minutes with (they may not be invited to the meetings themselves).
    """
    from involve.meetings.queries import minutes_audience

    meeting.move_to(MeetingStatus.minutes_published, by=by,
                    audit_action="meeting.minutes_published")
    meeting.minutes_published_at = utcnow()
    from involve.text import markdown_to_text

    return _email_invitees(meeting, "meetings/mail/minutes",
                           subject=f"Minutes: {meeting.title} on {_day(meeting.starts_at)}",
                           audience=minutes_audience(meeting.series),
                           summary_text=markdown_to_text(meeting.easy_read_summary)
                           if meeting.easy_read_summary else "")


# --- attachments to the minutes ---------------------------------------------------------

def add_minutes_attachment(meeting: Meeting, *, data: bytes, filename: str, description: str,
                           by: Person) -> MinutesAttachment:
    """Attach a PDF or a picture to the minutes.

    A picture is verified and re-encoded (metadata dropped) as every uploaded photo is; a PDF
    must start with the PDF header and be under 10 MB. Pictures need a description (alt
    text), which the easy-read minutes show.
    """
    from werkzeug.utils import secure_filename

    if not meeting.is_held:
        raise NotHeldYet("Attach files to the minutes once the meeting has been held.")
    if meeting.status == MeetingStatus.minutes_published:
        raise RevisionNeeded("These minutes are published. Attachments cannot change now.")
    description = description.strip()
    if not description:
        raise MissingDetail("Say what the file is (for a picture: what it shows, for people "
                            "who cannot see it).")
    if len(description) > 300:
        raise MissingDetail("Keep the description under 300 letters.")
    if not data:
        raise UploadRejected("The file is empty. Choose a PDF or a picture.")
    name = secure_filename(filename or "")[:150] or "attachment"
    if data.startswith(b"%PDF-"):
        if len(data) > PDF_MAX_BYTES:
            raise UploadRejected("The PDF is too large. Choose one under 10 MB.")
        kind, clean = AttachmentKind.pdf, data
        if not name.lower().endswith(".pdf"):
            name = name.rsplit(".", 1)[0] + ".pdf"
    else:
        try:
            clean = clean_photo(data, max_pixels=current_app.config.get("PHOTO_MAX_PIXELS",
                                                                         1024))
        except ImageRejected:
            raise UploadRejected("That file is not a PDF or a picture we can use. Use a PDF, "
                                 "or a JPEG, PNG, GIF or WebP picture.") from None
        kind = AttachmentKind.picture
        name = name.rsplit(".", 1)[0] + ".jpg"
    attachment = MinutesAttachment(meeting_id=meeting.id, kind=kind, filename=name,
                                   description=description, size=len(clean), data=clean,
                                   created_by_id=by.id)
    db.session.add(attachment)
    db.session.flush()
    audit.record("meeting.attachment_added", actor=by, obj=meeting,
                 attachment_id=attachment.id, kind=kind.value)
    return attachment


def remove_minutes_attachment(attachment: MinutesAttachment, *, by: Person) -> None:
    """Take a file off minutes that are not published yet."""
    meeting = attachment.meeting
    if meeting.status == MeetingStatus.minutes_published:
        raise RevisionNeeded("These minutes are published. Attachments cannot change now.")
    audit.record("meeting.attachment_removed", actor=by, obj=meeting,
                 attachment_id=attachment.id)
    db.session.delete(attachment)
    db.session.flush()


# --- actions ("you said, we did") --------------------------------------------------------

def create_action(*, service_id: int | None, you_said: str, we_will: str,
                  owner: Person | None, due_on: date | None, by: Person | None,
                  meeting: Meeting | None = None, agenda_item: AgendaItem | None = None,
                  source: str = "meeting", source_id: int | None = None,
                  name_who_said: bool = False, said_by: Person | None = None) -> Action:
    """Record an action: what people said, what will be done, by whom and by when."""
    if owner is None:
        raise MissingOwner("Choose who will do this action.")
    if due_on is None:
        raise MissingDetail("Choose a date the action is due by.")
    if due_on < clock.today():
        raise DueInThePast("The due date is in the past. Choose today or a later date.")
    you_said, we_will = you_said.strip(), we_will.strip()
    if not you_said or not we_will:
        raise MissingDetail("Say what people said and what will be done.")
    if agenda_item is not None and meeting is None:
        meeting = agenda_item.meeting
    action = Action(organisation_id=owner.organisation_id, service_id=service_id,
                    meeting_id=meeting.id if meeting else None,
                    agenda_item_id=agenda_item.id if agenda_item else None,
                    you_said=you_said, we_will=we_will, owner_id=owner.id, due_on=due_on,
                    name_who_said=name_who_said and said_by is not None,
                    said_by_id=said_by.id if said_by else None,
                    source=source, source_id=source_id, created_by_id=by.id if by else None)
    db.session.add(action)
    db.session.flush()
    audit.record("meeting.action_created", actor=by, obj=action, subject=owner,
                 source=source)
    return action


def update_action(action: Action, *, status: ActionStatus | str, we_did: str = "",
                  reason: str = "", by: Person | None) -> Action:
    """Move an action on: in progress, done (saying what was done) or will not do (why)."""
    status = ActionStatus(status)
    if not action.is_open and status != action.status:
        raise IllegalMove("This action is closed already.")
    if status == ActionStatus.done:
        if not we_did.strip():
            raise MissingDetail("Say what was done. People will read this on "
                                "\"You said, we did\".")
        action.we_did = we_did.strip()
        action.done_at = action.done_at or utcnow()
        action.closed_at = action.closed_at or action.done_at
    elif status == ActionStatus.will_not_do:
        if not reason.strip():
            raise MissingDetail("Say why this will not be done. People deserve a reason.")
        action.will_not_do_reason = reason.strip()
        action.closed_at = action.closed_at or utcnow()
    action.status = status
    audit.record("meeting.action_updated", actor=by, obj=action, status=status.value)
    return action


# --- reminders ---------------------------------------------------------------------------

def remind_minutes(*, now: datetime | None = None,
                   send: Callable[[list], int] | None = None) -> int:
    """Email the chair of each held meeting whose minutes are not drafted (at most daily).

    ``send`` sends the messages once the reminders are marked (a task passes
    :func:`involve.scheduling.record_then_send`, which commits the marks first).
    """
    now = now or utcnow()
    meetings = db.session.scalars(select(Meeting).where(
        Meeting.status == MeetingStatus.held, Meeting.chair_id.is_not(None),
        (Meeting.minutes_reminded_at.is_(None))
        | (Meeting.minutes_reminded_at < now - timedelta(hours=20)))).all()
    messages = []
    with _url_context():
        for meeting in meetings:
            if meeting.chair and meeting.chair.user and meeting.chair.user.email:
                messages.append(mail.render_message(
                    "meetings/mail/minutes_reminder", to=meeting.chair.user.email,
                    subject=f"Reminder: minutes of {meeting.title} are not written yet",
                    meeting=meeting, person=meeting.chair,
                    link=_link("meetings.meeting", meeting_id=meeting.id)))
            meeting.minutes_reminded_at = now
    return (send or _send_each)(messages)


def remind_overdue_actions(*, today: date | None = None, now: datetime | None = None,
                           send: Callable[[list], int] | None = None) -> int:
    """Email each owner a list of their overdue actions (at most once a week); ``send`` as
    for :func:`remind_minutes`."""
    today, now = today or clock.today(), now or utcnow()
    actions = db.session.scalars(select(Action).where(
        Action.status.in_([ActionStatus.open, ActionStatus.in_progress]),
        Action.due_on < today,
        (Action.last_reminded_at.is_(None)) | (Action.last_reminded_at < now - timedelta(days=6)))
        .order_by(Action.owner_id, Action.due_on)).all()
    by_owner: dict[int, list[Action]] = {}
    for action in actions:
        by_owner.setdefault(action.owner_id, []).append(action)
        action.last_reminded_at = now
    messages = []
    with _url_context():
        for owned in by_owner.values():
            owner = owned[0].owner
            if owner.user and owner.user.email:
                plural = "s" if len(owned) != 1 else ""
                messages.append(mail.render_message(
                    "meetings/mail/actions_reminder", to=owner.user.email,
                    subject=f"You have {len(owned)} overdue action{plural}",
                    person=owner, actions=owned,
                    links={a.id: _link("meetings.action", action_id=a.id) for a in owned}))
    return (send or _send_each)(messages)


# --- helpers -----------------------------------------------------------------------------

def _day(moment: datetime) -> str:
    zone = current_app.jinja_env.filters["local"]
    return zone(moment, "%A %-d %B")


def _link(endpoint: str, **values: object) -> str:
    base = current_app.config["BASE_URL"].rstrip("/")
    with _url_context():
        return base + url_for(endpoint, **values, _external=False)


def _url_context() -> AbstractContextManager[object]:
    # Background tasks run without a request; links and templates still need one.
    if has_request_context():
        return nullcontext()
    return current_app.test_request_context(base_url=current_app.config["BASE_URL"])


def _email_invitees(meeting: Meeting, template: str, *, subject: str,
                    audience: Iterable[Person] = (), calendar: bool = False,
                    **extra: object) -> int:
    """Email every invitee (and anyone in ``audience``) who has an address, once each.

    With ``calendar``, each message carries the meeting as an .ics file, so that a calendar
    adds it, moves it or marks it cancelled (its SEQUENCE tells which version is newest).
    """
    from involve.meetings import calendars
    from involve.meetings.queries import invitees_with_people

    link = _link("meetings.meeting", meeting_id=meeting.id)
    items = [i for i in meeting.items if i.status == ItemStatus.accepted]
    people = {row.person.id: row.person for row in invitees_with_people(meeting.id)}
    for person in audience:
        people.setdefault(person.id, person)
    messages = []
    with _url_context():
        ics = calendars.meeting_calendar([meeting]) if calendar else None
        for person in people.values():
            user = person.user
            if user is not None and user.email:
                message = mail.render_message(template, to=user.email, subject=subject,
                                              meeting=meeting, person=person,
                                              items=items, link=link, **extra)
                if ics is not None:
                    message.add_attachment(ics, maintype="text", subtype="calendar",
                                           filename=f"meeting-{meeting.id}.ics")
                messages.append(message)
    return _send_each(messages)


def _email_person(person: Person | None, template: str, *, subject: str,
                  **context: object) -> int:
    """Email one person if they have an address; returns how many were sent (0 or 1)."""
    if person is None or person.user is None or not person.user.email:
        return 0
    with _url_context():
        message = mail.render_message(template, to=person.user.email, subject=subject,
                                      person=person, **context)
    return _send_each([message])


def _send_each(messages: list) -> int:
    # One refused address must not stop the others, nor undo the publishing.
    return mail.send_each(messages)
