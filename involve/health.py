"""``/healthz``: whether this web process can reach the database and the task queue.

For load balancers and container health checks: public, JSON, 200 when both answer and 503
when either does not. It names no host, driver or error, only what is unreachable.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from sqlalchemy import text

from involve.extensions import db, huey
from involve.permissions import public

log = logging.getLogger(__name__)


def _database_ok() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception:
        log.exception("health check: the database is unreachable")
        return False
    finally:
        db.session.rollback()


def _queue_ok() -> bool:
    try:
        huey.storage.queue_size()
        return True
    except Exception:
        log.exception("health check: the task queue is unreachable")
        return False


@public
def healthz() -> tuple[Response, int]:
    """Report whether the database and the task queue answer (public, JSON)."""
    checks = {"database": _database_ok(), "queue": _queue_ok()}
    healthy = all(checks.values())
    body = {"status": "ok" if healthy else "unavailable",
            **{name: "ok" if ok else "unreachable" for name, ok in checks.items()}}
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response, 200 if healthy else 503


def init_app(app: Flask) -> None:
    """Add the ``/healthz`` route."""
    app.add_url_rule("/healthz", endpoint="healthz", view_func=healthz, methods=["GET"])
