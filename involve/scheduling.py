"""Scheduled work that runs once per due time, however many workers share the queue.

Every worker runs Huey's scheduler, so with two workers every periodic task is put in the
queue twice. Each periodic task therefore *claims* its due time first: a row in
``scheduled_run`` with a unique (task, due key), inserted and committed before the work. The
insert that loses the race inserts nothing and the task skips. The same claim, with a finer
key (one per reminder and recipient), lets a task record each message before it sends it, so
a retry never sends one twice.

Use :func:`periodic_task` in place of ``huey.periodic_task`` (it adds the application
context and the claim), and :func:`claim` for the finer records.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import String, UniqueConstraint, delete
from sqlalchemy.orm import Mapped, mapped_column

from involve import mail
from involve.extensions import UTCDateTime, db, huey, utcnow, with_app_context

F = TypeVar("F", bound=Callable[..., Any])

# How far back to look for the due time of a task that ran late (a weekly task at most).
_LOOK_BACK = timedelta(days=8)


class ScheduledRun(db.Model):
    """One due time of one periodic task (or one reminder), claimed by the worker doing it."""

    __tablename__ = "scheduled_run"
    __table_args__ = (UniqueConstraint("task", "due_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task: Mapped[str] = mapped_column(String(100))
    due_key: Mapped[str] = mapped_column(String(200))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def _insert_if_missing(values: dict):
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(ScheduledRun.__table__).values(**values).on_conflict_do_nothing(
        index_elements=["task", "due_key"])


def claim(task: str, due_key: str) -> bool:
    """Claim ``(task, due_key)`` and commit: True for the one caller that got it.

    The database's unique constraint decides, so any number of workers on any number of
    machines agree. Commits the session (the claim must be durable before the work starts):
    call it from tasks, never from a service.
    """
    # RETURNING, not rowcount: drivers differ in what rowcount says after ON CONFLICT.
    won = db.session.execute(_insert_if_missing(
        dict(task=task[:100], due_key=due_key[:200], claimed_at=utcnow()))
        .returning(ScheduledRun.__table__.c.id)).first() is not None
    db.session.commit()
    return won


def unclaim(task: str, due_key: str) -> None:
    """Give a claim back (the work it guarded did not happen, so a retry may do it)."""
    db.session.execute(delete(ScheduledRun).where(ScheduledRun.task == task,
                                                  ScheduledRun.due_key == due_key))
    db.session.commit()


def record_then_send(messages: list) -> int:
    """Commit what the task recorded (the reminders marked as sent), then send the messages.

    Recorded before sent: a worker that dies part-way, or a retry, sends nothing twice.
    """
    db.session.commit()
    return mail.send_each(messages)


def due_time(validate: Callable[[datetime], bool], now: datetime) -> datetime:
    """The latest minute at or before ``now`` when a crontab says the task is due.

    A task taken from the queue a little late still claims the due time it was put there
    for, so two workers whose schedulers ticked either side of a minute agree.
    """
    moment = now.replace(second=0, microsecond=0)
    earliest = moment - _LOOK_BACK
    while moment > earliest:
        if validate(moment):
            return moment
        moment -= timedelta(minutes=1)
    return now.replace(second=0, microsecond=0)


def periodic_task(validate: Callable[[datetime], bool], **options: Any) -> Callable[[F], F]:
    """``huey.periodic_task`` whose work runs once per due time across every worker."""

    def decorator(task: F) -> F:
        name = f"{task.__module__}.{task.__name__}"

        @functools.wraps(task)
        def once(*args: Any, **kwargs: Any) -> Any:
            # Huey's scheduler checks crontabs in the worker's local time (huey.utc=True: UTC).
            now = datetime.now(UTC).replace(tzinfo=None) if huey.utc else datetime.now()
            due = due_time(validate, now)
            if not claim(name, due.strftime("%Y-%m-%dT%H:%M")):
                return 0  # another worker has this due time
            return task(*args, **kwargs)

        return huey.periodic_task(validate, **options)(with_app_context(once))

    return decorator
