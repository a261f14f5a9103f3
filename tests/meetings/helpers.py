"""Factories for meetings tests: real rows through the real services."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

from involve.extensions import db, utcnow
from involve.meetings import services
from involve.meetings.models import (
    Action,
    AgendaItem,
    Meeting,
    MeetingSeries,
    MeetingStatus,
    SeriesKind,
)
from involve.people.models import Person, Role, Service
from tests.factories import World

RESIDENTS = [Role.service_user, Role.family, Role.staff, Role.manager]


HOME = object()  # the world's home service, unless a service (or None) is given
_names = itertools.count(1)


def make_series(world: World, *, service: Service | None | object = HOME,
                kind=SeriesKind.residents, roles=RESIDENTS, families: bool = True,
                partners: bool = False, ambassadors: bool = False,
                name: str | None = None) -> MeetingSeries:
    service = world.home if service is HOME else service
    name = name or f"Residents' meeting {next(_names)}"
    return services.create_series(
        organisation_id=world.org.id, service_id=service.id if service else None, name=name,
        kind=kind, invited_roles=roles, share_with_families=families,
        share_with_partners=partners, invite_ambassadors=ambassadors,
        by=world.people["manager"])


def make_meeting(world: World, series: MeetingSeries | None = None, *,
                 starts_at: datetime | None = None, hours: float = 1,
                 chair: Person | None = None, minute_taker: Person | None = None,
                 named: list[Person] = ()) -> Meeting:
    series = series or make_series(world)
    starts_at = starts_at or utcnow() + timedelta(days=7)
    return services.schedule_meeting(
        series, starts_at=starts_at, ends_at=starts_at + timedelta(hours=hours),
        room="Lounge", chair=chair or world.people["manager"],
        minute_taker=minute_taker or world.people["staff"], named_invitees=named,
        hearing_loop=True, by=world.people["manager"])


def held_meeting(world: World, series: MeetingSeries | None = None, **kwargs) -> Meeting:
    """A meeting that started yesterday and has been held."""
    meeting = make_meeting(world, series, starts_at=utcnow() - timedelta(days=1), **kwargs)
    services.mark_held(meeting, by=world.people["manager"])
    return meeting


def published_meeting(world: World, series: MeetingSeries | None = None, **kwargs) -> Meeting:
    """A held meeting with approved, published minutes."""
    meeting = held_meeting(world, series, **kwargs)
    items = {i.id: (f"Notes for {i.title}", "") for i in meeting.items}
    services.save_minutes(meeting, summary="We talked about food.", notes=items,
                          by=world.people["manager"])
    services.approve_minutes(meeting, approved_on=date.today(), how="By the chair",
                             by=world.people["manager"])
    services.publish_minutes(meeting, by=world.people["manager"])
    return meeting


def add_item(meeting: Meeting, world: World, title: str = "Garden benches") -> AgendaItem:
    return services.add_agenda_item(meeting, title=title, description="More benches, please",
                                    raised_by=world.people["service_user"],
                                    by=world.people["manager"])


def make_action(world: World, meeting: Meeting | None = None, *, owner: Person | None = None,
                due_on: date | None = None, service: Service | None = None,
                you_said: str = "The garden needs benches",
                we_will: str = "Buy two benches") -> Action:
    service = service or world.home
    return services.create_action(
        service_id=service.id, you_said=you_said, we_will=we_will,
        owner=owner or world.people["staff"], due_on=due_on or date.today() + timedelta(days=14),
        by=world.people["manager"], meeting=meeting)


def state(meeting_id: int) -> MeetingStatus:
    db.session.expire_all()
    return db.session.get(Meeting, meeting_id).status


def plain_text(message) -> str:
    """The plain-text part of a message received by the SMTP sink or kept in the outbox."""
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode()
    return ""
