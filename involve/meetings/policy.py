"""The meetings domain's policy: who sees, suggests to, chairs and minutes meetings."""

from __future__ import annotations

from typing import Any

from flask import g
from sqlalchemy import ColumnElement, String, and_, cast, false, or_, select

from involve.extensions import db
from involve.meetings.models import (
    AgendaItem,
    Meeting,
    MeetingInvitee,
    MeetingSeries,
    MeetingStatus,
    MinutesAttachment,
)
from involve.people.models import Role
from involve.people.policy import scoped
from involve.permissions import ANY_SCOPE, EVERY_ROLE, Actor, capability, scope_of, signed_in_rule

R = Role

_MEETING_STAFF = frozenset({R.staff, R.manager, R.admin})
_MEETING_MANAGERS = frozenset({R.manager, R.admin})


def _meeting_parts(obj: Any) -> tuple[Any, Any]:
    """The (series, meeting) an object of the meetings domain belongs to."""

    if isinstance(obj, AgendaItem | MinutesAttachment):
        obj = obj.meeting
    if isinstance(obj, Meeting):
        return obj.series, obj
    if isinstance(obj, MeetingSeries):
        return obj, None
    return None, None


def _named_invitee(actor: Actor, meeting: Any) -> bool:
    # One query per meeting and request, however many times a page asks.

    cache = g.setdefault("meetings_named_invitee", {})
    key = (actor.person_id, meeting.id)
    if key not in cache:
        cache[key] = db.session.scalar(select(MeetingInvitee.id).where(
            MeetingInvitee.meeting_id == meeting.id,
            MeetingInvitee.person_id == actor.person_id).limit(1)) is not None
    return cache[key]


def _named_in_series(actor: Actor, series: Any) -> bool:
    # Someone invited by name to a meeting may also open the series it belongs to.

    cache = g.setdefault("meetings_named_in_series", {})
    key = (actor.person_id, series.id)
    if key not in cache:
        cache[key] = db.session.scalar(
            select(MeetingInvitee.id).join(Meeting, Meeting.id == MeetingInvitee.meeting_id)
            .where(Meeting.series_id == series.id, MeetingInvitee.person_id == actor.person_id,
                   MeetingInvitee.named).limit(1)) is not None
    return cache[key]


def meeting_invited(actor: Actor, obj: Any) -> bool:
    """Invited to a meeting (or to every meeting of a series) by role, term or name."""
    series, meeting = _meeting_parts(obj)
    if series is None or not actor.signed_in:
        return False
    scope = series.service_id
    if actor.has_role(series.roles, scope):
        return True
    if series.invite_ambassadors and actor.is_ambassador(ANY_SCOPE if scope is None else scope):
        return True
    if meeting is None:
        return _named_in_series(actor, series)
    return _named_invitee(actor, meeting)


def _meeting_staff(actor: Actor, obj: Any) -> bool:
    return actor.has_role(_MEETING_STAFF, scope_of(obj))


def _meeting_manager(actor: Actor, obj: Any) -> bool:
    return actor.has_role(_MEETING_MANAGERS, scope_of(obj))


def _is_chair(actor: Actor, obj: Any) -> bool:
    _, meeting = _meeting_parts(obj)
    return meeting is not None and actor.person_id is not None \
        and meeting.chair_id == actor.person_id


def _is_minute_taker(actor: Actor, obj: Any) -> bool:
    _, meeting = _meeting_parts(obj)
    return meeting is not None and actor.person_id is not None \
        and meeting.minute_taker_id == actor.person_id


def meeting_audience(actor: Actor, obj: Any) -> bool:
    """Families and partners the series shares its minutes with."""
    series, _ = _meeting_parts(obj)
    if series is None:
        return False
    scope = series.service_id
    return (series.share_with_families and actor.has_role([R.family], scope)) or (
        series.share_with_partners and actor.has_role([R.partner], scope))


def _meeting_view(actor: Actor, obj: Any) -> bool:
    return (_meeting_staff(actor, obj) or meeting_invited(actor, obj)
            or meeting_audience(actor, obj) or _is_chair(actor, obj))


