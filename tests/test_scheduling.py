"""Scheduled work runs once per due time, however many workers race for it."""

from __future__ import annotations

import threading
from datetime import datetime

from huey import crontab
from sqlalchemy import func, select

from involve import scheduling
from involve.extensions import db
from involve.scheduling import ScheduledRun


def test_two_workers_racing_for_one_due_time_run_it_once(app):
    db.session.commit()
    start = threading.Barrier(4)
    wins: list[bool] = []

    def worker() -> None:
        with app.app_context():
            start.wait()
            wins.append(scheduling.claim("feedback.remind", "2026-11-23T07:30"))
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(wins) == [False, False, False, True]
    assert db.session.scalar(select(func.count(ScheduledRun.id))) == 1


def test_the_due_time_is_the_crontab_minute_even_when_the_task_runs_late():
    validate = crontab(hour="7", minute="30")
    assert scheduling.due_time(validate, datetime(2026, 11, 23, 7, 33, 59)) == \
        datetime(2026, 11, 23, 7, 30)
    assert scheduling.due_time(validate, datetime(2026, 11, 23, 6, 0)) == \
        datetime(2026, 11, 22, 7, 30)


def test_every_periodic_task_claims_its_due_time(app, world, outbox):
    from involve.feedback import tasks
    from tests.feedback.test_submissions import make_submission

    make_submission(world, days_ago=30)
    db.session.commit()
    assert tasks.remind_overdue_complaints.call_local() == 1
    assert tasks.remind_overdue_complaints.call_local() == 0  # the second worker skips
    assert len(outbox) == 1
    # Even a run that got a due time of its own records each reminder before it goes.
    db.session.execute(ScheduledRun.__table__.delete().where(
        ScheduledRun.task != tasks.REMINDER))
    db.session.commit()
    assert tasks.remind_overdue_complaints.call_local() == 0
    assert len(outbox) == 1


def test_a_reminder_that_could_not_be_sent_is_not_recorded(app, world, outbox):
    from involve.feedback import tasks
    from tests.feedback.test_submissions import make_submission

    make_submission(world, days_ago=30)
    db.session.commit()
    app.config.update(MAIL_TRANSPORT="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=1)
    try:
        assert tasks.overdue_reminders() == 0  # nothing listens: not sent
    finally:
        app.config.update(MAIL_TRANSPORT="memory", MAIL_SERVER=None, MAIL_PORT=25)
    assert db.session.scalar(select(func.count(ScheduledRun.id))) == 0
    assert tasks.overdue_reminders() == 1  # so a later run sends it
    assert len(outbox) == 1


def test_every_periodic_task_goes_through_the_claim():
    import importlib
    import inspect

    for name in ("meetings", "newsletters", "recruitment", "feedback", "people", "elections"):
        source = inspect.getsource(importlib.import_module(f"involve.{name}.tasks"))
        assert "huey.periodic_task" not in source, name
