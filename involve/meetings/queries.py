"""Queries the meetings pages (and other domains) need, each a bounded number of statements."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, String, cast, func, or_, select
from sqlalchemy.orm import aliased, joinedload, selectinload

from involve.extensions import db, utcnow
from involve.kernel import clock
from involve.meetings.models import (
    OPEN_ACTION_STATES,
    Action,
    ActionStatus,
    AgendaItem,
    ItemKind,
    ItemStatus,
    Meeting,
    MeetingInvitee,
    MeetingSeries,
    MeetingStatus,
    MinutesAttachment,
    MinutesRevision,
    SeriesKind,
)
from involve.meetings.policy import series_visible
from involve.people.models import CommunicationNeeds, Person, Service, User
from involve.people.policy import services_where
from involve.people.queries import contains_text
from involve.permissions import Actor

UPCOMING_STATES = (MeetingStatus.planned, MeetingStatus.agenda_published)
PRINTED_FORMATS = ("large_print", "print", "braille", "easy_read")  # as wants_print


def load_meeting(meeting_id: int) -> Meeting | None:
    """A meeting with its series, chair and minute-taker in one statement."""
    return db.session.scalar(
        select(Meeting).where(Meeting.id == meeting_id).options(
            joinedload(Meeting.series).joinedload(MeetingSeries.service),
            joinedload(Meeting.chair), joinedload(Meeting.minute_taker),
            joinedload(Meeting.minutes_approved_by)))


def invitees_query(meeting_id: int, search: str = "") -> Select[tuple[MeetingInvitee]]:
    """A meeting's invitees with their accounts and communication needs, by name, as a query
    to paginate; optionally only those whose name holds ``search``."""
    query = (select(MeetingInvitee).join(Person, Person.id == MeetingInvitee.person_id)
             .where(MeetingInvitee.meeting_id == meeting_id)
             .options(joinedload(MeetingInvitee.person).joinedload(Person.user),
                      joinedload(MeetingInvitee.person).joinedload(Person.communication_needs))
             .order_by(Person.full_name, Person.id))
    if search:
        query = query.where(contains_text(Person.full_name, search)
                            | contains_text(Person.preferred_name, search))
    return query


def invited_people_query(meeting: Meeting) -> Select[tuple[Person]]:
    """The people of the meeting's organisation invited to it, by name, for a picker."""
    invited = select(MeetingInvitee.person_id).where(MeetingInvitee.meeting_id == meeting.id)
    return (select(Person).where(Person.organisation_id == meeting.organisation_id,
                                 Person.id.in_(invited))
            .order_by(Person.full_name, Person.id))


def invitees_with_people(meeting_id: int) -> list[MeetingInvitee]:
    """Every invitee of a meeting (see :func:`invitees_query`)."""
    return list(db.session.scalars(invitees_query(meeting_id)))


def attendance_counts(meeting_id: int) -> dict[str, int]:
    """How many invitees are marked present, apologies, absent, or not yet ("unknown"), and
    how many are invited ("invited"), in one statement."""
    counts = {"present": 0, "apologies": 0, "absent": 0, "unknown": 0, "invited": 0}
    for mark, number in db.session.execute(
            select(MeetingInvitee.attendance, func.count(MeetingInvitee.id))
            .where(MeetingInvitee.meeting_id == meeting_id)
            .group_by(MeetingInvitee.attendance)):
        counts[mark.value if mark else "unknown"] += number
        counts["invited"] += number
    return counts


def print_copies_query(meeting_id: int) -> Select[tuple[MeetingInvitee]]:
    """Invitees who need a printed copy, by name, as a query to paginate: no email, or a need
    for print, large print, braille or easy read (as ``CommunicationNeeds.wants_print``)."""
    formats = cast(CommunicationNeeds.formats, String)
    return (invitees_query(meeting_id)
            .outerjoin(User, User.person_id == Person.id)
            .outerjoin(CommunicationNeeds, CommunicationNeeds.person_id == Person.id)
            .where(or_(User.email.is_(None), User.email == "",
                       *(formats.like(f'%"{each}"%') for each in PRINTED_FORMATS))))


