"""Meetings as iCalendar (.ics): one meeting to add, or a series to subscribe to."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC
from email.utils import parseaddr
from urllib.parse import urlsplit

from flask import current_app, url_for
from icalendar import Calendar, Event, vCalAddress, vText

from involve.extensions import db, utcnow
from involve.meetings.models import Meeting, MeetingStatus
from involve.people.models import Organisation


def _base() -> str:
    return current_app.config["BASE_URL"].rstrip("/")


def meeting_uid(meeting: Meeting) -> str:
    """The same for a meeting every time, so calendars update it instead of adding a copy."""
    host = urlsplit(_base()).hostname or "involve.local"
    return f"meeting-{meeting.id}@{host}"


def organiser(meeting: Meeting) -> vCalAddress:
    """Who a calendar shows as the event's organiser: the service (and its organisation) at
    the address Involve sends from, so a reply reaches a mailbox that is read."""
    address = parseaddr(current_app.config["MAIL_FROM"])[1] or "involve@localhost"
    organisation = db.session.get(Organisation, meeting.series.organisation_id)
    names = [meeting.series.service.name if meeting.series.service else None,
             organisation.name if organisation else None]
    who = vCalAddress(f"mailto:{address}")
    who.params["cn"] = vText(", ".join(n for n in names if n) or "Involve")
    return who


def meeting_calendar(meetings: Iterable[Meeting], *, name: str | None = None) -> bytes:
    """An iCalendar document with one event per meeting, times in UTC."""
    calendar = Calendar()
    calendar.add("prodid", "-//Involve//Meetings//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    if name:
        calendar.add("x-wr-calname", name)
    for meeting in meetings:
        link = _base() + url_for("meetings.meeting", meeting_id=meeting.id)
        event = Event()
        event.add("uid", meeting_uid(meeting))
        event.add("summary", meeting.title)
        event.add("dtstart", meeting.starts_at.astimezone(UTC))
        event.add("dtend", meeting.ends_at.astimezone(UTC))
        event.add("dtstamp", utcnow())
        # Calendars keep the version with the highest SEQUENCE: it grows on every move and on
        # cancelling, so an attached or subscribed copy replaces the old one.
        event.add("sequence", meeting.calendar_sequence or 0)
        event.add("url", link)
        event.add("organizer", organiser(meeting))
        place = ", ".join(p for p in (meeting.room, meeting.online_link) if p)
        if place:
            event.add("location", place)
        access = [label for flag, label in (
            (meeting.hearing_loop, "hearing loop"), (meeting.easy_read_agenda,
                                                     "easy-read agenda"),
            (meeting.step_free, "step-free access")) if flag]
        description = [f"Meeting page: {link}"]
        if meeting.online_link:
            description.append(f"Join online: {meeting.online_link}")
        if access:
            description.append("Access: " + ", ".join(access))
        if meeting.status == MeetingStatus.cancelled:
            event.add("status", "CANCELLED")
            description.append(f"Cancelled: {meeting.cancelled_reason}")
        else:
            event.add("status", "CONFIRMED")
        event.add("description", "\n".join(description))
        calendar.add_component(event)
    return calendar.to_ical()
