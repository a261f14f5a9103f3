"""The Flask extensions, created unbound and initialised in :func:`involve.create_app`."""

from __future__ import annotations

import enum
import functools
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, current_app, has_app_context
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from huey import Huey, MemoryHuey
from sqlalchemy import Enum, MetaData
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import DateTime, TypeDecorator

# Named constraints so that migrations can alter them on every database, SQLite included.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base for every model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)

# Tasks are declared at import time, so the queue object exists before the app; its storage
# is chosen by configure_huey() from the app's configuration.
huey: Huey = MemoryHuey("involve", immediate=True)

_worker_app: Flask | None = None
_stopping: threading.Event | None = None

F = TypeVar("F", bound=Callable[..., Any])


def configure_huey(app: Flask) -> None:
    """Point the task queue at the configured storage (SQLite file, PostgreSQL or Redis)."""
    global _worker_app
    _worker_app = app
    backend = app.config["HUEY_BACKEND"]
    if backend == "immediate":
        huey.immediate = True
        return
    huey.immediate = False
    if backend == "sqlite":
        from huey.storage import SqliteStorage

        path = app.config.get("HUEY_URL") or str(Path(app.instance_path) / "tasks.sqlite3")
        huey.storage = SqliteStorage("involve", filename=path)
    elif backend == "redis":
        from huey.storage import RedisStorage

        huey.storage = RedisStorage("involve", url=app.config["HUEY_URL"])
    elif backend == "postgres":
        from huey.contrib.sql_huey import SqlStorage  # type: ignore[import-not-found]

        huey.storage = SqlStorage("involve", database=app.config["HUEY_URL"])
    else:
        raise ValueError(
            f"Unknown HUEY_BACKEND {backend!r}: use sqlite, redis, postgres or immediate")


def with_app_context(task: F) -> F:
    """Run a background task inside an application context.

    In tests tasks run at once inside the request's context; in the worker they run in the
    app the worker command created.
    """

    @functools.wraps(task)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if has_app_context():
            return task(*args, **kwargs)
        if _worker_app is None:
            raise RuntimeError("No application: start the worker with `flask worker`.")
        with _worker_app.app_context():
            try:
                return task(*args, **kwargs)
            finally:
                db.session.remove()

    return wrapper  # type: ignore[return-value]


def stop_when(event: threading.Event) -> None:
    """Let long tasks watch ``event`` (the worker's stop flag) and stop between two steps."""
    global _stopping
    _stopping = event


def worker_stopping() -> bool:
    """True once the worker has been asked to stop (SIGTERM): finish the step, then return."""
    return _stopping is not None and _stopping.is_set()


def app_config(name: str) -> Any:
    """Read one configuration value of the running app."""
    return current_app.config[name]


# --- column types shared by every domain -------------------------------------------------


def db_enum(kind: type[enum.Enum], name: str) -> Enum:
    """A Python enum stored as a short string with a CHECK constraint, alike on every database."""
    return Enum(kind, name=name, native_enum=False, create_constraint=True, length=20,
                values_callable=lambda members: [m.value for m in members])


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC (a callable default for timestamp columns)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite keeps no zone, so values are normalised to UTC on the way in and marked UTC on
    the way out; PostgreSQL stores ``timestamptz``. A naive value is refused rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; use an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
