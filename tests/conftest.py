"""Shared fixtures: a fresh app per test module on a real database, emptied after every test.

The database is SQLite in a temporary folder, or PostgreSQL when
``INVOLVE_TEST_DATABASE_URL`` is set (``make test`` runs the suite on both).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from flask import g, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import event, text

from involve import create_app
from involve.config import normalise_database_url
from involve.extensions import db
from tests import factories

TEST_DATABASE_URL = os.environ.get("INVOLVE_TEST_DATABASE_URL")


def pytest_report_header(config: pytest.Config) -> str:
    return f"database: {TEST_DATABASE_URL or 'SQLite (temporary file)'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if TEST_DATABASE_URL:
        return normalise_database_url(TEST_DATABASE_URL)
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


class FreshRequestClient(FlaskClient):
    """A test client whose every request starts with an empty ``g``.

    A test holds its app context across the requests it makes, so they would share ``g``
    (the signed-in person, the menu worked out once); in production each request has its own.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            vars(g).clear()
        return super().open(*args, **kwargs)


def make_test_app(database_url: str, instance_path: str, **overrides):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "HUEY_BACKEND": "immediate",
        "MAIL_TRANSPORT": "memory",
        "RATELIMIT_ENABLED": False,
        "BASE_URL": "http://localhost",
        "SERVER_NAME": None,
        # Pages are kept only where a test asks (tests/test_page_cache.py): elsewhere a test
        # may move the clock, or write behind the ORM, between two views of a page.
        "PAGE_CACHE_SECONDS": 0,
    }
    config.update(overrides)
    app = create_app(config)
    app.instance_path = instance_path
    app.test_client_class = FreshRequestClient
    return app


@pytest.fixture(scope="session")
def _schema(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The test database with every table, made once for the session."""
    app = make_test_app(database_url, str(tmp_path_factory.mktemp("schema")))
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.session.remove()
        db.engine.dispose()
    return database_url


@pytest.fixture(scope="module")
def app(_schema: str, tmp_path_factory: pytest.TempPathFactory):
    """A fresh app for each test module: nothing one module did to the app reaches the next."""
    app = make_test_app(_schema, str(tmp_path_factory.mktemp("instance")))
    yield app
    with app.app_context():
        db.engine.dispose()


def _empty_database() -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    if db.engine.dialect.name == "postgresql":
        # DELETE is far quicker than TRUNCATE on tables holding a handful of rows, and one
        # round trip carries every statement.
        db.session.execute(text("; ".join(f'DELETE FROM "{t.name}"' for t in tables)))
    else:
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture(autouse=True)
def _app_context(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test that uses the app runs in its context and leaves an empty database."""
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        yield
        db.session.rollback()
        _empty_database()
        app.extensions.get("mail_outbox", []).clear()
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


def login(client, person) -> None:
    """Sign ``person`` in on ``client`` without the (slow, deliberate) password hash.

    The session is recorded on the server as a real sign-in records it.
    """
    from involve.auth.services import SESSION_KEY, start_session

    token = start_session(person.user)
    db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = str(person.user.id)
        session["_fresh"] = True
        session[SESSION_KEY] = token


@pytest.fixture
def world(app) -> factories.World:
    world = factories.make_world()
    db.session.commit()
    return world


@pytest.fixture
def outbox(app) -> list:
    """Messages sent through the memory transport during the test."""
    return app.extensions.setdefault("mail_outbox", [])


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@contextmanager
def count_queries() -> Iterator[QueryCounter]:
    """Count the SQL statements run inside the block (kept pages' checks too)."""
    from involve import page_cache

    counter = QueryCounter()

    def before(conn, cursor, statement, parameters, context, executemany):
        counter.statements.append(statement)

    engines = [db.engine, page_cache.store().database()]
    for engine in engines:
        event.listen(engine, "before_cursor_execute", before)
    try:
        yield counter
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", before)


# --- a real SMTP server on loopback ------------------------------------------------------

def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class SMTPSink:
    host: str
    port: int
    messages: list[Message] = field(default_factory=list)
    senders: list[str] = field(default_factory=list)  # each message's envelope sender
    refuse: set[str] = field(default_factory=set)  # recipients to answer 550
    refuse_data: set[str] = field(default_factory=set)  # recipients whose message gets 554
    refused: list[str] = field(default_factory=list)  # recipients of messages it refused
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, n: int, timeout: float = 5.0) -> list[Message]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= n:
                    return list(self.messages)
            time.sleep(0.02)
        return list(self.messages)


class _Handler:
    def __init__(self, sink: SMTPSink) -> None:
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.sink.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.sink.lock:
            if set(envelope.rcpt_tos) & self.sink.refuse_data:
                # Refused after the final dot: the server read the message and keeps nothing.
                self.sink.refused.extend(envelope.rcpt_tos)
                return "554 5.7.1 Message refused: this mailbox does not accept it"
            self.sink.senders.append(envelope.mail_from)
            self.sink.messages.append(message_from_bytes(envelope.original_content
                                                         or envelope.content))
        return "250 Message accepted"


@contextmanager
def loopback_smtp(app, **config: Any) -> Iterator[SMTPSink]:
    """An aiosmtpd server on loopback; the app's mail goes to it (with ``config`` set too)
    until the block ends, when the app's settings are put back."""
    from aiosmtpd.controller import Controller

    sink = SMTPSink("127.0.0.1", free_port())
    controller = Controller(_Handler(sink), hostname="127.0.0.1", port=sink.port)
    controller.start()
    settings = {"MAIL_TRANSPORT": "smtp", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": sink.port,
                **config}
    saved = {k: app.config.get(k) for k in settings}
    app.config.update(settings)
    try:
        yield sink
    finally:
        app.config.update(saved)
        controller.stop()


@pytest.fixture
def smtp_server(app) -> Iterator[SMTPSink]:
    """An aiosmtpd server on loopback; the app's mail goes to it for the test."""
    with loopback_smtp(app) as sink:
        yield sink


@pytest.fixture
def demo(app, monkeypatch):
    """The Brookfield Care demo (and Elmfield Trust), loaded the way `flask demo` loads it (with
    a cheap hash); the Brookfield organisation."""
    from functools import partial

    from sqlalchemy import select
    from werkzeug.security import generate_password_hash

    import involve.people.models
    from involve.people.models import Organisation

    # Crawls only read, but forms render their CSRF field only when protection is on.
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    monkeypatch.setattr(involve.people.models, "generate_password_hash",
                        partial(generate_password_hash, method="pbkdf2:sha256:1000"))
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    return db.session.scalar(select(Organisation).where(Organisation.name == "Brookfield Care"))
