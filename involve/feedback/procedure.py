"""The complaints procedure's clock: deadlines in working days (weekends and the nation's bank
holidays skipped)."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays
from flask import current_app, has_app_context

DEFAULT_ACKNOWLEDGE_DAYS = 3
DEFAULT_ANSWER_DAYS = 20
DEFAULT_NATION = "england"

# INVOLVE_BANK_HOLIDAYS names the UK nation whose bank holidays the clock skips.
NATIONS = {"england": "ENG", "wales": "WLS", "scotland": "SCT", "northern-ireland": "NIR",
           "none": ""}


def nation() -> str:
    """The nation configured (``BANK_HOLIDAYS``), checked; England when unset."""
    name = DEFAULT_NATION
    if has_app_context():
        name = str(current_app.config.get("BANK_HOLIDAYS") or DEFAULT_NATION)
    name = name.strip().lower().replace("_", "-").replace(" ", "-")
    if name not in NATIONS:
        raise ValueError(f"BANK_HOLIDAYS must be one of {', '.join(NATIONS)}, not {name!r}.")
    return name


@lru_cache(maxsize=64)
def _bank_holidays(subdivision: str, year: int) -> frozenset[date]:
    if not subdivision:
        return frozenset()
    return frozenset(holidays.country_holidays("GB", subdiv=subdivision, years=year))


def is_working_day(day: date, nation_name: str | None = None) -> bool:
    """Monday to Friday, and not a bank holiday in the nation."""
    if day.weekday() >= 5:
        return False
    return day not in _bank_holidays(NATIONS[nation_name or nation()], day.year)


def add_working_days(start: date, days: int) -> date:
    """The date ``days`` working days after ``start``."""
    where = nation()
    current = start
    left = days
    while left > 0:
        current += timedelta(days=1)
        if is_working_day(current, where):
            left -= 1
    return current


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when end <= start)."""
    where = nation()
    count = 0
    current = start
    while current < end:
        current += timedelta(days=1)
        if is_working_day(current, where):
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