def series_visible(actor: Actor) -> ColumnElement[bool]:
    """SQL: the series ``actor`` may see (``meetings.view`` on a series), not archived.

    The same rule as :func:`_meeting_view` said in SQL, so that the meetings list pages and
    counts in the database: staff of the series' scope, roles it invites, ambassadors it
    invites, people invited by name to one of its meetings, and the families and partners
    it shares its minutes with. Never another organisation's.
    """
    if not actor.signed_in:
        return false()
    series = MeetingSeries
    place = (series.service_id, series.organisation_id)
    # ``invited_roles`` is a JSON list of role names; each name is a plain word in quotes.
    invites = [and_(cast(series.invited_roles, String).like(f'%"{role}"%'),
                    scoped(actor, *place, [role]))
               for role in sorted(EVERY_ROLE) if actor.has_role([role])]
    if actor.terms:  # any term covers the organisation's series; a service's, its own
        terms = actor.term_service_ids()
        invites.append(series.invite_ambassadors if terms is None else series.invite_ambassadors
                       & (series.service_id.is_(None) | series.service_id.in_(terms)))
    named = select(Meeting.series_id).join(
        MeetingInvitee, MeetingInvitee.meeting_id == Meeting.id).where(
        MeetingInvitee.person_id == actor.person_id, MeetingInvitee.named)
    return and_(series.organisation_id == actor.organisation_id, series.archived_at.is_(None),
                or_(scoped(actor, *place, _MEETING_STAFF), *invites, series.id.in_(named),
                    series.share_with_families & scoped(actor, *place, [R.family]),
                    series.share_with_partners & scoped(actor, *place, [R.partner])))


def _meeting_suggest(actor: Actor, obj: Any) -> bool:
    return _meeting_staff(actor, obj) or meeting_invited(actor, obj)


def _meeting_manage(actor: Actor, obj: Any) -> bool:
    return _meeting_manager(actor, obj) or _is_chair(actor, obj)


def _minutes_write(actor: Actor, obj: Any) -> bool:
    return _meeting_manage(actor, obj) or _is_minute_taker(actor, obj)


def _minutes_read(actor: Actor, obj: Any) -> bool:
    # Draft minutes may hold health details: only the chair, minute-taker and managers.
    _, meeting = _meeting_parts(obj)
    if meeting is None:
        return False

    if meeting.status == MeetingStatus.minutes_published and _meeting_view(actor, obj):
        return True
    # Those who write them read them from the day (attachments come before the first draft).
    return meeting.is_held and _minutes_write(actor, obj)


def _attendance(actor: Actor, obj: Any) -> bool:
    return _meeting_staff(actor, obj) or _minutes_write(actor, obj)


def _action_update(actor: Actor, obj: Any) -> bool:
    return (getattr(obj, "owner_id", None) == actor.person_id and actor.signed_in) \
        or _meeting_manager(actor, obj)


def _in_service(actor: Actor, obj: Any) -> bool:
    return actor.has_role(EVERY_ROLE, scope_of(obj)) or actor.is_ambassador(scope_of(obj))


capability("meetings.list", "See the meetings one is invited to", rule=signed_in_rule)
capability("meetings.create", "Start a new series of meetings", [R.manager, R.admin])
capability("meetings.manage_series", "Plan meetings in a series",
           rule=_meeting_manager)
capability("meetings.view", "See a meeting, its agenda and published minutes",
           rule=_meeting_view)
capability("meetings.suggest", "Suggest an item for a meeting's agenda", rule=_meeting_suggest)
capability("meetings.record_for_others", "Record an agenda suggestion on someone's behalf",
           rule=_meeting_staff)
capability("meetings.manage", "Chair a meeting: agenda, state, approving minutes",
           rule=_meeting_manage)
capability("meetings.attendance", "Take attendance at a meeting", rule=_attendance)
capability("meetings.write_minutes", "Write and change the minutes of a meeting",
           rule=_minutes_write)
capability("meetings.read_minutes", "Read minutes (drafts only for chair, minute-taker, managers)",
           rule=_minutes_read)
capability("meetings.update_action", "Update an action's progress", rule=_action_update)
capability("meetings.you_said", "See a service's \"You said, we did\"", rule=_in_service)