def agenda_items(meeting_id: int) -> list[AgendaItem]:
    """Every item of a meeting (suggested, accepted, declined) with the people named on it."""
    return list(db.session.scalars(
        select(AgendaItem).where(AgendaItem.meeting_id == meeting_id)
        .options(joinedload(AgendaItem.raised_by), joinedload(AgendaItem.presenter),
                 joinedload(AgendaItem.suggested_by))
        .order_by(AgendaItem.position, AgendaItem.id)))


def meeting_actions(meeting_id: int) -> list[Action]:
    """Actions raised at a meeting, with their owners."""
    return list(db.session.scalars(
        select(Action).where(Action.meeting_id == meeting_id)
        .options(joinedload(Action.owner), joinedload(Action.said_by))
        .order_by(Action.agenda_item_id, Action.id)))


def matters_arising(meeting: Meeting) -> list[Action]:
    """Actions from earlier meetings of the same series: every open one, and those done or
    given up since the last meeting (with what was done, or why not), open ones first."""
    earlier = aliased(Meeting)
    last_meeting = (select(func.max(earlier.starts_at))
                    .where(earlier.series_id == meeting.series_id,
                           earlier.starts_at < meeting.starts_at,
                           earlier.status != MeetingStatus.cancelled).scalar_subquery())
    closed = func.coalesce(Action.closed_at, Action.done_at)
    actions = list(db.session.scalars(
        select(Action).join(Meeting, Meeting.id == Action.meeting_id)
        .where(Meeting.series_id == meeting.series_id, Meeting.starts_at < meeting.starts_at,
               or_(Action.status.in_(OPEN_ACTION_STATES), closed >= last_meeting))
        .options(joinedload(Action.owner), joinedload(Action.meeting),
                 joinedload(Action.said_by))
        .order_by(Action.due_on, Action.id)))
    return sorted(actions, key=lambda a: not a.is_open)


def minutes_attachments(meeting_id: int) -> list[MinutesAttachment]:
    """Files attached to a meeting's minutes (without their contents), oldest first."""
    return list(db.session.scalars(
        select(MinutesAttachment).where(MinutesAttachment.meeting_id == meeting_id)
        .order_by(MinutesAttachment.id)))


def revisions(meeting_id: int) -> list[MinutesRevision]:
    """The saved revisions of a meeting's minutes, newest first."""
    return list(db.session.scalars(
        select(MinutesRevision).where(MinutesRevision.meeting_id == meeting_id)
        .options(joinedload(MinutesRevision.created_by))
        .order_by(MinutesRevision.number.desc())))


@dataclass
class MeetingPage:
    """Everything the meeting page shows, loaded in a fixed number of statements."""

    meeting: Meeting
    agenda: list[AgendaItem]
    suggestions: list[AgendaItem]
    declined: list[AgendaItem]
    invitees: list[MeetingInvitee]
    actions: list[Action]
    arising: list[Action]
    actions_by_item: dict[int, list[Action]] = field(default_factory=dict)
    attachments: list[MinutesAttachment] = field(default_factory=list)
    invitees_loaded: bool = True  # False: ``counts`` asks the database (one statement)
    attendance: dict[str, int] | None = None

    @property
    def pictures(self) -> list[MinutesAttachment]:
        return [a for a in self.attachments if a.is_picture]

    @property
    def counts(self) -> dict[str, int]:
        if self.attendance is None and not self.invitees_loaded:
            self.attendance = attendance_counts(self.meeting.id)
        if self.attendance is not None:
            return self.attendance
        counts = {"present": 0, "apologies": 0, "absent": 0, "unknown": 0,
                  "invited": len(self.invitees)}
        for row in self.invitees:
            counts[row.attendance.value if row.attendance else "unknown"] += 1
        return counts


def meeting_page(meeting: Meeting, *, invitees: bool = True) -> MeetingPage:
    """Items, invitees (or, for a page that shows none, their counts) and actions of one
    meeting."""
    items = agenda_items(meeting.id)
    actions = meeting_actions(meeting.id)
    by_item: dict[int, list[Action]] = {}
    for action in actions:
        by_item.setdefault(action.agenda_item_id or 0, []).append(action)
    return MeetingPage(
        meeting=meeting,
        agenda=[i for i in items if i.status == ItemStatus.accepted],
        suggestions=[i for i in items if i.status == ItemStatus.suggested],
        declined=[i for i in items if i.status == ItemStatus.declined],
        invitees=invitees_with_people(meeting.id) if invitees else [],
        actions=actions,
        arising=matters_arising(meeting),
        actions_by_item=by_item,
        attachments=minutes_attachments(meeting.id) if meeting.is_held else [],
        invitees_loaded=invitees)


