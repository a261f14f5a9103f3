"""Queries the people pages need."""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, Select, func, select

from involve.extensions import db
from involve.people.models import Person, Role, RoleGrant, Service


def contains_text(column: ColumnElement[str], text: str) -> ColumnElement[bool]:
    """``column`` holds ``text``, ignoring case, with ``%`` and ``_`` (and the escape character)
    matching themselves rather than standing for any characters, as LIKE would have them."""
    escaped = text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped}%", escape="\\")


def people_query(*, organisation_id: int, search: str = "", service_ids: set[int] | None = None,
                 role: Role | None = None) -> Select[tuple[Person]]:
    """An organisation's people, by name, optionally only those with a grant in some services
    or with a role."""
    query = (select(Person).where(Person.organisation_id == organisation_id)
             .order_by(func.lower(Person.full_name), Person.id))
    if search:
        query = query.where(contains_text(Person.full_name, search)
                            | contains_text(Person.preferred_name, search))
    if service_ids is not None or role is not None:
        grant = select(RoleGrant.person_id)
        if service_ids is not None:
            grant = grant.where(RoleGrant.service_id.in_(service_ids))
        if role is not None:
            grant = grant.where(RoleGrant.role == role)
        query = query.where(Person.id.in_(grant))
    return query


def active_services(organisation_id: int) -> list[Service]:
    """An organisation's services that are not archived, by name."""
    return list(db.session.scalars(
        select(Service).where(Service.organisation_id == organisation_id,
                              Service.archived_at.is_(None)).order_by(Service.name)))


def people_with_role(role: Role, service_id: int | None, on: date | None = None,
                     include_organisation: bool = True, *,
                     organisation_id: int | None = None) -> list[Person]:
    """People holding ``role`` for a service (or organisation-wide) on a day.

    Only people of the service's organisation (``organisation_id``, required when
    ``service_id`` is None): an organisation-wide grant never reaches another organisation.
    """
    on = on or date.today()
    if organisation_id is None:
        if service_id is None:
            raise ValueError("people_with_role needs the organisation for organisation scope")
        organisation = select(Service.organisation_id).where(
            Service.id == service_id).scalar_subquery()
    else:
        organisation = organisation_id
    scope = RoleGrant.service_id == service_id if service_id is not None \
        else RoleGrant.service_id.is_(None)
    if include_organisation and service_id is not None:
        scope = scope | RoleGrant.service_id.is_(None)
    query = (select(Person).join(RoleGrant, RoleGrant.person_id == Person.id)
             .where(Person.organisation_id == organisation,
                    RoleGrant.role == role, scope, RoleGrant.starts_on <= on,
                    (RoleGrant.ends_on.is_(None)) | (RoleGrant.ends_on >= on))
             .distinct().order_by(Person.full_name))
    return list(db.session.scalars(query))


def services_for_query(actor, search: str = "") -> Select[tuple[Service]]:
    """The active services a person can look at, by name: all of them with an
    organisation-wide role; optionally only those whose name holds ``search``."""
    ids = actor.service_ids()
    query = (select(Service).where(Service.organisation_id == actor.organisation_id,
                                   Service.archived_at.is_(None))
             .order_by(Service.name, Service.id))
    if ids is not None:
        query = query.where(Service.id.in_(ids))
    if search:
        query = query.where(contains_text(Service.name, search))
    return query


def services_for(actor) -> list[Service]:
    """Every active service a person can look at (see :func:`services_for_query`)."""
    return list(db.session.scalars(services_for_query(actor)))


def current_service_id() -> int | None:
    """The service the signed-in person is looking at (None: not chosen, or the organisation).

    Chosen with the service switcher and kept in the session; a person with roles in only one
    service is always looking at that one.
    """
    from flask import has_request_context, session

    from involve.permissions import current_actor

    if not has_request_context():
        return None
    actor = current_actor()
    if not actor.signed_in:
        return None
    ids = actor.service_ids()
    chosen = session.get("current_service_id")
    if chosen is not None and (ids is None or chosen in ids):
        return chosen
    if ids is not None and len(ids) == 1:
        return next(iter(ids))
    return None


def people_page_query(*, organisation_id: int, search: str = "",
                      service_ids: set[int] | None = None,
                      status: str = "") -> Select[tuple[Person]]:
    """The people list: :func:`people_query` with grants and their services loaded with it."""
    from sqlalchemy.orm import selectinload

    query = people_query(organisation_id=organisation_id, search=search,
                         service_ids=service_ids).options(
        selectinload(Person.grants).joinedload(RoleGrant.service),
        selectinload(Person.communication_needs))
    if status:
        query = query.where(Person.status == status)
    return query


def people_counts(organisation_id: int, service_ids: set[int] | None) -> dict[str, int]:
    """How many people of an organisation hold each role today, in some services (None:
    everywhere in it)."""
    from involve.people.models import active_grants_query

    grants = active_grants_query().subquery()
    query = (select(grants.c.role, func.count(func.distinct(grants.c.person_id)))
             .where(grants.c.person_id.in_(select(Person.id).where(
                 Person.organisation_id == organisation_id)))
             .group_by(grants.c.role))
    if service_ids is not None:
        query = query.where(grants.c.service_id.in_(service_ids))
    return {str(role): count for role, count in db.session.execute(query)}


def pending_invitations(organisation_id: int, service_ids: set[int] | None) -> int:
    """Invitations not yet used and not expired, for an organisation's people in some
    services."""
    from involve.extensions import utcnow
    from involve.people.models import Invitation, User

    query = (select(func.count(Invitation.id)).join(User, User.id == Invitation.user_id)
             .join(Person, Person.id == User.person_id)
             .where(Person.organisation_id == organisation_id,
                    Invitation.accepted_at.is_(None), Invitation.expires_at > utcnow()))
    if service_ids is not None:
        query = query.where(User.person_id.in_(
            select(RoleGrant.person_id).where(RoleGrant.service_id.in_(service_ids))))
    return db.session.scalar(query) or 0


def family_choices(person: Person) -> list[Person]:
    """People with a family role in the services a service user belongs to."""
    services = {g.service_id for g in person.grants if g.service_id is not None}
    if not services:
        return []
    return list(db.session.scalars(
        people_query(organisation_id=person.organisation_id, service_ids=services,
                     role=Role.family).where(Person.id != person.id)))


def helper_choices(person: Person) -> list[Person]:
    """People who could help someone with information: staff and family of their services."""
    services = {g.service_id for g in person.grants if g.service_id is not None}
    if not services:
        return []
    query = people_query(organisation_id=person.organisation_id, service_ids=services).where(
        Person.id != person.id,
        Person.id.in_(select(RoleGrant.person_id).where(
            RoleGrant.role.in_([Role.staff, Role.family, Role.manager]))))
    return list(db.session.scalars(query))
