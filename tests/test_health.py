"""``/healthz`` answers 200 when the database and the queue answer, 503 when either does not."""

from __future__ import annotations

import socket

import pytest

from involve.extensions import configure_huey, db
from tests.conftest import free_port, make_test_app


def test_healthy_installation_answers_ok_as_json_to_anyone(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "queue": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_unreachable_database_answers_503(app, tmp_path):
    # A PostgreSQL address where nothing listens.
    broken = make_test_app(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none",
                           str(tmp_path))
    try:
        response = broken.test_client().get("/healthz")
    finally:
        configure_huey(app)  # the queue remembers the last app made
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "unreachable",
                                   "queue": "ok"}


def test_unreachable_queue_answers_503(app, tmp_path, database_url):
    # The queue is one object shared by every app in the process: point it at a Redis port
    # where nothing listens, then give it back to the test app.
    queueless = make_test_app(database_url, str(tmp_path), HUEY_BACKEND="redis",
                              HUEY_URL=f"redis://127.0.0.1:{free_port()}/7")
    try:
        with queueless.app_context():
            response = queueless.test_client().get("/healthz")
            db.session.remove()
    finally:
        configure_huey(app)
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "ok",
                                   "queue": "unreachable"}


def _redis_reachable() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_reachable(), reason="Redis is not reachable on 127.0.0.1:6379")
def test_reachable_redis_queue_is_healthy(app, tmp_path, database_url):
    redis_app = make_test_app(database_url, str(tmp_path), HUEY_BACKEND="redis",
                              HUEY_URL="redis://127.0.0.1:6379/7")
    try:
        with redis_app.app_context():
            response = redis_app.test_client().get("/healthz")
            db.session.remove()
    finally:
        configure_huey(app)
    assert response.status_code == 200, response.get_json()
