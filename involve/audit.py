"""Append-only audit events: who did what, when, to which object.

Events never hold a ballot's content or a request body: callers pass only what is needed to
say what happened.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import has_request_context, request
from sqlalchemy import JSON, ForeignKey, Index, String, event, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from involve.extensions import UTCDateTime, db, utcnow
from involve.people.models import Person


class AuditEvent(db.Model):
    """One sensitive action. Rows are only ever inserted."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_action_at", "action", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"),
                                                        index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    action: Mapped[str] = mapped_column(String(80))
    object_type: Mapped[str] = mapped_column(String(60), default="")
    object_id: Mapped[int | None]
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ip_address: Mapped[str] = mapped_column(String(45), default="")

    actor: Mapped[Person | None] = relationship(foreign_keys=[actor_id])
    subject: Mapped[Person | None] = relationship(foreign_keys=[subject_id])


@event.listens_for(AuditEvent, "before_insert")
def _organisation_of_event(mapper: Any, connection: Any, audit: AuditEvent) -> None:
    # Every event belongs to the organisation of its service, actor or subject, so that an
    # organisation's audit log shows its own events only.
    if audit.organisation_id is not None:
        return
    from involve.people.models import Service

    if audit.service_id is not None:
        audit.organisation_id = connection.scalar(
            select(Service.organisation_id).where(Service.id == audit.service_id))
    for person_id in (audit.actor_id, audit.subject_id):
        if audit.organisation_id is None and person_id is not None:
            audit.organisation_id = connection.scalar(
                select(Person.organisation_id).where(Person.id == person_id))


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session: Session, flush_context: Any, instances: Any) -> None:
    # Append-only: an audit row may be added, never changed or removed.
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise PermissionError("audit events are append-only")


def record(action: str, *, actor: Person | int | None = None, obj: Any = None,
           subject: Person | int | None = None, service_id: int | None = None,
           **details: Any) -> AuditEvent:
    """Add an audit event to the session (the caller's transaction commits it).

    ``obj`` is any model with an ``id``; its class name is kept as the object type.
    """
    def _id(value: Person | int | None) -> int | None:
        return value.id if isinstance(value, Person) else value

    if service_id is None and obj is not None:
        service_id = getattr(obj, "scope_service_id", None)
    audit = AuditEvent(
        organisation_id=getattr(obj, "organisation_id", None),
        action=action,
        actor_id=_id(actor),
        subject_id=_id(subject),
        object_type=type(obj).__name__ if obj is not None else "",
        object_id=getattr(obj, "id", None),
        service_id=service_id,
        details=details,
        ip_address=(request.remote_addr or "") if has_request_context() else "",
    )
    db.session.add(audit)
    return audit


def events_query(*, organisation_id: int, person_id: int | None = None,
                 action: str | None = None, since: datetime | None = None,
                 until: datetime | None = None):
    """An organisation's audit events, newest first, filtered by person (as actor or
    subject), action and time."""
    query = (select(AuditEvent).where(AuditEvent.organisation_id == organisation_id)
             .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()))
    if person_id:
        query = query.where((AuditEvent.actor_id == person_id)
                            | (AuditEvent.subject_id == person_id))
    if action:
        query = query.where(AuditEvent.action == action)
    if since:
        query = query.where(AuditEvent.at >= since)
    if until:
        query = query.where(AuditEvent.at < until)
    return query


def known_actions(organisation_id: int) -> list[str]:
    """Every action recorded so far in an organisation, for the filter on the audit page."""
    return list(db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.organisation_id == organisation_id)
        .distinct().order_by(AuditEvent.action)))
