"""Sessions live on the server: signing out, a new password and "sign out everywhere" end them."""

from __future__ import annotations

from sqlalchemy import select

from involve.auth import services
from involve.extensions import db
from involve.people.models import User, UserSession
from tests.auth.helpers import (
    audit_actions,
    cookie,
    count,
    make_account,
    post_sign_in,
    session_row,
    with_cookie,
)
from tests.conftest import login

NEW_PASSWORD = "a walk by the river"


def test_a_copied_cookie_is_dead_after_sign_out(app, client):
    person = make_account()
    post_sign_in(client, "nora@test.example")
    copy = cookie(client)
    thief = with_cookie(app, copy)
    assert thief.get("/").status_code == 200  # the copy works while the session is open

    assert client.post("/sign-out").headers["Location"] == "/sign-in"
    assert count(UserSession) == 0
    replay = with_cookie(app, copy)
    response = replay.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in")
    replay.post("/display", data={"text_size": "larger"})  # a change tried with the copy
    db.session.expire_all()
    assert db.session.get(User, person.user.id).text_size == "normal"
    assert "Sign out everywhere" not in replay.get("/display").text  # treated as a visitor


def test_signing_out_ends_only_that_session(app, client):
    person = make_account()
    other = app.test_client()
    login(other, person)
    post_sign_in(client, "nora@test.example")
    client.post("/sign-out")
    assert other.get("/").status_code == 200


def test_a_new_password_ends_every_session(app, client):
    person = make_account()
    phone, tablet = app.test_client(), app.test_client()
    post_sign_in(phone, "nora@test.example", address="10.0.0.1")
    post_sign_in(tablet, "nora@test.example", address="10.0.0.2")
    copy = cookie(tablet)
    token = services.reset_token(person.user)
    client.post(f"/reset-password/{token}", data={"password": NEW_PASSWORD,
                                                  "confirm": NEW_PASSWORD})
    assert phone.get("/").status_code == 302
    assert tablet.get("/").status_code == 302
    assert with_cookie(app, copy).get("/").status_code == 302
    assert count(UserSession) == 0
    assert "sessions.ended" in audit_actions()


def test_sign_out_everywhere_ends_every_session(app, client):
    person = make_account()
    other = app.test_client()
    login(other, person)
    login(client, person)
    page = client.get("/display").text
    assert "Sign out everywhere" in page and 'action="/sign-out-everywhere"' in page
    response = client.post("/sign-out-everywhere", follow_redirects=True)
    assert response.request.path == "/sign-in"
    assert "You are signed out everywhere" in response.text
    assert client.get("/").status_code == 302
    assert other.get("/").status_code == 302
    assert session_row(other) is None and count(UserSession) == 0
    assert audit_actions("sessions.ended") == ["sessions.ended"]


def test_sign_in_records_a_session_and_keeps_only_its_hash(app, client):
    make_account()
    post_sign_in(client, "nora@test.example")
    with client.session_transaction() as session:
        token = session[services.SESSION_KEY]
    row = session_row(client)
    assert row is not None and token not in row.token_hash and len(token) >= 40


def test_the_nightly_tidy_forgets_ended_sessions_and_old_attempts(app, client):
    from datetime import timedelta

    from involve.auth import tasks
    from involve.extensions import utcnow
    from involve.people.models import SignInAttempt

    person = make_account()
    login(client, person)
    fresh = app.test_client()
    login(fresh, person)
    session_row(client).last_seen_at = utcnow() - timedelta(hours=1)  # idle: already over
    db.session.add_all([
        SignInAttempt(user_id=person.user.id, ip_address="10.0.0.1", at=utcnow()),
        SignInAttempt(user_id=person.user.id, ip_address="10.0.0.2",
                      at=utcnow() - timedelta(days=2)),
        SignInAttempt(user_id=person.user.id, ip_address="10.0.0.3", succeeded=True,
                      at=utcnow() - timedelta(days=30)),
        SignInAttempt(user_id=person.user.id, ip_address="10.0.0.4", succeeded=True,
                      at=utcnow() - timedelta(days=services.KNOWN_ADDRESS_DAYS + 1))])
    db.session.commit()
    tasks.forget_old_sign_ins.call_local()
    assert count(UserSession) == 1 and session_row(fresh) is not None
    kept = sorted(db.session.scalars(select(SignInAttempt.ip_address)))
    assert kept == ["10.0.0.1", "10.0.0.3"]
