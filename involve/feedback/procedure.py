"""The complaints procedure's clock: deadlines in working days (weekends and the nation's bank
holidays skipped)."""

from __future__ import annotations

from datetime import date

from flask import current_app

# Working days and the nation's bank holidays are the kernel's clock (INVOLVE_BANK_HOLIDAYS).
from involve.kernel.clock import add_working_days, working_days_between  # noqa: F401

DEFAULT_ACKNOWLEDGE_DAYS = 3
DEFAULT_ANSWER_DAYS = 20


def acknowledge_days() -> int:
    return int(current_app.config.get("COMPLAINT_ACKNOWLEDGE_DAYS", DEFAULT_ACKNOWLEDGE_DAYS))


def answer_days() -> int:
    return int(current_app.config.get("COMPLAINT_ANSWER_DAYS", DEFAULT_ANSWER_DAYS))


def deadlines(received_on: date) -> tuple[date, date]:
    """When a complaint received on ``received_on`` must be acknowledged and answered."""
    return (add_working_days(received_on, acknowledge_days()),
            add_working_days(received_on, answer_days()))
