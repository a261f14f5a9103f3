"""The core of the one policy: the actor, capabilities, ``can``, ``requires`` and loaders.

Roles are granted to a person for a scope: one service, or the whole organisation (a grant
with no service). A *capability* names something a person can do (``meetings.manage``); it is
held through roles in a scope, or through an object rule (an invitee of a meeting, a member of
an interview panel, an ambassador with an active term). Every view declares the capability it
needs with :func:`requires`, which loads the object (404), checks the capability against it
(403, or the sign-in page for someone not signed in) and only then runs the view.

The organisation boundary is kept here, once: an actor belongs to one organisation; an object
of another organisation answers 404 from every loader, exactly like one that does not exist,
and no capability holds on it. Each domain declares its own capabilities, rules and SQL
visibility in ``<domain>/policy.py``; this module imports no domain. The people domain
registers how an actor is built from a person (:func:`register_actor_source`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import abort, g, has_request_context
from flask_login import current_user

from involve.extensions import db, login_manager

ANY_SCOPE = object()  # "no particular object": a grant in any scope will do
EVERY_ROLE = frozenset({"service_user", "family", "staff", "manager", "board", "admin",
                        "partner"})


@dataclass(frozen=True)
class Grant:
    """A role held in a scope: a service id, or ``None`` for the whole organisation."""

    role: str
    service_id: int | None


@dataclass
class Actor:
    """The signed-in person, their organisation, and the grants and terms in force today.

    ``terms`` are the scopes of ambassador terms in force (service ids, ``None`` for the
    organisation). Nothing here reaches beyond ``organisation_id``.
    """

    person: Any | None
    grants: list[Grant] = field(default_factory=list)
    terms: list[int | None] = field(default_factory=list)

    @property
    def signed_in(self) -> bool:
        return self.person is not None

    @property
    def person_id(self) -> int | None:
        return self.person.id if self.person is not None else None

    @property
    def organisation_id(self) -> int | None:
        return self.person.organisation_id if self.person is not None else None

    def has_role(self, roles: Iterable[str], scope: Any = ANY_SCOPE) -> bool:
        """True when the person holds one of ``roles`` covering ``scope``.

        ``scope`` is a service id of the person's organisation, ``None`` for the whole
        organisation, or ``ANY_SCOPE``. An organisation-wide grant covers every service of the
        person's own organisation (objects of other organisations never get this far: see
        :func:`can`); a service grant covers only its service.
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
        return any(scope is ANY_SCOPE or term is None or term == scope for term in self.terms)

    def narrowed_to(self, service_id: int) -> Actor:
        """The same person seen through one service only (the service switcher's choice).

        Grants and terms covering that service become grants for it alone; the rest drop away.
        """
        grants = [Grant(grant.role, service_id) for grant in self.grants
                  if grant.service_id in (None, service_id)]
        terms = [service_id for term in self.terms if term in (None, service_id)]
        return Actor(self.person, grants, terms)

    def service_ids(self, roles: Iterable[str] = EVERY_ROLE) -> set[int] | None:
        """The services where the person holds one of ``roles``.

        ``None`` means every service of the person's own organisation.
        """
        roles = set(roles)
        ids: set[int] = set()
        for grant in self.grants:
            if grant.role in roles:
                if grant.service_id is None:
                    return None
                ids.add(grant.service_id)
        return ids

    def term_service_ids(self) -> set[int] | None:
        """The services where the person is an ambassador (``None``: the whole organisation)."""
        if any(term is None for term in self.terms):
            return None
        return set(self.terms)


Rule = Callable[[Actor, Any], bool]


@dataclass(frozen=True)
class Capability:
    """Something a person can do. ``rule`` (when given) decides alone, with the object."""

    name: str
    description: str
    roles: frozenset[str] = frozenset()
    public: bool = False
    rule: Rule | None = None


CAPABILITIES: dict[str, Capability] = {}


def capability(name: str, description: str, roles: Iterable[str] = (), *, public: bool = False,
               rule: Rule | None = None) -> Capability:
    """Declare a capability (each name once); domains do so in their ``policy`` module."""
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


def organisation_of(obj: Any) -> int | None:
    """The organisation an object belongs to (every model declares ``organisation_id``)."""
    return obj.organisation_id


def outside_organisation(actor: Actor, obj: Any) -> bool:
    """True when a signed-in actor looks at an object of another organisation."""
    return (obj is not None and actor.signed_in
            and organisation_of(obj) != actor.organisation_id)


