"""Sign-in refusals look and take the same; guessing is locked per (account, address), slowed
per account, and never lets a stranger lock the owner out."""

from __future__ import annotations

import random
import statistics
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from involve.audit import AuditEvent
from involve.auth import services
from involve.extensions import db
from involve.people.models import Role, SignInAttempt
from tests import factories
from tests.auth.helpers import audit_actions, count, make_account, post_sign_in
from tests.auth.helpers import signed_in_person_id as signed_in

WRONG = "not the password"


def _fail(times: int, name: str = "nora@test.example", address: str = "10.0.0.66") -> None:
    for _ in range(times):
        response = post_sign_in(_client(), name, WRONG, address=address)
        assert services.SIGN_IN_FAILED in response.text


def _client():
    from flask import current_app

    return current_app.test_client()


def _age_attempts(by: timedelta) -> None:
    for attempt in db.session.scalars(select(SignInAttempt)):
        attempt.at -= by
    db.session.commit()


def test_failures_from_one_address_lock_that_address_only(app, smtp_server):
    person = make_account(email="nora@test.example")
    _fail(app.config["LOCK_AFTER_FAILURES"], address="10.0.0.66")
    assert audit_actions("account.locked") == ["account.locked"]
    [message] = smtp_server.wait_for(1)
    assert message["To"] == "nora@test.example"
    assert message["Subject"] == "Someone tried to sign in to Involve"
    text = " ".join(message.get_payload()[0].get_payload(decode=True).decode().split())
    assert "sign-ins from that place are paused for 15 minutes" in text

    # From that address even the right password is refused, with the very same words.
    stranger = _client()
    response = post_sign_in(stranger, "nora@test.example", address="10.0.0.66")
    assert response.status_code == 200 and services.SIGN_IN_FAILED in response.text
    assert signed_in(stranger) is None
    reasons = [e.details["reason"] for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "sign_in.failed"))]
    assert reasons[-1] == "locked"
    # The owner, elsewhere, is not locked out by the stranger.
    owner = _client()
    assert post_sign_in(owner, "nora@test.example", address="192.0.2.7").status_code == 302
    assert signed_in(owner) == str(person.user.id)
    assert len(smtp_server.wait_for(2, timeout=0.3)) == 1  # told once, not at every try


def test_the_lock_ends_after_the_lock_time_and_a_success_clears_the_count(app):
    make_account()
    _fail(app.config["LOCK_AFTER_FAILURES"])
    assert post_sign_in(_client(), "nora@test.example", address="10.0.0.66").status_code == 200
    _age_attempts(timedelta(minutes=app.config["LOCK_MINUTES"], seconds=1))
    assert post_sign_in(_client(), "nora@test.example", address="10.0.0.66").status_code == 302
    assert count(SignInAttempt) == 1  # the success; the failures from there are forgotten


def test_failures_below_the_limit_do_not_lock(app, outbox):
    make_account()
    _fail(app.config["LOCK_AFTER_FAILURES"] - 1)
    assert post_sign_in(_client(), "nora@test.example", address="10.0.0.66").status_code == 302
    assert audit_actions("account.locked") == []
    assert outbox == []


def test_an_account_without_email_is_locked_and_audited_without_mail(app, outbox):
    make_account(email=None, username="ada")
    _fail(app.config["LOCK_AFTER_FAILURES"], name="ada")
    assert audit_actions("account.locked") == ["account.locked"]
    assert post_sign_in(_client(), "ada", address="10.0.0.66").status_code == 200
    assert outbox == []


def test_unknown_names_lock_nothing_and_mail_nobody(app, outbox):
    make_account()
    _fail(app.config["LOCK_AFTER_FAILURES"] + 1, name="nobody@test.example")
    assert audit_actions("account.locked") == []
    assert outbox == []
    assert post_sign_in(_client(), "nora@test.example", address="10.0.0.66").status_code == 302


@pytest.fixture
def slow_after_three(app):
    saved = app.config["ACCOUNT_SLOW_AFTER_FAILURES"]
    app.config["ACCOUNT_SLOW_AFTER_FAILURES"] = 3
    yield
    app.config["ACCOUNT_SLOW_AFTER_FAILURES"] = saved


