"""Time for people: the organisation's today and now, times shown in its zone, working days
with bank holidays, and crontabs read in its zone.

Times are stored in UTC (DESIGN.md); a *date* a person means ("today", "due on") is the
organisation's date, which differs from the server's around midnight and across summer time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from flask import current_app, has_app_context
from huey import crontab as huey_crontab

DEFAULT_ZONE = "Europe/London"
DEFAULT_FORMAT = "%A %-d %B %Y, %-I:%M%p"
DAY_FORMAT = "%A %-d %B %Y"


# --- the zone ----------------------------------------------------------------------------

def zone(organisation: Any = None) -> ZoneInfo:
    """The time zone of ``organisation`` (its own, where it names a valid one), else the
    installation's ``ORGANISATION_TIMEZONE``."""
    name = getattr(organisation, "timezone", None)
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, KeyError):
            pass
    return ZoneInfo(_configured_zone())


def _configured_zone() -> str:
    if has_app_context():
        return str(current_app.config.get("ORGANISATION_TIMEZONE") or DEFAULT_ZONE)
    from involve import extensions  # the worker's scheduler thread has the worker's app

    app = extensions._worker_app
    if app is not None:
        return str(app.config.get("ORGANISATION_TIMEZONE") or DEFAULT_ZONE)
    return DEFAULT_ZONE


def now() -> datetime:
    """The current time, timezone-aware in UTC (as it is stored)."""
    return datetime.now(UTC)


def local_now(organisation: Any = None) -> datetime:
    """The current time in the organisation's zone."""
    return datetime.now(zone(organisation))


def today(organisation: Any = None) -> date:
    """The organisation's date now (not the server's)."""
    return local_now(organisation).date()


# --- conversion and display --------------------------------------------------------------

def to_local(value: datetime, organisation: Any = None) -> datetime:
    """A stored (UTC) time in the organisation's zone."""
    return value.astimezone(zone(organisation))


def from_local(value: datetime | None, organisation: Any = None, *,
               zone_name: str | None = None) -> datetime | None:
    """A time a person typed (naive: the organisation's wall clock) in UTC; None stays None."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(zone_name) if zone_name else zone(organisation))
    return value.astimezone(UTC)


def wall_clock(value: datetime | None, organisation: Any = None) -> datetime | None:
    """A stored time as the organisation's wall clock, without a zone (for a form's field)."""
    if value is None:
        return None
    return to_local(value, organisation).replace(tzinfo=None)


def format_local(value: datetime | None, fmt: str = DEFAULT_FORMAT,
                 organisation: Any = None) -> str:
    """A stored time in the organisation's zone, in words people read easily
    ("Monday 2 March 2026, 2:30pm"); empty for None."""
    if value is None:
        return ""
    text = to_local(value, organisation).strftime(fmt)
    return text.replace("AM", "am").replace("PM", "pm")


def format_day(value: date | datetime | None, fmt: str = DAY_FORMAT) -> str:
    """A date in words ("Monday 2 March 2026"); a stored time is first put in local time."""
    if value is None:
        return ""
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = to_local(value)
    return value.strftime(fmt)


# --- working days ------------------------------------------------------------------------

DEFAULT_NATION = "england"
# BANK_HOLIDAYS (INVOLVE_BANK_HOLIDAYS) names the UK nation whose bank holidays are skipped.
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


# --- crontabs ----------------------------------------------------------------------------

def crontab(**fields: str) -> Callable[[datetime], bool]:
    """Huey's ``crontab`` read in the organisation's zone: ``crontab(hour="8", minute="0")``
    is due at 08:00 London time, in winter and in summer.

    Huey's scheduler passes its own clock: naive UTC (``huey.utc``, the default) or naive
    local time. The zone is looked up each time (the worker's app names it).
    """
    validate = huey_crontab(**fields)

    def due(moment: datetime) -> bool:
        from involve.extensions import huey

        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC) if huey.utc else moment.astimezone()
        return validate(moment.astimezone(zone()).replace(tzinfo=None))

    due.fields = fields  # type: ignore[attr-defined]
    return due
