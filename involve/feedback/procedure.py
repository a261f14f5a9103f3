"""The complaints procedure's clock: deadlines in working days (weekends skipped)."""

from __future__ import annotations

from datetime import date, timedelta

from flask import current_app

DEFAULT_ACKNOWLEDGE_DAYS = 3
DEFAULT_ANSWER_DAYS = 20


def add_working_days(start: date, days: int) -> date:
    """The date ``days`` working days (Monday to Friday) after ``start``."""
    current = start
    left = days
    while left > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            left -= 1
    return current


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when end <= start)."""
    count = 0
    current = start
    while current < end:
        current += timedelta(days=1)
        if current.weekday() < 5:
            count += 1
    return count


def acknowledge_days() -> int:
    return int(current_app.config.get("COMPLAINT_ACKNOWLEDGE_DAYS", DEFAULT_ACKNOWLEDGE_DAYS))


def answer_days() -> int:
    return int(current_app.config.get("COMPLAINT_ANSWER_DAYS", DEFAULT_ANSWER_DAYS))


def deadlines(received_on: date) -> tuple[date, date]:
    """When a complaint received on ``received_on`` must be acknowledged and answered."""
    return (add_working_days(received_on, acknowledge_days()),
            add_working_days(received_on, answer_days()))
