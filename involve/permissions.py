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

from flask import abort, g
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
capability("people.import", "Import people from a CSV file", [R.admin])
capability("people.export", "Export people as a CSV file", [R.admin])
capability("audit.view", "Read the audit log", [R.admin])

# elections (section owned by involve/elections)

# meetings (section owned by involve/meetings)

# recruitment (section owned by involve/recruitment)

# newsletters (section owned by involve/newsletters)

# feedback (section owned by involve/feedback)
