"""Cookies, CSRF, security headers and the friendly error pages."""

from __future__ import annotations

import re

import pytest

from involve import CSP
from involve.extensions import db
from involve.people.models import Organisation, User
from involve.permissions import public
from tests.auth.helpers import audit_actions, count, make_account, post_sign_in
from tests.conftest import login, make_test_app


def _session_cookie(response) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, "no session cookie was set"
    return cookies[-1]


def test_session_cookie_is_httponly_and_samesite_lax(app, client):
    make_account()
    cookie = _session_cookie(post_sign_in(client, "nora@test.example"))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http in development and tests


def test_session_cookie_is_secure_when_configured(app, database_url, tmp_path):
    make_account()
    secure = make_test_app(database_url, str(tmp_path), SESSION_COOKIE_SECURE=True)
    cookie = _session_cookie(post_sign_in(secure.test_client(), "nora@test.example"))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_secure_cookies_from_the_environment(monkeypatch, database_url, tmp_path):
    monkeypatch.setenv("INVOLVE_SESSION_COOKIE_SECURE", "true")
    secure = make_test_app(database_url, str(tmp_path))
    assert secure.config["SESSION_COOKIE_SECURE"] is True


@pytest.fixture
def csrf_app(app, database_url, tmp_path):
    return make_test_app(database_url, str(tmp_path), WTF_CSRF_ENABLED=True)


def _token(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_csrf_is_enforced_on_sign_in(csrf_app):
    person = make_account()
    client = csrf_app.test_client()
    response = post_sign_in(client, "nora@test.example")
    assert response.status_code == 400
    assert "This form had expired" in response.get_data(as_text=True)
    db.session.refresh(person.user)
    assert person.user.last_sign_in_at is None
    assert audit_actions() == []

    token = _token(client.get("/sign-in").get_data(as_text=True))
    response = client.post("/sign-in", data={"sign_in": "nora@test.example",
                                             "password": "correct horse battery",
                                             "csrf_token": token})
    assert response.status_code == 302


def test_csrf_is_enforced_for_signed_in_people(csrf_app):
    person = make_account()
    client = csrf_app.test_client()
    login(client, person)
    response = client.post("/display", data={"text_size": "larger"})
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(User, person.user.id).text_size == "normal"
    response = client.post("/sign-out")
    assert response.status_code == 400
    assert client.get("/").status_code == 200  # still signed in


@pytest.mark.parametrize("path", ["/sign-in", "/", "/no-such-page", "/static/css/involve.css",
                                  "/reset-password/bad"])
def test_security_headers_on_every_response(client, path):
    response = client.get(path)
    headers = response.headers
    assert headers["Content-Security-Policy"] == CSP
    script_src = re.search(r"script-src ([^;]+)", CSP).group(1)
    assert "unsafe-inline" not in script_src and "unsafe-eval" not in script_src
    assert "frame-ancestors 'none'" in CSP and "object-src 'none'" in CSP
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in headers


def test_https_requests_get_strict_transport_security(client):
    response = client.get("/sign-in", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_pages_have_no_inline_script_or_style(app, client):
    person = make_account()
    login(client, person)
    for path in ("/", "/display", "/no-such-page"):
        page = client.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), path
        assert " style=" not in page and "onclick=" not in page, path


def test_friendly_not_found_and_forbidden_pages(app, client, world):
    response = client.get("/no-such-page")
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "We cannot find that page" in page and 'href="#main"' in page

    login(client, world.people["family"])
    response = client.get("/audit")
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "You cannot see this page" in page
    assert "Signed in as" in page


@pytest.fixture
def failing_app(app, database_url, tmp_path):
    """An app with a page that saves something and then fails."""
    failing = make_test_app(database_url, str(tmp_path), TESTING=False)

    @public
    def half_done() -> str:
        db.session.add(Organisation(name="Half saved"))
        db.session.flush()
        raise RuntimeError("something broke")

    failing.add_url_rule("/half-done", "half_done", half_done)
    return failing


def test_friendly_server_error_page_and_nothing_half_saved(failing_app):
    before = count(Organisation)
    response = failing_app.test_client().get("/half-done")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Something went wrong on our side" in page
    assert "RuntimeError" not in page and "Traceback" not in page
    assert response.headers["Content-Security-Policy"] == CSP
    db.session.expire_all()
    assert count(Organisation) == before


def test_pages_for_signed_in_people_are_never_stored(app, client, world):
    person = world.people["manager"]
    login(client, person)
    for path in ("/", "/people", f"/people/{world.people['service_user'].id}", "/display",
                 "/no-such-page"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path
    # Even a page that sets its own caching (a photo) is not kept for a signed-in person.
    from tests.people.test_matrix import _with_photo

    _with_photo(world)
    photo = client.get(f"/people/{world.people['service_user'].id}/photo.jpg")
    assert photo.status_code == 200 and photo.headers["Cache-Control"] == "no-store"


def test_public_pages_are_not_stored_and_static_files_keep_their_caching(client):
    assert client.get("/sign-in").headers["Cache-Control"] == "no-store"
    assert client.get("/reset-password").headers["Cache-Control"] == "no-store"
    static = client.get("/static/css/involve.css")
    assert static.status_code == 200
    assert "no-store" not in static.headers.get("Cache-Control", "")
