"""Sessions left unused on a shared tablet end by themselves."""

from __future__ import annotations

import time

from involve.auth.views import LAST_SEEN
from tests.conftest import login


def test_a_session_used_within_the_limit_stays_signed_in(client, world):
    login(client, world.people["service_user"])
    assert client.get("/").status_code == 200
    with client.session_transaction() as session:
        session[LAST_SEEN] = int(time.time()) - 29 * 60
    assert client.get("/").status_code == 200


def test_a_session_left_unused_is_signed_out_with_a_plain_message(client, world):
    login(client, world.people["service_user"])
    assert client.get("/").status_code == 200
    with client.session_transaction() as session:
        session[LAST_SEEN] = int(time.time()) - 31 * 60
    response = client.get("/", follow_redirects=True)
    assert response.request.path == "/sign-in"
    assert "You were signed out because Involve was not used for a while." in response.text
    assert client.get("/").status_code == 302  # still signed out afterwards


def test_the_limit_can_be_switched_off(app, client, world):
    app.config["IDLE_SIGN_OUT_MINUTES"] = 0
    try:
        login(client, world.people["service_user"])
        with client.session_transaction() as session:
            session[LAST_SEEN] = int(time.time()) - 24 * 3600
        assert client.get("/").status_code == 200
    finally:
        app.config["IDLE_SIGN_OUT_MINUTES"] = 30
