"""Queries the people pages need."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, func, select

from involve.extensions import db
from involve.people.models import Person, Role, RoleGrant, Service


def people_query(*, search: str = "", service_ids: set[int] | None = None,
                 role: Role | None = None) -> Select[tuple[Person]]:
    """People, by name, optionally only those with a grant in some services or with a role."""
    query = select(Person).order_by(func.lower(Person.full_name), Person.id)
    if search:
        like = f"%{search.strip().lower()}%"
        query = query.where(func.lower(Person.full_name).like(like)
                            | func.lower(Person.preferred_name).like(like))
    if service_ids is not None or role is not None:
        grant = select(RoleGrant.person_id)
        if service_ids is not None:
            grant = grant.where(RoleGrant.service_id.in_(service_ids))
        if role is not None:
            grant = grant.where(RoleGrant.role == role)
        query = query.where(Person.id.in_(grant))
    return query


def active_services() -> list[Service]:
    """Services that are not archived, by name."""
    return list(db.session.scalars(
        select(Service).where(Service.archived_at.is_(None)).order_by(Service.name)))


def people_with_role(role: Role, service_id: int | None, on: date | None = None,
                     include_organisation: bool = True) -> list[Person]:
    """People holding ``role`` for a service (or organisation-wide) on a day."""
    on = on or date.today()
    scope = RoleGrant.service_id == service_id if service_id is not None \
        else RoleGrant.service_id.is_(None)
    if include_organisation and service_id is not None:
        scope = scope | RoleGrant.service_id.is_(None)
    query = (select(Person).join(RoleGrant, RoleGrant.person_id == Person.id)
             .where(RoleGrant.role == role, scope, RoleGrant.starts_on <= on,
                    (RoleGrant.ends_on.is_(None)) | (RoleGrant.ends_on >= on))
             .distinct().order_by(Person.full_name))
    return list(db.session.scalars(query))