def minutes_audience(series: MeetingSeries) -> list[Person]:
    """Families and partners a series shares its minutes with, with their accounts."""
    from involve.people.models import Role, RoleGrant

    roles = [role for role, shared in ((Role.family, series.share_with_families),
                                       (Role.partner, series.share_with_partners)) if shared]
    if not roles:
        return []
    today = clock.today()
    # The same reach as the permission to read: a grant for the service or the organisation.
    scope = RoleGrant.service_id.is_(None)
    if series.service_id is not None:
        scope = scope | (RoleGrant.service_id == series.service_id)
    return list(db.session.scalars(
        select(Person).where(Person.id.in_(
            select(RoleGrant.person_id).where(
                RoleGrant.role.in_(roles), scope, RoleGrant.starts_on <= today,
                RoleGrant.ends_on.is_(None) | (RoleGrant.ends_on >= today))))
        .options(joinedload(Person.user)).order_by(Person.full_name)))


# --- lists -------------------------------------------------------------------------------

def series_query(actor: Actor, search: str = "") -> Select[tuple[MeetingSeries]]:
    """The series a person may see, by name, as a query to paginate: who may see each is
    decided in SQL (:func:`involve.meetings.policy.series_visible`), so nothing is filtered
    after a LIMIT; optionally only those whose name holds ``search``."""
    query = (select(MeetingSeries).where(series_visible(actor))
             .options(joinedload(MeetingSeries.service))
             .order_by(MeetingSeries.name, MeetingSeries.id))
    if search:
        query = query.where(contains_text(MeetingSeries.name, search))
    return query


def series_for(actor: Actor) -> list[MeetingSeries]:
    """Every series a person may see (see :func:`series_query`)."""
    return list(db.session.scalars(series_query(actor)))


def you_said_services_query(actor: Actor) -> Select[tuple[Service]]:
    """The active services whose "You said, we did" a person belongs to (a role or an
    ambassador term there, or in the whole organisation), by name."""
    ids, terms = actor.service_ids(), actor.term_service_ids()
    ids = None if ids is None or terms is None else ids | terms
    return (select(Service).where(Service.organisation_id == actor.organisation_id,
                                  Service.archived_at.is_(None),
                                  services_where(actor, Service.id, ids))
            .order_by(Service.name, Service.id))


def series_meetings(series_id: int) -> list[Meeting]:
    """Meetings of a series, newest first."""
    return list(db.session.scalars(
        select(Meeting).where(Meeting.series_id == series_id)
        .options(joinedload(Meeting.series), joinedload(Meeting.chair))
        .order_by(Meeting.starts_at.desc())))


def next_meetings(series_ids: Iterable[int] | Select, *, now: datetime | None = None,
                  limit: int = 20) -> list[Meeting]:
    """The coming meetings of some series (ids, or a query of series), soonest first."""
    if isinstance(series_ids, Select):
        series_ids = series_ids.with_only_columns(MeetingSeries.id).order_by(None)
    elif not series_ids:
        return []
    return list(db.session.scalars(
        select(Meeting).where(Meeting.series_id.in_(series_ids),
                              Meeting.ends_at >= (now or utcnow()))
        .options(joinedload(Meeting.series)).order_by(Meeting.starts_at).limit(limit)))


def my_upcoming(person_id: int, *, limit: int = 3) -> list[Meeting]:
    """The next meetings a person is invited to."""
    return list(db.session.scalars(
        select(Meeting).join(MeetingInvitee, MeetingInvitee.meeting_id == Meeting.id)
        .where(MeetingInvitee.person_id == person_id, Meeting.status.in_(UPCOMING_STATES),
               Meeting.ends_at >= utcnow())
        .options(joinedload(Meeting.series)).order_by(Meeting.starts_at).limit(limit)))


def minutes_to_draft(person_id: int) -> list[Meeting]:
    """Held meetings whose minutes this person (as chair or minute-taker) has still to write."""
    return list(db.session.scalars(
        select(Meeting).where(Meeting.status == MeetingStatus.held,
                              (Meeting.chair_id == person_id)
                              | (Meeting.minute_taker_id == person_id))
        .options(joinedload(Meeting.series)).order_by(Meeting.starts_at)))


