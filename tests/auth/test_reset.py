"""Password reset by email, end to end through a real SMTP server."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlalchemy import select

from involve.audit import AuditEvent
from involve.auth import services
from involve.extensions import db
from involve.people.models import User
from tests.auth.helpers import audit_actions, make_account, post_sign_in

NEW_PASSWORD = "a walk by the river"


def _part(message, content_type: str) -> str | None:
    for part in message.walk():
        if part.get_content_type() == content_type:
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    return None


def _link_from(message) -> str:
    text = _part(message, "text/plain")
    return urlsplit(re.search(r"https?://\S+/reset-password/\S+", text).group(0)).path


def test_reset_by_email_end_to_end(app, client, smtp_server):
    person = make_account(email="nora@test.example")
    response = client.post("/reset-password", data={"email": "NORA@test.example"})
    assert response.headers["Location"] == "/sign-in"
    messages = smtp_server.wait_for(1)
    assert len(messages) == 1
    message = messages[0]
    assert message["To"] == "nora@test.example"
    assert message["Subject"] == "Reset your Involve password"
    assert 'href="http://localhost/reset-password/' in _part(message, "text/html")
    link = _link_from(message)

    assert "Choose a new password" in client.get(link).get_data(as_text=True)
    response = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.headers["Location"] == "/sign-in"
    assert audit_actions("password.reset") == ["password.reset"]

    assert post_sign_in(app.test_client(), "nora@test.example").status_code == 200  # old: no
    assert post_sign_in(app.test_client(), "nora@test.example", NEW_PASSWORD).status_code == 302

    # The link works once.
    response = client.post(link, data={"password": "yet another one", "confirm":
                                       "yet another one"})
    assert response.status_code == 400
    assert "already been used" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, person.user.id).check_password(NEW_PASSWORD)


def test_unknown_address_gets_the_same_answer_and_no_mail(app, client, smtp_server):
    make_account(email="nora@test.example")
    known = client.post("/reset-password", data={"email": "nora@test.example"},
                        follow_redirects=True).get_data(as_text=True)
    unknown = client.post("/reset-password", data={"email": "nobody@test.example"},
                          follow_redirects=True).get_data(as_text=True)
    assert "If that address has an account" in known
    assert known == unknown
    assert len(smtp_server.wait_for(2, timeout=0.5)) == 1


def test_an_invited_account_without_a_password_gets_no_reset(app, client, smtp_server):
    make_account(email="nora@test.example").user.password_hash = None
    db.session.commit()
    client.post("/reset-password", data={"email": "nora@test.example"})
    assert smtp_server.wait_for(1, timeout=0.3) == []


def test_reset_unlocks_a_locked_account(app, client):
    person = make_account()
    for _ in range(app.config["LOCK_AFTER_FAILURES"]):
        post_sign_in(app.test_client(), "nora@test.example", "wrong password")
    token = services.reset_token(person.user)
    db.session.commit()
    client.post(f"/reset-password/{token}", data={"password": NEW_PASSWORD,
                                                  "confirm": NEW_PASSWORD})
    assert post_sign_in(app.test_client(), "nora@test.example", NEW_PASSWORD).status_code == 302


def test_a_tampered_or_expired_link_is_refused(app, client):
    person = make_account()
    token = services.reset_token(person.user)
    response = client.get(f"/reset-password/{token}x")
    assert response.status_code == 400
    assert "not valid" in response.get_data(as_text=True)
    app.config["RESET_MAX_AGE_HOURS"] = -1
    try:
        response = client.get(f"/reset-password/{token}")
    finally:
        app.config["RESET_MAX_AGE_HOURS"] = 2
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)


def test_a_bad_new_password_changes_nothing(app, client):
    person = make_account()
    before = person.user.password_hash
    token = services.reset_token(person.user)
    response = client.post(f"/reset-password/{token}", data={"password": "short",
                                                             "confirm": "short"})
    assert response.status_code == 200
    assert "Use at least 8 characters." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, person.user.id).password_hash == before


def test_a_bad_address_is_explained(client, app):
    response = client.post("/reset-password", data={"email": "not an address"})
    assert response.status_code == 200
    assert "Enter a full email address." in response.get_data(as_text=True)


def test_a_refused_delivery_looks_the_same_to_the_visitor(app, client, smtp_server):
    make_account(email="nora@test.example")
    smtp_server.refuse.add("nora@test.example")
    response = client.post("/reset-password", data={"email": "nora@test.example"},
                           follow_redirects=True)
    assert response.status_code == 200
    assert "If that address has an account" in response.get_data(as_text=True)
    assert smtp_server.wait_for(1, timeout=0.3) == []


def test_reset_requests_are_audited(app, client):
    person = make_account(email="nora@test.example")
    client.post("/reset-password", data={"email": "nora@test.example"})
    client.post("/reset-password", data={"email": "nobody@test.example"})

    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "password.reset_requested").order_by(AuditEvent.id)).all()
    assert [(e.subject_id, e.details["found"]) for e in events] == [(person.id, True),
                                                                    (None, False)]


def test_a_new_password_signs_out_every_other_browser(app):
    person = make_account()
    other_browser = app.test_client()
    assert post_sign_in(other_browser, "nora@test.example").status_code == 302
    assert other_browser.get("/").status_code == 200

    token = services.reset_token(person.user)
    app.test_client().post(f"/reset-password/{token}", data={"password": NEW_PASSWORD,
                                                             "confirm": NEW_PASSWORD})
    assert other_browser.get("/").status_code == 302
    assert post_sign_in(other_browser, "nora@test.example", NEW_PASSWORD).status_code == 302
    assert other_browser.get("/").status_code == 200
