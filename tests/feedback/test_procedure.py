"""Working days for the complaints procedure."""

from datetime import date

import pytest

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


def test_bank_holidays_are_skipped_in_england_by_default(app):
    # Thursday 24 December 2026: Christmas (Fri 25), Boxing Day substitute (Mon 28) are skipped.
    assert add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 29)
    # Good Friday 3 April and Easter Monday 6 April 2026.
    assert add_working_days(date(2026, 4, 2), 1) == date(2026, 4, 7)
    assert working_days_between(date(2026, 12, 24), date(2026, 12, 29)) == 1


def test_the_nation_is_configurable(app):
    # 2 January is a bank holiday in Scotland, not in England; 17 March in Northern Ireland.
    assert add_working_days(date(2026, 1, 1), 1) == date(2026, 1, 2)
    app.config["BANK_HOLIDAYS"] = "scotland"
    try:
        assert add_working_days(date(2026, 1, 1), 1) == date(2026, 1, 5)
        app.config["BANK_HOLIDAYS"] = "Northern Ireland"
        assert add_working_days(date(2026, 3, 16), 1) == date(2026, 3, 18)
        app.config["BANK_HOLIDAYS"] = "none"
        assert add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 25)
    finally:
        app.config["BANK_HOLIDAYS"] = "england"


def test_an_unknown_nation_is_a_clear_error(app):
    app.config["BANK_HOLIDAYS"] = "atlantis"
    try:
        with pytest.raises(ValueError, match="BANK_HOLIDAYS must be one of england"):
            deadlines(date(2026, 11, 16))
    finally:
        app.config["BANK_HOLIDAYS"] = "england"


def test_the_setting_is_read_from_the_environment():
    from involve.config import from_environment

    assert from_environment({"INVOLVE_BANK_HOLIDAYS": "wales"})["BANK_HOLIDAYS"] == "wales"
