"""Signing in and out: names, messages, locking, rate limits and where people land."""

from __future__ import annotations

import pytest

from involve.auth import services
from involve.extensions import db, limiter
from involve.people.models import PersonStatus
from tests.auth.helpers import audit_actions, make_account, post_sign_in, signed_in_person_id
from tests.conftest import login, make_test_app


def test_sign_in_by_email_in_any_case(app, client):
    person = make_account(email="nora@test.example")
    response = post_sign_in(client, "  Nora@Test.Example ")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert signed_in_person_id(client) == str(person.user.id)
    assert "Welcome, Nora." in client.get("/").get_data(as_text=True)
    assert person.user.last_sign_in_at is not None
    assert audit_actions() == ["sign_in"]


def test_sign_in_by_username(app, client):
    person = make_account(email=None, username="nora")
    response = post_sign_in(client, "NORA")
    assert response.status_code == 302
    assert signed_in_person_id(client) == str(person.user.id)


def test_unknown_account_and_wrong_password_get_the_same_answer(app):
    make_account(email="nora@test.example")
    pages = []
    for name, password in (("nobody@test.example", "whatever it is"),
                           ("nora@test.example", "not the password")):
        client = app.test_client()
        response = post_sign_in(client, name, password)
        assert response.status_code == 200
        assert signed_in_person_id(client) is None
        pages.append(response.get_data(as_text=True))
    assert services.SIGN_IN_FAILED in pages[0]
    # The whole page is the same, apart from the name typed back into the form.
    assert pages[0].replace("nobody@test.example", "X") == pages[1].replace(
        "nora@test.example", "X")
    assert audit_actions() == ["sign_in.failed", "sign_in.failed"]


def test_a_person_who_has_left_cannot_sign_in(app, client):
    person = make_account()
    person.status = PersonStatus.left
    db.session.commit()
    response = post_sign_in(client, "nora@test.example")
    assert services.SIGN_IN_FAILED in response.get_data(as_text=True)
    assert signed_in_person_id(client) is None


def test_empty_form_shows_what_is_missing(app, client):
    response = client.post("/sign-in", data={"sign_in": "", "password": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Enter your email address or username." in page
    assert "Enter your password." in page
    assert 'aria-invalid="true"' in page
    assert audit_actions() == []


@pytest.fixture
def limited_app(app, database_url, tmp_path):
    """An app with sign-in rate limits on; the shared limiter is put back afterwards."""
    limited = make_test_app(database_url, str(tmp_path), RATELIMIT_ENABLED=True,
                            SIGN_IN_LIMIT="3 per minute")
    yield limited
    limiter.init_app(app)  # the session app's settings: limits off


def test_sign_in_is_rate_limited(limited_app):
    make_account()
    client = limited_app.test_client()
    for _ in range(3):
        assert post_sign_in(client, "nobody@test.example", "guess").status_code == 200
    response = post_sign_in(client, "nora@test.example")
    assert response.status_code == 429
    assert "Please wait a moment" in response.get_data(as_text=True)
    assert signed_in_person_id(client) is None
    # Looking at the page is not limited.
    assert client.get("/sign-in").status_code == 200


def test_sign_in_goes_back_to_the_page_asked_for(app, client):
    make_account()
    response = client.get("/people")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=")
    response = post_sign_in(client, "nora@test.example", next="%2Fdisplay%3Fa%3D1")
    assert response.headers["Location"] == "/display?a=1"


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/", "/\\evil.example", "\\\\evil.example",
    "/%09/evil.example", "/%0a/evil.example", "javascript:alert(1)", "http:/evil.example",
    "evil.example",
])
def test_next_never_leaves_the_site(app, target):
    make_account()
    client = app.test_client()
    response = post_sign_in(client, "nora@test.example", next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_signed_in_visitor_is_sent_home_from_sign_in(app, client):
    person = make_account()
    login(client, person)
    response = client.get("/sign-in")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_sign_out_forgets_the_session(app, client):
    make_account()
    post_sign_in(client, "nora@test.example")
    response = client.post("/sign-out")
    assert response.headers["Location"] == "/sign-in"
    assert signed_in_person_id(client) is None
    assert client.get("/").status_code == 302


def test_sign_out_needs_a_post(app, client):
    person = make_account()
    login(client, person)
    assert client.get("/sign-out").status_code == 405
    assert signed_in_person_id(client) == str(person.user.id)


def test_signing_in_starts_a_fresh_session(app, client):
    make_account()
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    post_sign_in(client, "nora@test.example")
    with client.session_transaction() as session:
        assert "planted" not in session