def suggestions_waiting(person_id: int, service_ids: set[int] | None, *,
                        organisation_id: int) -> list[AgendaItem]:
    """Suggestions waiting for a decision, for the chair or the managers of the service."""
    query = (select(AgendaItem).join(Meeting, Meeting.id == AgendaItem.meeting_id)
             .join(MeetingSeries, MeetingSeries.id == Meeting.series_id)
             .where(MeetingSeries.organisation_id == organisation_id,
                    AgendaItem.status == ItemStatus.suggested,
                    Meeting.status.in_(UPCOMING_STATES))
             .options(joinedload(AgendaItem.meeting).joinedload(Meeting.series))
             .order_by(Meeting.starts_at, AgendaItem.id).limit(20))
    if service_ids is None:  # an organisation-wide manager or administrator
        return list(db.session.scalars(query))
    scope = Meeting.chair_id == person_id
    if service_ids:
        scope = scope | Meeting.service_id.in_(service_ids)
    return list(db.session.scalars(query.where(scope)))


def my_suggestions(person_id: int, *, limit: int = 5) -> list[AgendaItem]:
    """A person's latest suggestions and what became of them."""
    return list(db.session.scalars(
        select(AgendaItem).where(AgendaItem.raised_by_id == person_id,
                                 AgendaItem.kind == ItemKind.item,
                                 AgendaItem.suggested_by_id.is_not(None))
        .options(joinedload(AgendaItem.meeting).joinedload(Meeting.series))
        .order_by(AgendaItem.created_at.desc(), AgendaItem.id.desc()).limit(limit)))


def overdue_actions(*, owner_id: int | None = None, service_ids: set[int] | None = None,
                    everywhere_in: int | None = None, today: date | None = None) -> list[Action]:
    """Open actions past their due date, for an owner, for the services someone manages, or
    for every service of one organisation (``everywhere_in``)."""
    query = (select(Action).where(Action.status.in_(OPEN_ACTION_STATES),
                                  Action.due_on < (today or clock.today()))
             .options(joinedload(Action.owner), joinedload(Action.service))
             .order_by(Action.due_on, Action.id).limit(50))
    if owner_id is not None:
        query = query.where(Action.owner_id == owner_id)
    elif everywhere_in is not None:
        query = query.where(Action.organisation_id == everywhere_in)
    else:
        if not service_ids:
            return []
        query = query.where(Action.service_id.in_(service_ids))
    return list(db.session.scalars(query))


def open_actions_for_owner(owner_id: int) -> list[Action]:
    """Every open action a person owns, soonest due first."""
    return list(db.session.scalars(
        select(Action).where(Action.owner_id == owner_id, Action.status.in_(OPEN_ACTION_STATES))
        .options(joinedload(Action.service)).order_by(Action.due_on, Action.id).limit(50)))


def you_said_we_did(service: Service, *, limit: int = 100) -> list[Action]:
    """Closed actions of a service, newest first: what was done, and what will not be done
    and why."""
    closed = func.coalesce(Action.closed_at, Action.done_at)
    return list(db.session.scalars(
        select(Action).where(Action.service_id == service.id,
                             Action.organisation_id == service.organisation_id,
                             Action.status.in_([ActionStatus.done, ActionStatus.will_not_do]))
        .options(selectinload(Action.said_by))
        .order_by(closed.desc().nulls_last(), Action.id.desc()).limit(limit)))


def who_will_be_emailed(meeting: Meeting) -> tuple[list[Person], list[Person]]:
    """The invitees a change would email, and those who must be told another way."""
    rows = invitees_with_people(meeting.id)
    emailed = [r.person for r in rows if r.person.user and r.person.user.email]
    other = [r.person for r in rows if not (r.person.user and r.person.user.email)]
    return emailed, other


def people_choices_query(meeting: Meeting) -> Select[tuple[Person]]:
    """People who can raise, present or own something of a meeting, by name, as a query for
    a picker: its invitees, and the staff and managers of its service (or organisation)."""
    from involve.people.models import Role, RoleGrant, active_grants_query

    scope = RoleGrant.service_id.is_(None)
    if meeting.service_id is not None:
        scope = scope | (RoleGrant.service_id == meeting.service_id)
    staff = (active_grants_query().with_only_columns(RoleGrant.person_id)
             .where(RoleGrant.role.in_([Role.staff, Role.manager]), scope))
    invited = select(MeetingInvitee.person_id).where(MeetingInvitee.meeting_id == meeting.id)
    return (select(Person).where(Person.organisation_id == meeting.organisation_id,
                                 or_(Person.id.in_(invited), Person.id.in_(staff)))
            .order_by(Person.full_name, Person.id))


