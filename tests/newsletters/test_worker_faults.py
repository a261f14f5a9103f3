"""Real faults against a real worker: ``flask worker`` killed (SIGKILL) or stopped (SIGTERM)
mid-send and started again (on the SQLite, Redis and PostgreSQL queues), a mail server that
goes away and comes back, and a database locked past the busy timeout. A loopback aiosmtpd
server counts the messages each recipient gets: none lost, none twice."""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import free_port
from tests.newsletters.worker_harness import Harness, empty_postgres

RECIPIENTS = 300


class CountingServer:
    """Counts messages per recipient; can be stopped and started again on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: Counter[str] = Counter()
        self.misaddressed: list[str] = []  # a message whose To is not its envelope's recipient
        self.lock = threading.Lock()
        self.controller = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        head = envelope.content.split(b"\r\n\r\n", 1)[0].decode(errors="replace")
        with self.lock:
            for to in envelope.rcpt_tos:
                self.received[to] += 1
                if f"\r\nTo: Rel{int(to[8:13])} <{to}>\r\n" not in head:
                    self.misaddressed.append(to)
        return "250 Message accepted"

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def total(self) -> int:
        with self.lock:
            return sum(self.received.values())

    def wait_for(self, n: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.total >= n:
                return True
            time.sleep(0.01)
        return False


# The PostgreSQL queue's workers get a database of their own beside the test database,
# emptied before each test (the workers' tables and Huey's queue tables alike).
_POSTGRES = os.environ.get("INVOLVE_TEST_DATABASE_URL",
                           "postgresql://postgres@127.0.0.1:5432/involve_test")
POSTGRES_URL = _POSTGRES.replace("+psycopg", "") + "_worker_faults"


def _queue_kinds() -> list:
    kinds = [pytest.param(("sqlite", None), id="sqlite-queue")]
    redis_url = os.environ.get("INVOLVE_TEST_REDIS_URL", "redis://127.0.0.1:6379/6")
    try:
        import redis

        redis.Redis.from_url(redis_url, socket_connect_timeout=0.5).ping()
        kinds.append(pytest.param(("redis", redis_url), id="redis-queue"))
    except Exception:  # noqa: BLE001 (any failure: no Redis here)
        kinds.append(pytest.param(("redis", redis_url), id="redis-queue",
                                  marks=pytest.mark.skip(reason="Redis is not reachable")))
    try:
        import peewee  # noqa: F401 (Huey's PostgreSQL queue: the postgres-queue extra)
        import psycopg

        psycopg.connect(psycopg.conninfo.make_conninfo(POSTGRES_URL, dbname="postgres"),
                        connect_timeout=1).close()
        kinds.append(pytest.param(("postgres", POSTGRES_URL), id="postgres-queue"))
    except Exception:  # noqa: BLE001 (any failure: no PostgreSQL or no peewee here)
        kinds.append(pytest.param(("postgres", POSTGRES_URL), id="postgres-queue",
                                  marks=pytest.mark.skip(
                                      reason="PostgreSQL or peewee is not available")))
    return kinds


@pytest.fixture
def server():
    smtp = CountingServer()
    smtp.start()
    yield smtp
    smtp.stop()


@pytest.fixture(params=_queue_kinds())
def harness(request, tmp_path, server):
    queue, url = request.param
    database_url = None
    if queue == "redis":
        import redis

        redis.Redis.from_url(url).flushdb()
    elif queue == "postgres":
        empty_postgres(url)
        database_url = url  # PostgreSQL holds the data too, as where this queue is used
    harness = Harness(tmp_path, server.port, batch=25, queue=queue, queue_url=url,
                      database_url=database_url)
    yield harness
    harness.close()


def _finish(harness: Harness, issue_id: int, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = harness.status()[str(issue_id)]
        if state["status"] == "sent":
            return state
        time.sleep(0.5)
    return harness.status()[str(issue_id)]


def _assert_exactly_once(server: CountingServer, n: int, may_lose: int = 0) -> None:
    """Nobody got two copies; nobody is missing, but for ``may_lose``: a SIGKILL landing in
    the moment between a message's record and its final dot loses that one message (README,
    "Newsletter delivery")."""
    expected = {f"relative{i:05d}@bench.example" for i in range(n)}
    lost = sorted(expected - set(server.received))
    assert len(lost) <= may_lose, "lost: " + ", ".join(lost[:5])
    assert set(server.received) <= expected
    doubled = {to: count for to, count in server.received.items() if count != 1}
    assert doubled == {}
    assert server.misaddressed == []  # each message built for the one it went to


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_a_worker_killed_or_stopped_mid_send_loses_nobody_and_mails_nobody_twice(
        harness, server, sig):
    issue_id = harness.seed(RECIPIENTS)
    worker = harness.start()
    assert server.wait_for(60, timeout=30), "the worker never started sending"
    seconds = harness.stop(worker, sig)
    if sig == signal.SIGTERM:
        assert seconds < 5  # a clean stop within a few seconds
        assert worker.returncode == 0
    assert 0 < server.total < RECIPIENTS
    harness.start()
    state = _finish(harness, issue_id)
    assert state["status"] == "sent" and state["sent"] == RECIPIENTS
    # One kill: at most the one message whose record and final dot it fell between.
    _assert_exactly_once(server, RECIPIENTS, may_lose=1 if sig == signal.SIGKILL else 0)


def test_a_mail_server_that_goes_away_and_comes_back_the_send_finishes_by_itself(
        tmp_path, server):
    harness = Harness(tmp_path, server.port, batch=25)
    try:
        issue_id = harness.seed(RECIPIENTS)
        harness.start()
        assert server.wait_for(60, timeout=30)
        server.stop()
        time.sleep(2)
        held = harness.status()[str(issue_id)]
        assert held["status"] == "sending" and held["failed"] == 0
        server.start()
        state = _finish(harness, issue_id)
        assert state["status"] == "sent" and state["sent"] == RECIPIENTS
        _assert_exactly_once(server, RECIPIENTS)
    finally:
        harness.close()


def test_a_database_locked_past_the_busy_timeout_mid_send_loses_nobody_and_carries_on(
        tmp_path, server):
    # Another connection holds SQLite's write lock (BEGIN IMMEDIATE) for longer than the
    # worker waits for it, in the middle of a send, then lets go.
    harness = Harness(tmp_path, server.port, batch=25)
    try:
        issue_id = harness.seed(RECIPIENTS)
        # The busy timeout every connection of the app gets (involve sets it on every engine).
        engine = create_engine(f"sqlite:///{harness.sqlite_path}")
        with engine.connect() as connection:
            busy_timeout = connection.execute(text("PRAGMA busy_timeout")).scalar() / 1000
        engine.dispose()
        assert busy_timeout > 0
        worker = harness.start()
        assert server.wait_for(60, timeout=30), "the worker never started sending"
        locker = sqlite3.connect(harness.sqlite_path, isolation_level=None)
        locker.execute("BEGIN IMMEDIATE")
        before = server.total
        time.sleep(busy_timeout + 2)
        during = server.total
        locker.execute("ROLLBACK")
        locker.close()
        assert during - before <= 1  # the message on the wire at most: the lock held it up
        state = _finish(harness, issue_id)
        assert state["status"] == "sent" and state["sent"] == RECIPIENTS
        _assert_exactly_once(server, RECIPIENTS)
        assert worker.poll() is None  # the same worker carried on
        assert "Unhandled exception" not in harness.logs()
    finally:
        harness.close()