# --- the actor ---------------------------------------------------------------------------

ActorSource = Callable[[Any, date | None], Actor]
_actor_source: list[ActorSource] = []


def register_actor_source(source: ActorSource) -> None:
    """The people domain tells the core how to build an actor from a person."""
    _actor_source[:] = [source]


def load_actor(person: Any | None, on: date | None = None) -> Actor:
    """Build an actor for ``person`` from the grants and terms in force on ``on``."""
    if person is None:
        return Actor(None)
    return _actor_source[0](person, on)


def current_actor() -> Actor:
    """The actor for this request, loaded once."""
    if not has_request_context():  # background work and commands act for nobody
        return Actor(None)
    if "actor" not in g:
        g.actor = load_actor(current_user.person if current_user.is_authenticated else None)
    return g.actor


# --- checking ----------------------------------------------------------------------------

def can(name: str, obj: Any = None, actor: Actor | None = None) -> bool:
    """May the actor (the signed-in person by default) use capability ``name`` on ``obj``?

    Nothing of another organisation is ever allowed, whatever the rule says.
    """
    cap = CAPABILITIES[name]
    actor = actor or current_actor()
    if outside_organisation(actor, obj):
        return False
    if cap.public:
        return cap.rule(actor, obj) if cap.rule else True
    if not actor.signed_in:
        return False
    if cap.rule is not None:
        return cap.rule(actor, obj)
    return actor.has_role(cap.roles, scope_of(obj))


def within_organisation(obj: Any) -> Any:
    """``obj``, or 404 when it is missing or belongs to another organisation than the actor's."""
    if obj is None or outside_organisation(current_actor(), obj):
        abort(404)
    return obj


def loader(model: type) -> Callable[..., Any]:
    """A loader for :func:`requires`: the object whose id is the URL's one argument, or 404.

    Another organisation's object answers 404, exactly like one that does not exist.
    """

    def load(**kwargs: Any) -> Any:
        (object_id,) = kwargs.values()
        return within_organisation(db.session.get(model, object_id))

    load.__name__ = f"load_{model.__name__.lower()}"
    return load


def requires(name: str, load: Callable[..., Any] | None = None) -> Callable[[Callable], Callable]:
    """Declare and enforce the capability a view needs.

    With ``load``, the URL's arguments go to the loader (which 404s when the object is
    missing or of another organisation) and the view is called with the loaded object alone.
    Someone not signed in is sent to sign in before anything is loaded, so a stranger cannot
    learn which objects exist.
    """

    if name not in CAPABILITIES:
        raise KeyError(f"unknown capability {name!r}: is the domain's policy imported?")
    cap = CAPABILITIES[name]

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def guarded(**kwargs: Any) -> Any:
            actor = current_actor()
            if not cap.public and not actor.signed_in:
                return login_manager.unauthorized()
            obj = load(**kwargs) if load else None
            if not can(name, obj, actor):
                if not actor.signed_in:
                    return login_manager.unauthorized()
                abort(403)
            return view(obj) if load else view(**kwargs)

        guarded.capability = name  # type: ignore[attr-defined]
        guarded.loads_object = load is not None  # type: ignore[attr-defined]
        return guarded

    return decorator


def public(view: Callable) -> Callable:
    """Mark a view as open to everyone (sign-in page, public newsletter, voting with a code)."""
    return requires("public")(view)


def signed_in_rule(actor: Actor, obj: Any) -> bool:
    """A rule for capabilities open to anyone signed in."""
    return actor.signed_in


capability("public", "Anyone, signed in or not", public=True)
capability("signed_in", "Anyone who is signed in", rule=signed_in_rule)


def first_allowed(query: Any, keep: Callable[[Any], bool], n: int, *,
                  batch: int = 100) -> list[Any]:
    """The first ``n`` rows of ``query`` that ``keep`` accepts, read a batch at a time.

    For lists whose visibility rule cannot be said in SQL (a JSON list of audiences): no row
    is lost behind a LIMIT, since the query is read on until ``n`` are found or it runs out.
    ``query`` must already be narrowed in SQL to the actor's organisation and scope.
    """
    found: list[Any] = []
    offset = 0
    while len(found) < n:
        rows = db.session.scalars(query.limit(batch).offset(offset)).all()
        found.extend(row for row in rows if keep(row))
        if len(rows) < batch:
            break
        offset += batch
    return found[:n]
