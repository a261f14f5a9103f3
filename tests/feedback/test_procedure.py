"""Working days for the complaints procedure."""

from datetime import date

from involve.feedback.procedure import add_working_days, deadlines, working_days_between


def test_weekends_are_skipped():
    friday = date(2026, 11, 20)
    assert add_working_days(friday, 1) == date(2026, 11, 23)  # Monday
    assert add_working_days(friday, 3) == date(2026, 11, 25)
    assert add_working_days(date(2026, 11, 21), 1) == date(2026, 11, 23)  # from a Saturday
    assert add_working_days(date(2026, 11, 16), 20) == date(2026, 12, 14)
    assert working_days_between(friday, date(2026, 11, 25)) == 3


def test_deadlines_follow_the_configuration(app):
    monday = date(2026, 11, 16)
    assert deadlines(monday) == (date(2026, 11, 19), date(2026, 12, 14))
    app.config.update(COMPLAINT_ACKNOWLEDGE_DAYS=2, COMPLAINT_ANSWER_DAYS=10)
    try:
        assert deadlines(monday) == (date(2026, 11, 18), date(2026, 11, 30))
    finally:
        del app.config["COMPLAINT_ACKNOWLEDGE_DAYS"], app.config["COMPLAINT_ANSWER_DAYS"]