# --- the seams other domains use ---------------------------------------------------------

def done_actions(service_id: int | None, since: datetime | None, *,
                 organisation_id: int) -> list[Action]:
    """Done actions of an organisation's service (``None``: its organisation-wide ones),
    newest first."""
    scope = Action.service_id == service_id if service_id is not None \
        else Action.service_id.is_(None)
    query = (select(Action).where(scope, Action.organisation_id == organisation_id,
                                  Action.status == ActionStatus.done)
             .options(selectinload(Action.said_by), selectinload(Action.owner))
             .order_by(Action.done_at.desc(), Action.id.desc()))
    if since is not None:
        query = query.where(Action.done_at >= since)
    return list(db.session.scalars(query))


def recent_published_minutes(service_id: int | None, since: datetime | None, *,
                             organisation_id: int) -> list[Meeting]:
    """An organisation's meetings whose minutes were published (since a time), newest
    first."""
    scope = Meeting.service_id == service_id if service_id is not None \
        else Meeting.service_id.is_(None)
    query = (select(Meeting).join(MeetingSeries, MeetingSeries.id == Meeting.series_id)
             .where(scope, MeetingSeries.organisation_id == organisation_id,
                    Meeting.status == MeetingStatus.minutes_published)
             .options(joinedload(Meeting.series))
             .order_by(Meeting.minutes_published_at.desc()))
    if since is not None:
        query = query.where(Meeting.minutes_published_at >= since)
    return list(db.session.scalars(query))


def upcoming_meetings(service_id: int | None, until: datetime, *,
                      organisation_id: int) -> list[Meeting]:
    """Meetings of an organisation's service (or of it) still to come before ``until``."""
    scope = Meeting.service_id == service_id if service_id is not None \
        else Meeting.service_id.is_(None)
    return list(db.session.scalars(
        select(Meeting).join(MeetingSeries, MeetingSeries.id == Meeting.series_id)
        .where(scope, MeetingSeries.organisation_id == organisation_id,
               Meeting.status.in_(UPCOMING_STATES),
                              Meeting.starts_at >= utcnow(), Meeting.starts_at <= until)
        .options(joinedload(Meeting.series)).order_by(Meeting.starts_at)))


def next_meeting_of_kind(kind: str, service_id: int | None, *,
                         organisation_id: int) -> Meeting | None:
    """The next meeting of an organisation's series of this kind in the scope, if one is
    planned."""
    scope = Meeting.service_id == service_id if service_id is not None \
        else Meeting.service_id.is_(None)
    return db.session.scalar(
        select(Meeting).join(MeetingSeries, MeetingSeries.id == Meeting.series_id)
        .where(scope, MeetingSeries.kind == SeriesKind(kind),
               MeetingSeries.organisation_id == organisation_id,
               Meeting.status.in_(UPCOMING_STATES), Meeting.starts_at >= utcnow())
        .options(joinedload(Meeting.series)).order_by(Meeting.starts_at).limit(1))


def home_panel_items(actor: Any) -> dict[str, list]:
    """Coming meetings, minutes to write, suggestions to decide and overdue actions."""
    from involve.people.models import Role

    person_id = actor.person_id
    managed = actor.service_ids([Role.manager, Role.admin])
    everywhere = managed is None
    return {
        "upcoming": my_upcoming(person_id),
        "to_draft": minutes_to_draft(person_id),
        "waiting": suggestions_waiting(person_id, managed,
                                       organisation_id=actor.organisation_id)
        if (everywhere or managed or actor.has_role([Role.staff])) else [],
        "my_overdue": overdue_actions(owner_id=person_id),
        "team_overdue": [a for a in overdue_actions(
            service_ids=managed or set(),
            everywhere_in=actor.organisation_id if everywhere else None)
            if a.owner_id != person_id]
        if (everywhere or managed) else [],
        "my_suggestions": my_suggestions(person_id),
    }
