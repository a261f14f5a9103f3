"""Helpers for the auth tests: accounts and posting the real sign-in form."""

from __future__ import annotations

from sqlalchemy import func, select

from involve.audit import AuditEvent
from involve.extensions import db
from involve.people.models import Person, Role
from tests import factories


def make_account(*, email: str | None = "nora@test.example", username: str | None = None,
                 role: Role = Role.family) -> Person:
    """A person in a fresh organisation who can sign in with :data:`factories.PASSWORD`."""
    org = factories.make_org()
    service = factories.make_service(org)
    person = factories.make_person(org, "Nora Newcomer", roles=[(role, service)], email=email,
                                   username=username)
    db.session.commit()
    return person


def post_sign_in(client, sign_in: str, password: str = factories.PASSWORD, *,
                 next: str | None = None, address: str = "127.0.0.1"):
    """Submit the sign-in form as a person would, from ``address``."""
    url = "/sign-in" + (f"?next={next}" if next is not None else "")
    return client.post(url, data={"sign_in": sign_in, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def audit_actions(action: str | None = None) -> list[str]:
    """The audit log's actions, oldest first (only ``action`` when given)."""
    query = select(AuditEvent.action).order_by(AuditEvent.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def signed_in_person_id(client) -> str | None:
    with client.session_transaction() as session:
        return session.get("_user_id")


def session_row(client):
    """The server's record of the session ``client`` holds, or None."""
    from involve.auth.services import SESSION_KEY, find_session

    with client.session_transaction() as session:
        token = session.get(SESSION_KEY)
    db.session.expire_all()
    return find_session(token)


def cookie(client) -> str:
    """The session cookie ``client`` holds, to replay from another browser."""
    return client.get_cookie("session").value


def with_cookie(app, value: str):
    """A new browser that presents a copy of a session cookie."""
    other = app.test_client()
    other.set_cookie("session", value)
    return other


def accounts_snapshot() -> tuple:
    """Everything about accounts a refused request must leave as it was."""
    from involve.people.models import Invitation, User, UserSession

    db.session.expire_all()
    users = db.session.execute(select(
        User.id, User.email, User.username, User.password_hash, User.password_changed_at)
        .order_by(User.id)).all()
    invitations = db.session.execute(select(
        Invitation.id, Invitation.expires_at, Invitation.accepted_at).order_by(
        Invitation.id)).all()
    return users, invitations, count(UserSession), audit_actions()
