"""Sessions left unused on a shared tablet end by themselves, without rewriting the cookie."""

from __future__ import annotations

from datetime import timedelta

from involve.extensions import db, utcnow
from tests.auth.helpers import session_row
from tests.conftest import login


def _last_seen(client, ago: timedelta) -> None:
    row = session_row(client)
    row.last_seen_at = utcnow() - ago
    db.session.commit()


def test_a_session_used_within_the_limit_stays_signed_in(client, world):
    login(client, world.people["service_user"])
    assert client.get("/").status_code == 200
    _last_seen(client, timedelta(minutes=29))
    assert client.get("/").status_code == 200
    assert session_row(client).last_seen_at > utcnow() - timedelta(minutes=1)


def test_a_session_left_unused_is_signed_out_with_a_plain_message(client, world):
    login(client, world.people["service_user"])
    assert client.get("/").status_code == 200
    _last_seen(client, timedelta(minutes=31))
    response = client.get("/", follow_redirects=True)
    assert response.request.path == "/sign-in"
    assert "You were signed out because Involve was not used for a while." in response.text
    assert client.get("/").status_code == 302  # still signed out afterwards
    assert session_row(client) is None


def test_the_limit_can_be_switched_off(app, client, world):
    app.config["IDLE_SIGN_OUT_MINUTES"] = 0
    try:
        login(client, world.people["service_user"])
        _last_seen(client, timedelta(hours=11))
        assert client.get("/").status_code == 200
    finally:
        app.config["IDLE_SIGN_OUT_MINUTES"] = 30


def test_no_sign_in_lasts_longer_than_the_session_lifetime(app, client, world):
    login(client, world.people["service_user"])
    row = session_row(client)
    row.created_at = utcnow() - app.permanent_session_lifetime - timedelta(seconds=1)
    db.session.commit()
    assert client.get("/").status_code == 302


def test_pages_do_not_rewrite_the_cookie_and_the_stamp_waits_a_minute(client, world):
    login(client, world.people["service_user"])
    client.get("/")  # the first page may add the form token to the session
    stamp = session_row(client).last_seen_at
    response = client.get("/")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert session_row(client).last_seen_at == stamp  # not written again within a minute
