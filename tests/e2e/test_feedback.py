"""Browser journeys of feedback: an ambassador's feedback answered by the board, and a concern
given on the lounge tablet without signing in, acknowledged by the manager."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import assert_accessible, sign_in

pytestmark = pytest.mark.e2e


def _rose_court() -> dict:
    from involve.feedback import services
    from involve.people.models import Role
    from tests import factories

    org = factories.make_org("Brookfield Care")
    home = factories.make_service(org, "Rose Court")
    services.ensure_default_themes(org)
    ambassador = factories.make_person(org, "Cyril Clarke", roles=[(Role.service_user, home)],
                                       email="ambassador@test.example")
    factories.make_ambassador(ambassador, home)
    factories.make_person(org, "Beatrice Bourne", roles=[(Role.board, None)],
                          email="board@test.example")
    factories.make_person(org, "Mary Manning", roles=[(Role.manager, home)],
                          email="manager@test.example")
    return {"slug": home.slug}


def _sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.get_by_text("You have signed out").wait_for()


def test_ambassador_records_feedback_and_the_board_answers(live_server, page):
    live_server.seed(_rose_court)
    sign_in(page, "ambassador@test.example")
    page.goto("/feedback/ambassador/new")
    assert_accessible(page)
    page.get_by_label("Theme").select_option(label="Food")
    page.get_by_label("Suggestion").check()
    page.get_by_label("What did people say?").fill("People would like **fish** on Fridays.")
    page.get_by_label("Roughly how many people said this?").fill("6")
    page.get_by_role("button", name="Save the feedback").click()
    page.get_by_text("The feedback is saved and will go to the board.").wait_for()
    page.get_by_role("heading", name="Suggestion about food at Rose Court").wait_for()
    assert_accessible(page)
    _sign_out(page)

    sign_in(page, "board@test.example")
    page.goto("/feedback/board")
    page.get_by_role("heading", name="Ambassador feedback for the board").wait_for()
    assert_accessible(page)
    page.locator("table a").first.click()
    page.get_by_role("link", name="Answer").click()
    assert_accessible(page)
    page.get_by_label("The board's answer").fill("Yes: fish every Friday from next week.")
    page.get_by_role("button", name="Save the answer").click()
    page.get_by_text("The answer is saved and the ambassador has been told.").wait_for()
    assert "Answered" in page.locator(".badge").first.inner_text()
    assert_accessible(page)
    assert [m["To"] for m in live_server.outbox] == ["ambassador@test.example"]


def test_family_member_gives_a_concern_on_the_tablet_and_the_manager_acknowledges(
        live_server, tablet_page, page):
    seeded = live_server.seed(_rose_court)
    tablet_page.goto(f"/feedback/give/{seeded['slug']}")
    tablet_page.get_by_role("heading", name="Tell us what you think about Rose Court").wait_for()
    assert_accessible(tablet_page)
    tablet_page.get_by_label("Concern", exact=True).check()
    tablet_page.get_by_label("Tell us in your own words").fill(
        "Mum's room was cold last night.")
    tablet_page.get_by_label("Your name (optional)").fill("Fiona, Ada's daughter")
    tablet_page.get_by_label("Email or phone, if you would like a reply (optional)").fill(
        "fiona@example.org")
    # The timescales and the privacy notice are read before sending, not after.
    notice = tablet_page.get_by_role("region", name="Before you send")
    assert "working days" in notice.inner_text() and "Your privacy" in notice.inner_text()
    assert notice.bounding_box()["y"] < tablet_page.get_by_role(
        "button", name="Send").bounding_box()["y"]
    tablet_page.get_by_role("button", name="Send").click()
    tablet_page.get_by_role("heading", name="Thank you").wait_for()
    reference = tablet_page.locator(".reference-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", reference)
    assert "room was cold" not in tablet_page.content()  # the next person on the tablet
    assert_accessible(tablet_page)
    [receipt] = [m for m in live_server.outbox if m["To"] == "fiona@example.org"]
    assert reference in receipt["Subject"] and "room was cold" not in receipt.as_string()
    tablet_page.get_by_role("link", name="Finish").click()
    tablet_page.get_by_role("heading", name="Tell us what you think about Rose Court").wait_for()

    sign_in(page, "manager@test.example")
    assert "1 submission to acknowledge" in page.content()
    page.goto("/feedback/submissions")
    assert_accessible(page)
    page.get_by_role("link", name=reference).click()
    assert "Mum&#39;s room was cold" in page.content() or "Mum's room was cold" in page.content()
    page.get_by_role("button", name="Acknowledge").click()
    page.get_by_text(f"{reference} is acknowledged.").wait_for()
    assert_accessible(page)
