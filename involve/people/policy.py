"""The people domain's policy: how an actor is built, who may see and manage people, and the
SQL that keeps every list inside the actor's organisation and services."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, String, false, literal, or_, select, true, union_all

from involve.extensions import db
from involve.kernel import clock
from involve.people.models import AmbassadorTerm, Person, Role, RoleGrant, Service
from involve.permissions import (
    Actor,
    Grant,
    Rule,
    capability,
    register_actor_source,
    scope_of,
)

R = Role


def build_actor(person: Person, on: date | None = None) -> Actor:
    """The actor for ``person``: grants and ambassador terms in force on ``on`` (one query).

    Every signed-in request builds one, so grants and terms come back together (a term is a
    row with no role).
    """
    on = on or clock.today()
    grants = select(RoleGrant.role.label("role"), RoleGrant.service_id.label("service_id")).where(
        RoleGrant.person_id == person.id, RoleGrant.starts_on <= on,
        (RoleGrant.ends_on.is_(None)) | (RoleGrant.ends_on >= on))
    terms = select(literal(None, String).label("role"),
                   AmbassadorTerm.service_id.label("service_id")).where(
        AmbassadorTerm.person_id == person.id, AmbassadorTerm.starts_on <= on,
        (AmbassadorTerm.ends_on.is_(None)) | (AmbassadorTerm.ends_on >= on))
    rows = db.session.execute(union_all(grants, terms)).all()
    return Actor(person, [Grant(Role(role), service_id) for role, service_id in rows
                          if role is not None],
                 [service_id for role, service_id in rows if role is None])


register_actor_source(build_actor)


# --- SQL visibility shared by every domain --------------------------------------------------

def services_in(column: Any, ids: set[int] | None,
                organisation_id: int | None) -> ColumnElement[bool]:
    """SQL: ``column`` (a service id) is one of ``ids``; ``None`` means every service of the
    organisation, or, with no organisation either, every service (background work that goes
    through all of them)."""
    if ids is not None:
        return column.in_(ids) if ids else false()
    if organisation_id is None:
        return true()
    return column.in_(select(Service.id).where(Service.organisation_id == organisation_id))


def services_where(actor: Actor, column: Any, ids: set[int] | None) -> ColumnElement[bool]:
    """SQL: ``column`` (a service id) is one of ``ids`` (``None``: every service of the
    actor's organisation). Never reaches another organisation."""
    if not actor.signed_in:
        return false()
    return services_in(column, ids, actor.organisation_id)


def in_role_scope(actor: Actor, column: Any, roles: Iterable[str]) -> ColumnElement[bool]:
    """SQL: ``column`` (a service id) is a service where the actor holds one of ``roles``."""
    return services_where(actor, column, actor.service_ids(roles))


def scoped(actor: Actor, service_column: Any, organisation_column: Any,
           roles: Iterable[str], *, ambassador: bool = False) -> ColumnElement[bool]:
    """SQL for objects of one service or of the whole organisation (``service_column`` NULL).

    Visible when the actor holds one of ``roles`` covering the object's scope (and, with
    ``ambassador``, when an ambassador term covers it). Organisation-wide objects need a role
    (or term) for the whole organisation; all of it stays inside the actor's organisation.
    """
    if not actor.signed_in:
        return false()
    ids = actor.service_ids(roles)
    whole = ids is None
    if ambassador:
        terms = actor.term_service_ids()
        if terms is None:
            whole = True
        elif ids is not None:
            ids = ids | terms
    own = organisation_column == actor.organisation_id
    if whole:
        return own
    service_part = service_column.in_(ids) if ids else false()
    return own & service_part


def everywhere_in_organisation(actor: Actor, service_column: Any, organisation_column: Any,
                               roles: Iterable[str], *, ambassador: bool = False
                               ) -> ColumnElement[bool]:
    """Like :func:`scoped`, but organisation-wide objects are for the roles in any service
    (an organisation-wide election or newsletter is for everyone of the organisation)."""
    if not actor.signed_in:
        return false()
    holds = actor.has_role(roles) or (ambassador and actor.is_ambassador())
    own = organisation_column == actor.organisation_id
    organisation_wide = (own & service_column.is_(None)) if holds else false()
    return or_(organisation_wide,
               scoped(actor, service_column, organisation_column, roles, ambassador=ambassador))


def service_choices_query(actor: Actor, roles: Iterable[str] | None = None,
                          *, include_archived: bool = False) -> Select:
    """The services a picker may offer, by name, as a query (to paginate in a large
    organisation): the actor's organisation's, narrowed to ``roles``."""
    query = select(Service).where(Service.organisation_id == actor.organisation_id)
    if not actor.signed_in:
        return query.where(false())
    if roles is not None:
        query = query.where(in_role_scope(actor, Service.id, roles))
    if not include_archived:
        query = query.where(Service.archived_at.is_(None))
    return query.order_by(Service.name, Service.id)


def service_choices(actor: Actor, roles: Iterable[str] | None = None,
                    *, include_archived: bool = False) -> list[Service]:
    """The services a picker may offer: the actor's organisation's, narrowed to ``roles``."""
    if not actor.signed_in:
        return []
    return list(db.session.scalars(service_choices_query(actor, roles,
                                                         include_archived=include_archived)))


# --- capabilities ---------------------------------------------------------------------------

def about_person(roles: Iterable[str]) -> Rule:
    """A rule for pages about one person: the roles must cover a service the person is in."""
    roles = frozenset(roles)

    def rule(actor: Actor, obj: Any) -> bool:
        if not isinstance(obj, Person):
            return actor.has_role(roles, scope_of(obj))
        if actor.has_role(roles, None):
            return True
        services = {g.service_id for g in obj.grants}
        return any(actor.has_role(roles, s) for s in services if s is not None)

    return rule


def _own_import(actor: Actor, obj: Any) -> bool:
    # An uploaded file is seen and confirmed only by the admin who uploaded it.
    if not actor.has_role([R.admin]):
        return False
    return obj is None or obj.created_by_id == actor.person_id


capability("services.manage", "Create, edit and archive services", [R.admin])
capability("people.view", "See the people of a service", rule=about_person([R.admin, R.manager]))
capability("people.manage", "Add people, grant and end roles, link families",
           rule=about_person([R.admin, R.manager]))
capability("people.view_needs", "See communication needs and other special-category data",
           rule=about_person([R.admin, R.manager, R.staff]))
capability("people.import", "Import people from a CSV file", rule=_own_import)
capability("people.export", "Export people as a CSV file", [R.admin])
capability("audit.view", "Read the audit log", [R.admin])

# Roles a manager may hand out in their own services; admins may grant any role.
MANAGER_GRANTABLE = frozenset({R.service_user, R.family, R.staff, R.partner})


def may_grant(actor: Actor, role: Role, service_id: int | None) -> bool:
    """May the actor grant (or end) ``role`` for a service (``None``: the organisation)?

    ``service_id`` must be a service of the actor's organisation (callers load it through
    the organisation's pickers and loaders).
    """
    if actor.has_role([R.admin], service_id):
        return True
    return (service_id is not None and Role(role) in MANAGER_GRANTABLE
            and actor.has_role([R.manager], service_id))

