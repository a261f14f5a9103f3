"""The organisation's time: today, display, working days and crontabs in its zone."""

from datetime import UTC, date, datetime

from involve.kernel import clock


def test_today_is_the_organisations_date_not_the_servers(app, monkeypatch):
    # 23:30 UTC on 30 June is already 1 July in London (summer time).
    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):
            moment = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)
            return moment.astimezone(tz) if tz else moment.replace(tzinfo=None)

    monkeypatch.setattr(clock, "datetime", Frozen)
    assert clock.today() == date(2026, 7, 1)

    class Elsewhere:
        timezone = "America/New_York"

    assert clock.today(Elsewhere()) == date(2026, 6, 30)


def test_times_are_shown_in_the_zone_in_plain_words(app):
    summer = datetime(2026, 7, 1, 13, 30, tzinfo=UTC)
    assert clock.format_local(summer) == "Wednesday 1 July 2026, 2:30pm"
    assert clock.format_local(None) == ""
    assert clock.format_day(date(2026, 3, 2)) == "Monday 2 March 2026"
    typed = datetime(2026, 7, 1, 14, 30)
    assert clock.from_local(typed) == summer


def test_working_days_skip_weekends_and_bank_holidays(app):
    assert clock.add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 29)
    assert clock.is_working_day(date(2026, 4, 3)) is False  # Good Friday
    app.config["BANK_HOLIDAYS"] = "scotland"
    try:
        assert clock.is_working_day(date(2026, 1, 2)) is False
    finally:
        del app.config["BANK_HOLIDAYS"]
    assert clock.is_working_day(date(2026, 1, 2)) is True


def test_crontabs_are_read_in_london_time_in_winter_and_summer(app):
    eight = clock.crontab(hour="8", minute="0")
    # Huey's scheduler passes naive UTC.
    assert eight(datetime(2026, 1, 15, 8, 0))  # GMT
    assert not eight(datetime(2026, 7, 15, 8, 0))  # 09:00 BST
    assert eight(datetime(2026, 7, 15, 7, 0))  # 08:00 BST


def test_the_worker_sends_the_morning_reminders_at_eight_london_time(app):
    from involve.extensions import huey
    from involve.kernel import domains

    domains.parts("tasks", app)

    def due(at: datetime) -> set[str]:
        return {task.name for task in huey.read_periodic(at)}

    chairs = "remind_chairs_about_minutes"
    assert any(chairs in name for name in due(datetime(2026, 1, 15, 8, 0)))  # 08:00 GMT
    assert any(chairs in name for name in due(datetime(2026, 7, 15, 7, 0)))  # 08:00 BST
    assert not any(chairs in name for name in due(datetime(2026, 7, 15, 8, 0)))  # 09:00 BST
