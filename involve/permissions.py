"""The one policy: who may do what, where.

Roles are granted to a person for a scope: one service, or the whole organisation (a grant
with no service). A *capability* names something a person can do (``meetings.manage``); it is
held through roles in a scope, or through an object rule (an invitee of a meeting, a member of
an interview panel, an ambassador with an active term). Every view declares the capability it
needs with :func:`requires`, which loads the object (404), checks the capability against it
(403, or the sign-in page for someone not signed in) and only then runs the view.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import abort, g, has_request_context
from flask_login import current_user
from sqlalchemy import select

from involve.extensions import db, login_manager
from involve.people.models import AmbassadorTerm, Person, Role, RoleGrant

R = Role
EVERY_ROLE = frozenset(Role)
ANY_SCOPE = object()  # "no particular object": a grant in any scope will do


@dataclass
class Actor:
    """The signed-in person with their grants and ambassador terms in force today."""

    person: Person | None
    grants: list[RoleGrant] = field(default_factory=list)
    terms: list[AmbassadorTerm] = field(default_factory=list)

    @property
    def signed_in(self) -> bool:
        return self.person is not None

    @property
    def person_id(self) -> int | None:
        return self.person.id if self.person else None

    def has_role(self, roles: Iterable[Role], scope: Any = ANY_SCOPE) -> bool:
        """True when the person holds one of ``roles`` covering ``scope``.

        ``scope`` is a service id, ``None`` for the whole organisation, or ``ANY_SCOPE``.
        An organisation-wide grant covers every service; a service grant covers only its service.
        """
        roles = set(roles)
        for grant in self.grants:
            if grant.role not in roles:
                continue
            if scope is ANY_SCOPE or grant.service_id is None or grant.service_id == scope:
                return True
        return False

    def is_ambassador(self, scope: Any = ANY_SCOPE) -> bool:
        """True when the person has an ambassador term in force covering ``scope``."""
        for term in self.terms:
            if scope is ANY_SCOPE or term.service_id is None or term.service_id == scope:
                return True
        return False

    def narrowed_to(self, service_id: int) -> Actor:
        """The same person seen through one service only (the service switcher's choice).

        Grants and terms covering that service become grants for it alone; the rest drop away.
        """
        grants = [RoleGrant(person_id=g.person_id, role=g.role, service_id=service_id,
                            starts_on=g.starts_on, ends_on=g.ends_on)
                  for g in self.grants if g.service_id in (None, service_id)]
        terms = [AmbassadorTerm(person_id=t.person_id, service_id=service_id,
                                starts_on=t.starts_on, ends_on=t.ends_on)
                 for t in self.terms if t.service_id in (None, service_id)]
        return Actor(self.person, grants, terms)

    def service_ids(self, roles: Iterable[Role] = EVERY_ROLE) -> set[int] | None:
        """The services where the person holds one of ``roles``; ``None`` means all of them."""
        roles = set(roles)
        ids: set[int] = set()
        for grant in self.grants:
            if grant.role in roles:
                if grant.service_id is None:
                    return None
                ids.add(grant.service_id)
        return ids


Rule = Callable[[Actor, Any], bool]


@dataclass(frozen=True)
class Capability:
    """Something a person can do. ``rule`` (when given) decides alone, with the object."""

    name: str
    description: str
    roles: frozenset[Role] = frozenset()
    public: bool = False
    rule: Rule | None = None


CAPABILITIES: dict[str, Capability] = {}


def capability(name: str, description: str, roles: Iterable[Role] = (), *, public: bool = False,
               rule: Rule | None = None) -> Capability:
    """Declare a capability (each name once)."""
    if name in CAPABILITIES:
        raise ValueError(f"capability {name!r} declared twice")
    cap = Capability(name, description, frozenset(roles), public, rule)
    CAPABILITIES[name] = cap
    return cap


def scope_of(obj: Any) -> Any:
    """The scope an object lives in: its service id, ``None`` (organisation) or ``ANY_SCOPE``."""
    if obj is None:
        return ANY_SCOPE
    return obj.scope_service_id


def current_actor() -> Actor:
    """The actor for this request, loaded once."""
    if not has_request_context():  # background work and commands act for nobody
        return Actor(None)
    if "actor" not in g:
        g.actor = load_actor(current_user.person if current_user.is_authenticated else None)
    return g.actor


def load_actor(person: Person | None, on: date | None = None) -> Actor:
    """Build an actor for ``person`` from the grants and terms in force on ``on``."""
    if person is None:
        return Actor(None)
    on = on or date.today()
    grants = db.session.scalars(
        select(RoleGrant).where(RoleGrant.person_id == person.id, RoleGrant.starts_on <= on,
                                (RoleGrant.ends_on.is_(None)) | (RoleGrant.ends_on >= on))
    ).all()
    terms = db.session.scalars(
        select(AmbassadorTerm).where(
            AmbassadorTerm.person_id == person.id, AmbassadorTerm.starts_on <= on,
            (AmbassadorTerm.ends_on.is_(None)) | (AmbassadorTerm.ends_on >= on))
    ).all()
    return Actor(person, list(grants), list(terms))


def can(name: str, obj: Any = None, actor: Actor | None = None) -> bool:
    """May the actor (the signed-in person by default) use capability ``name`` on ``obj``?"""
    cap = CAPABILITIES[name]
    actor = actor or current_actor()
    if cap.public:
        return cap.rule(actor, obj) if cap.rule else True
    if not actor.signed_in:
        return False
    if cap.rule is not None:
        return cap.rule(actor, obj)
    return actor.has_role(cap.roles, scope_of(obj))


def loader(model: type) -> Callable[..., Any]:
    """A loader for :func:`requires`: the object whose id is the URL's one argument, or 404."""

    def load(**kwargs: Any) -> Any:
        (object_id,) = kwargs.values()
        return db.get_or_404(model, object_id)

    load.__name__ = f"load_{model.__name__.lower()}"
    return load


def requires(name: str, load: Callable[..., Any] | None = None) -> Callable[[Callable], Callable]:
    """Declare and enforce the capability a view needs.

    With ``load``, the URL's arguments go to the loader (which 404s when the object is
    missing) and the view is called with the loaded object alone.
    """
    if name not in CAPABILITIES:
        raise KeyError(f"unknown capability {name!r}")

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def guarded(**kwargs: Any) -> Any:
            obj = load(**kwargs) if load else None
            if not can(name, obj):
                if not current_actor().signed_in:
                    return login_manager.unauthorized()
                abort(403)
            return view(obj) if load else view(**kwargs)

        guarded.capability = name  # type: ignore[attr-defined]
        return guarded

    return decorator


def public(view: Callable) -> Callable:
    """Mark a view as open to everyone (sign-in page, public newsletter, voting with a code)."""
    return requires("public")(view)


# --- the capabilities ---------------------------------------------------------------------
# Each domain keeps its capabilities in its own section below.

def _signed_in(actor: Actor, obj: Any) -> bool:
    return actor.signed_in


capability("public", "Anyone, signed in or not", public=True)
capability("signed_in", "Anyone who is signed in", rule=_signed_in)

# people and administration

def _about_person(roles: Iterable[Role]) -> Rule:
    """A rule for pages about one person: the roles must cover a service the person is in."""
    roles = frozenset(roles)

    def rule(actor: Actor, obj: Any) -> bool:
        if not isinstance(obj, Person):
            return actor.has_role(roles, scope_of(obj))
        services = {g.service_id for g in obj.grants}
        if actor.has_role(roles, None):
            return True
        return any(actor.has_role(roles, s) for s in services if s is not None)

    return rule


capability("services.manage", "Create, edit and archive services", [R.admin])
capability("people.view", "See the people of a service", rule=_about_person([R.admin, R.manager]))
capability("people.manage", "Add people, grant and end roles, link families",
           rule=_about_person([R.admin, R.manager]))
capability("people.view_needs", "See communication needs and other special-category data",
           rule=_about_person([R.admin, R.manager, R.staff]))
def _own_import(actor: Actor, obj: Any) -> bool:
    # An uploaded file is seen and confirmed only by the admin who uploaded it.
    if not actor.has_role([R.admin]):
        return False
    return obj is None or obj.created_by_id == actor.person_id


capability("people.import", "Import people from a CSV file", rule=_own_import)
capability("people.export", "Export people as a CSV file", [R.admin])
capability("audit.view", "Read the audit log", [R.admin])

# Roles a manager may hand out in their own services; admins may grant any role.
MANAGER_GRANTABLE = frozenset({R.service_user, R.family, R.staff, R.partner})


def may_grant(actor: Actor, role: Role, service_id: int | None) -> bool:
    """May the actor grant (or end) ``role`` for a service (``None``: the organisation)?"""
    if actor.has_role([R.admin], service_id):
        return True
    return (service_id is not None and Role(role) in MANAGER_GRANTABLE
            and actor.has_role([R.manager], service_id))

# elections (section owned by involve/elections)

_ELECTION_READERS = [R.service_user, R.family, R.staff, R.manager, R.board, R.admin]
_ELECTION_MANAGERS = [R.manager, R.board, R.admin]


def _election_scope_rule(roles: Iterable[Role], *, everywhere_for_org: bool = False) -> Rule:
    """Roles covering the election's scope (a candidate or roll entry counts as its election).

    With ``everywhere_for_org``, an organisation-wide election is open to those roles in any
    service: every service user votes in it, so every service's people may see it.
    """
    roles = frozenset(roles)

    def rule(actor: Actor, obj: Any) -> bool:
        scope = scope_of(obj)
        if scope is None and everywhere_for_org:
            scope = ANY_SCOPE
        return actor.has_role(roles, scope)

    return rule


def _candidate_or_staff(actor: Actor, candidate: Any) -> bool:
    """The nominee themselves, or staff and managers of the election's service."""
    if candidate is not None and getattr(candidate, "person_id", None) == actor.person_id:
        return True
    return actor.has_role([R.staff, R.manager, R.admin], scope_of(candidate))


def _candidate_photo(actor: Actor, candidate: Any) -> bool:
    """Photos of standing candidates are public once nominations close (code voters need them);
    before that, only those who can see the election."""
    from involve.elections.models import Status

    if candidate.is_standing and candidate.election.status not in (
            Status.draft, Status.nominations_open, Status.cancelled):
        return True
    return actor.signed_in and (actor.person_id == candidate.person_id or actor.has_role(
        _ELECTION_READERS, scope_of(candidate)))


capability("elections.view", "See elections, candidates and published results",
           rule=_election_scope_rule(_ELECTION_READERS, everywhere_for_org=True))
capability("elections.create", "Create an election", _ELECTION_MANAGERS)
capability("elections.manage", "Run an election: stages, roll, cards, paper ballots, count",
           rule=_election_scope_rule(_ELECTION_MANAGERS))
capability("elections.nominate", "Nominate a service user to stand",
           rule=_election_scope_rule([R.service_user, R.staff, R.manager, R.admin],
                                     everywhere_for_org=True))
capability("elections.candidate", "Consent, edit a statement or withdraw a nomination",
           rule=_candidate_or_staff)
capability("elections.candidate_photo", "See a candidate's photo", public=True,
           rule=_candidate_photo)
capability("elections.assist", "Open the ballot for a voter on a shared tablet",
           rule=_election_scope_rule([R.staff, R.manager], everywhere_for_org=True))

# meetings (section owned by involve/meetings)

_MEETING_STAFF = frozenset({R.staff, R.manager, R.admin})
_MEETING_MANAGERS = frozenset({R.manager, R.admin})


def _meeting_parts(obj: Any) -> tuple[Any, Any]:
    """The (series, meeting) an object of the meetings domain belongs to."""
    from involve.meetings.models import AgendaItem, Meeting, MeetingSeries

    if isinstance(obj, AgendaItem):
        obj = obj.meeting
    if isinstance(obj, Meeting):
        return obj.series, obj
    if isinstance(obj, MeetingSeries):
        return obj, None
    return None, None


def _named_invitee(actor: Actor, meeting: Any) -> bool:
    # One query per meeting and request, however many times a page asks.
    from involve.meetings.models import MeetingInvitee

    cache = g.setdefault("meetings_named_invitee", {})
    key = (actor.person_id, meeting.id)
    if key not in cache:
        cache[key] = db.session.scalar(select(MeetingInvitee.id).where(
            MeetingInvitee.meeting_id == meeting.id,
            MeetingInvitee.person_id == actor.person_id).limit(1)) is not None
    return cache[key]


def _named_in_series(actor: Actor, series: Any) -> bool:
    # Someone invited by name to a meeting may also open the series it belongs to.
    from involve.meetings.models import Meeting, MeetingInvitee

    cache = g.setdefault("meetings_named_in_series", {})
    key = (actor.person_id, series.id)
    if key not in cache:
        cache[key] = db.session.scalar(
            select(MeetingInvitee.id).join(Meeting, Meeting.id == MeetingInvitee.meeting_id)
            .where(Meeting.series_id == series.id, MeetingInvitee.person_id == actor.person_id,
                   MeetingInvitee.named).limit(1)) is not None
    return cache[key]


def prime_named_in_series(actor: Actor, series_ids: Iterable[int], named: set[int]) -> None:
    """Tell the policy at once, for many series, where the person is invited by name.

    Lists of series call this so that checking each one needs no statement of its own.
    """
    cache = g.setdefault("meetings_named_in_series", {})
    for series_id in series_ids:
        cache.setdefault((actor.person_id, series_id), series_id in named)


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
    from involve.meetings.models import MeetingStatus

    if meeting.status == MeetingStatus.minutes_published and _meeting_view(actor, obj):
        return True
    return meeting.has_minutes and _minutes_write(actor, obj)


def _attendance(actor: Actor, obj: Any) -> bool:
    return _meeting_staff(actor, obj) or _minutes_write(actor, obj)


def _action_update(actor: Actor, obj: Any) -> bool:
    return (getattr(obj, "owner_id", None) == actor.person_id and actor.signed_in) \
        or _meeting_manager(actor, obj)


def _in_service(actor: Actor, obj: Any) -> bool:
    return actor.has_role(EVERY_ROLE, scope_of(obj)) or actor.is_ambassador(scope_of(obj))


capability("meetings.list", "See the meetings one is invited to", rule=_signed_in)
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

# recruitment (section owned by involve/recruitment)

def _recruitment_vacancy(obj: Any) -> Any:
    """The vacancy an object belongs to (a vacancy, candidate, panel member or question)."""
    from involve.recruitment.models import Vacancy

    if obj is None or isinstance(obj, Vacancy):
        return obj
    return getattr(obj, "vacancy", None)


def _recruitment_manager(actor: Actor, obj: Any) -> bool:
    return actor.has_role([R.manager], scope_of(obj))


def _recruitment_index(actor: Actor, obj: Any) -> bool:
    """Staff and managers, and anyone on a panel or in the panel pool."""
    if not actor.signed_in:
        return False
    if actor.has_role([R.manager, R.staff]):
        return True
    from involve.recruitment.models import PanelMember, PanelPoolMember

    for model in (PanelMember, PanelPoolMember):
        if db.session.scalar(select(model.id).where(model.person_id == actor.person_id)
                             .limit(1)) is not None:
            return True
    return False


def _recruitment_panel_member(actor: Actor, obj: Any) -> bool:
    """Someone on this vacancy's panel (a manager of the service sees it too)."""
    vacancy = _recruitment_vacancy(obj)
    if vacancy is None:
        return False
    return (vacancy.member_for(actor.person_id) is not None
            or actor.has_role([R.manager], vacancy.service_id))


def _recruitment_runs_panel(actor: Actor, obj: Any) -> bool:
    """The chair of this vacancy's panel, or a manager of the service."""
    vacancy = _recruitment_vacancy(obj)
    if vacancy is None:
        return False
    return (vacancy.chair_id is not None and vacancy.chair_id == actor.person_id) \
        or actor.has_role([R.manager], vacancy.service_id)


def _recruitment_scorer(actor: Actor, obj: Any) -> bool:
    """Only members of the candidate's own panel score; managers not on it do not."""
    vacancy = _recruitment_vacancy(obj)
    return vacancy is not None and vacancy.member_for(actor.person_id) is not None


def _recruitment_own_sheet(actor: Actor, obj: Any) -> bool:
    """A panel member's interview sheet: theirs, the chair's and the manager's to open."""
    return obj.person_id == actor.person_id or _recruitment_runs_panel(actor, obj)


def _recruitment_question_bank(actor: Actor, obj: Any) -> bool:
    """A service's question bank: its staff and managers, and its panel pool."""
    if actor.has_role([R.manager, R.staff], scope_of(obj)):
        return True
    if obj is None:
        return False
    from involve.recruitment.models import PanelPoolMember

    return db.session.scalar(select(PanelPoolMember.id).where(
        PanelPoolMember.person_id == actor.person_id,
        PanelPoolMember.service_id == obj.id)) is not None


def _recruitment_own_recognition(actor: Actor, obj: Any) -> bool:
    """A person's recognition log: theirs, or a manager's of one of their services."""
    return (isinstance(obj, Person) and obj.id == actor.person_id) \
        or _about_person([R.manager])(actor, obj)


capability("recruitment.index", "See the interview panels you sit on",
           rule=_recruitment_index)
capability("recruitment.manage", "Create vacancies, record candidates, build panels and the pool",
           rule=_recruitment_manager)
capability("recruitment.view_vacancy", "See a vacancy's panel, candidates and questions",
           rule=_recruitment_panel_member)
capability("recruitment.run_panel", "Chair a panel: agree questions, compare scores, decide",
           rule=_recruitment_runs_panel)
capability("recruitment.score", "Score candidates on your own panel", rule=_recruitment_scorer)
capability("recruitment.interview_sheet", "Print a panel member's interview sheet",
           rule=_recruitment_own_sheet)
capability("recruitment.questions", "Read and write interview questions for a service",
           rule=_recruitment_question_bank)
capability("recruitment.recognition", "See a participant's recognition log",
           rule=_recruitment_own_recognition)
capability("recruitment.recognition_manage", "Record hours, payments and vouchers",
           rule=_about_person([R.manager]))
capability("recruitment.statistics", "See how often service users' choice was appointed",
           [R.manager, R.board])

# newsletters (section owned by involve/newsletters)

def _newsletter_manage(actor: Actor, obj: Any) -> bool:
    """Managers run their service's newsletter; admins and the board the organisation's."""
    if _newsletter_other_organisation(actor, obj):
        return False
    scope = scope_of(obj)
    if scope is ANY_SCOPE:
        return actor.has_role([R.manager, R.admin]) or actor.has_role([R.board], None)
    if scope is None:
        return actor.has_role([R.admin, R.board], None)
    return actor.has_role([R.manager, R.admin], scope)


def _newsletter_read(actor: Actor, obj: Any) -> bool:
    """A published issue is for its audiences (anyone for public ones); drafts for managers."""
    from involve.newsletters.models import Issue, IssueImage

    if isinstance(obj, IssueImage):
        obj = obj.issue
    if not isinstance(obj, Issue):
        return actor.signed_in
    if actor.signed_in and _newsletter_manage(actor, obj):
        return True
    if not obj.is_published:
        return False
    if obj.is_public:
        return True
    if not actor.signed_in:
        return False
    if _newsletter_other_organisation(actor, obj):
        return False
    from involve.newsletters.queries import AUDIENCE_ROLES

    # The organisation's own newsletter is for its audiences in every service: the same
    # people it is emailed to (queries.recipients), so "read it on the web" always opens.
    scope = ANY_SCOPE if obj.service_id is None else obj.service_id
    for audience in obj.audience_list:
        roles = AUDIENCE_ROLES.get(audience, ())
        if audience.value == "service_users" and actor.is_ambassador(scope):
            return True
        if roles and actor.has_role(roles, scope):
            return True
        if audience.value == "families" and _newsletter_relative_of(actor, obj.service_id):
            return True
    return False


def _newsletter_other_organisation(actor: Actor, obj: Any) -> bool:
    """True for an issue or service of another organisation than the signed-in person's."""
    organisation_id = getattr(obj, "organisation_id", None)
    return (actor.signed_in and organisation_id is not None
            and organisation_id != actor.person.organisation_id)


def _newsletter_relative_of(actor: Actor, service_id: int | None) -> bool:
    """Is the person a linked relative of someone using ``service_id`` (any, for None)?"""
    from involve.newsletters.queries import relative_service_ids

    cache = g.setdefault("newsletter_relatives", {}) if has_request_context() else {}
    if actor.person_id not in cache:
        cache[actor.person_id] = relative_service_ids(actor.person_id)
    found = cache[actor.person_id]
    return bool(found) if service_id is None else bool(found & {service_id, None})


capability("newsletters.browse", "See the newsletters list", rule=_signed_in)
capability("newsletters.manage", "Write, publish and send newsletters",
           rule=_newsletter_manage)
capability("newsletters.read", "Read a published newsletter addressed to you",
           public=True, rule=_newsletter_read)

# feedback (section owned by involve/feedback)

_FEEDBACK_READERS = frozenset({R.board, R.manager})


def _feedback_reader(actor: Actor, obj: Any) -> bool:
    """Board and managers of the scope, and its ambassadors (ambassador feedback)."""
    scope = scope_of(obj)
    if actor.has_role(_FEEDBACK_READERS, scope) or actor.is_ambassador(scope):
        return True
    # Staff who recorded an item on an ambassador's behalf may look at what they wrote.
    return obj is not None and getattr(obj, "recorded_by_id", None) == actor.person_id


def _feedback_discussant(actor: Actor, obj: Any) -> bool:
    scope = scope_of(obj)
    return actor.has_role(_FEEDBACK_READERS, scope) or actor.is_ambassador(scope)


def _feedback_recorder(actor: Actor, obj: Any) -> bool:
    """Ambassadors of the scope, or staff and managers recording on an ambassador's behalf."""
    scope = scope_of(obj)
    return actor.is_ambassador(scope) or actor.has_role([R.staff, R.manager], scope)


def _briefing_ambassador(actor: Actor, obj: Any) -> bool:
    scope = scope_of(obj)
    if obj is not None and scope is None:
        return actor.is_ambassador()  # an organisation-wide briefing is for every ambassador
    return actor.is_ambassador(scope)


def _briefing_reader(actor: Actor, obj: Any) -> bool:
    scope = scope_of(obj)
    if obj is not None and scope is None:
        return actor.is_ambassador() or actor.has_role(_FEEDBACK_READERS)
    return _feedback_discussant(actor, obj)


def _submission_reader(actor: Actor, obj: Any) -> bool:
    """Board and managers of the service, and the person who submitted or recorded it.

    The text may hold health details, so nobody else (family, partners, other service users,
    staff who did not record it) sees it.
    """
    if actor.has_role(_FEEDBACK_READERS, scope_of(obj)):
        return True
    if obj is None or actor.person_id is None:
        return False
    return actor.person_id in (obj.submitter_id, obj.recorded_by_id)


capability("feedback.record", "Record ambassador feedback (as an ambassador, or on their behalf)",
           rule=_feedback_recorder)
capability("feedback.view", "Read ambassador feedback and its answer", rule=_feedback_reader)
capability("feedback.list", "See the list of ambassador feedback", rule=_feedback_discussant)
capability("feedback.comment", "Comment on ambassador feedback", rule=_feedback_discussant)
capability("feedback.moderate", "Hide a comment on ambassador feedback", [R.manager])
capability("feedback.review", "Review and answer ambassador feedback", [R.board])
capability("feedback.brief", "Post board briefings for ambassadors", [R.board])
capability("feedback.briefings", "Read board briefings", rule=_briefing_reader)
capability("feedback.share", "Mark a briefing shared and record what people said back",
           rule=_briefing_ambassador)
capability("feedback.submissions", "Read and answer compliments, concerns and complaints",
           [R.board, R.manager])
capability("feedback.submission", "Read one submission and its answer", rule=_submission_reader)
def _theme_editor(actor: Actor, obj: Any) -> bool:
    """Administrators and board members edit their own organisation's themes."""
    if not actor.has_role([R.admin, R.board]):
        return False
    return obj is None or obj.organisation_id == actor.person.organisation_id


capability("feedback.themes", "Edit the organisation's list of feedback themes",
           rule=_theme_editor)
