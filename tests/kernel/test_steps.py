"""The one view step: a service call, then commit and thank, or roll back and say why."""

from flask import get_flashed_messages
from sqlalchemy import select

from involve.extensions import db
from involve.kernel.errors import DomainError
from involve.kernel.steps import attempt
from involve.people.models import Service


def _rename(service: Service, name: str, refuse: bool) -> Service:
    service.name = name
    db.session.flush()
    if refuse:
        raise DomainError("That name cannot be used.")
    return service


def test_success_commits_and_thanks(app, world):
    with app.test_request_context("/"):
        ok, result = attempt(lambda: _rename(world.home, "Rose House", False),
                             lambda s: f"Renamed to {s.name}.")
        assert ok and result is world.home
        assert get_flashed_messages(with_categories=True) == [
            ("success", "Renamed to Rose House.")]
    db.session.expire_all()
    assert db.session.scalar(select(Service.name).where(Service.id == world.home.id)) == \
        "Rose House"


def test_a_refusal_rolls_back_and_says_why(app, world):
    before = world.home.name
    with app.test_request_context("/"):
        ok, result = attempt(lambda: _rename(world.home, "Nope", True), "Renamed.")
        assert (ok, result) == (False, None)
        assert get_flashed_messages(with_categories=True) == [
            ("error", "That name cannot be used.")]
    db.session.expire_all()
    assert db.session.scalar(select(Service.name).where(Service.id == world.home.id)) == before


def test_other_errors_are_not_hidden(app, world):
    with app.test_request_context("/"):
        try:
            attempt(lambda: 1 / 0, "Done.")
        except ZeroDivisionError:
            pass
        else:
            raise AssertionError("a programming error must not become a flash")