def test_guessing_from_many_addresses_slows_new_addresses_and_never_locks_known_ones(
        app, slow_after_three, outbox):
    make_account()
    assert post_sign_in(_client(), "nora@test.example", address="192.0.2.7").status_code == 302
    for n in range(3):
        _fail(1, address=f"198.51.100.{n}")
    # From an address the account never used, even the right password waits its turn...
    assert post_sign_in(_client(), "nora@test.example", address="203.0.113.9").status_code \
        == 200
    assert db.session.scalars(select(AuditEvent.details).where(
        AuditEvent.action == "sign_in.failed").order_by(AuditEvent.id.desc())).first() == {
        "reason": "slowed"}
    # ...but the owner's usual place is never slowed,
    assert post_sign_in(_client(), "nora@test.example", address="192.0.2.7").status_code == 302
    # and the wait is short: once it has passed, one try is checked.
    _age_attempts(timedelta(seconds=app.config["ACCOUNT_SLOW_SECONDS"] + 1))
    assert post_sign_in(_client(), "nora@test.example", address="203.0.113.9").status_code \
        == 302
    assert audit_actions("account.locked") == [] and outbox == []


def test_the_four_refusals_are_identical_in_words_status_and_time(app):
    """Unknown name, wrong password, locked account, invited account without a password.

    Timed as the processor time the request takes (the test client runs the app in this
    process): on a machine shared with other work, waiting for the processor would otherwise
    drown a few milliseconds. Each round is compared within itself, then the medians.
    """
    org = factories.make_org()
    service = factories.make_service(org)
    factories.make_person(org, "Wendy Wrong", email="wrong@test.example",
                          roles=[(Role.family, service)])
    factories.make_person(org, "Luke Locked", email="locked@test.example",
                          roles=[(Role.family, service)])
    invited = factories.make_person(org, "Ivy Invited", account=False,
                                    roles=[(Role.family, service)])
    services.invite(invited, email="invited@test.example", username=None, by=invited)
    db.session.commit()
    _fail(app.config["LOCK_AFTER_FAILURES"], name="locked@test.example", address="10.9.9.9")

    cases = {
        "unknown": ("nobody@test.example", WRONG, lambda n: f"10.1.0.{n}"),
        "wrong password": ("wrong@test.example", WRONG, lambda n: f"10.2.0.{n}"),
        "locked": ("locked@test.example", factories.PASSWORD, lambda n: "10.9.9.9"),
        "not set up": ("invited@test.example", WRONG, lambda n: f"10.4.0.{n}"),
    }
    timings: dict[str, list[float]] = {case: [] for case in cases}
    pages: dict[str, set[tuple[int, str]]] = {case: set() for case in cases}
    post_sign_in(_client(), "nobody@test.example", WRONG, address="10.0.0.1")  # warm up
    order = list(cases)
    slowest = 0.0
    for n in range(9):
        random.Random(n).shuffle(order)
        took = {}
        for case in order:
            name, password, address = cases[case]
            client = _client()
            started = time.process_time()
            response = post_sign_in(client, name, password, address=address(n))
            took[case] = time.process_time() - started
            slowest = max(slowest, took[case])
            assert signed_in(client) is None
            pages[case].add((response.status_code, response.text.replace(name, "NAME")))
        # Compared within the round, so a neighbour's load on the machine counts for all four.
        middle = statistics.median(took.values())
        for case, seconds in took.items():
            timings[case].append(seconds - middle)
    answers = {answer for found in pages.values() for answer in found}
    assert len(answers) == 1, "the four refusals must look exactly alike"
    status, page = answers.pop()
    assert status == 200 and services.SIGN_IN_FAILED in page
    medians = {case: statistics.median(times) for case, times in timings.items()}
    spread = max(medians.values()) - min(medians.values())
    assert spread < 0.025, f"median times differ by {spread * 1000:.1f} ms: {medians}"
    assert slowest > 0.025  # a password hash check costs more than the bound: none is skipped
