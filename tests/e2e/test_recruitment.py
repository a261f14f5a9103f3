"""Browser journey: a service user scores on a tablet; the chair compares and decides."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import assert_accessible, sign_in

pytestmark = pytest.mark.e2e


def _panel_ready_for_scoring() -> dict:
    """A Rose Court panel: two other service users and the chair have scored already."""
    from tests.factories import make_world
    from tests.recruitment.helpers import make_panel, score_all

    world = make_world()
    panel = make_panel(world)
    for person in panel.service_users[1:]:
        score_all(panel, person, panel.candidates[0], 5)
        score_all(panel, person, panel.candidates[1], 3)
    score_all(panel, panel.chair, panel.candidates[0], 2)
    score_all(panel, panel.chair, panel.candidates[1], 4)
    return {"service_user": world.people["service_user"].user.email,
            "manager": world.people["manager"].user.email,
            "chair": panel.chair.user.email, "vacancy_id": panel.vacancy.id,
            "emails": sorted(p.user.email for p in panel.service_users)}


def _score(page, candidate: str, answers: list[str]) -> None:
    page.get_by_role("link", name=f"Score {candidate}").click()
    page.get_by_role("heading", name=f"Scores for {candidate}").wait_for()
    assert_accessible(page)
    for number, word in enumerate(answers, start=1):
        question = page.locator("fieldset", has_text=f"Question {number}:")
        question.get_by_label(word, exact=True).check()
    page.get_by_label("Comment (you do not have to)").first.fill("Kind and listened to me")
    page.get_by_role("button", name="Send my scores").click()
    page.get_by_text("Thank you. Your scores are sent.").wait_for()
    assert page.get_by_text("What the others on the panel gave").is_visible()
    assert_accessible(page)


def test_service_user_scores_on_a_tablet_and_the_chair_decides(live_server, tablet_page, page):
    seeded = live_server.seed(_panel_ready_for_scoring)

    # The service user, on a shared tablet.
    sign_in(tablet_page, seeded["service_user"])
    tablet_page.get_by_role("link", name="Senior care worker at Rose Court").click()
    tablet_page.get_by_role("heading", name="Senior care worker").wait_for()
    assert_accessible(tablet_page)
    _score(tablet_page, "Sam (candidate A)", ["Excellent", "Good"])
    tablet_page.get_by_role("link", name="Back to the candidates").click()
    _score(tablet_page, "Alex (candidate B)", ["OK", "Not so good"])
    # The sheet is locked now: the faces are gone and the scores stay.
    assert tablet_page.get_by_role("radio").count() == 0

    # The chair compares staff and service users' scores side by side, then decides.
    sign_in(page, seeded["chair"])
    page.goto(f"/recruitment/vacancies/{seeded['vacancy_id']}/compare")
    page.get_by_role("heading", name="Staff and service users' scores").wait_for()
    assert page.get_by_text("Sam (candidate A): 4 sheet(s) sent").is_visible()
    assert page.locator("tr.differs").count() >= 1
    assert_accessible(page)
    page.get_by_role("link", name="Record the decision").click()
    page.get_by_label("Who is appointed?").select_option(label="Sam (candidate A)")
    page.get_by_label("Reasons").fill("Warm, clear and practical.")
    page.get_by_role("button", name="Record the decision").click()
    page.get_by_text("Please record how the service users' views were weighed.").first.wait_for()
    assert_accessible(page)
    page.get_by_label("How the service users' views were weighed").fill(
        "All three residents preferred Sam, and we agreed with them.")
    page.get_by_role("button", name="Record the decision").click()
    page.get_by_text("The decision is recorded.").wait_for()
    assert re.search(r"/decision$", page.url)
    assert_accessible(page)
    assert sorted(m["To"] for m in live_server.outbox) == seeded["emails"]

    # The manager's page for correcting a vacancy's details.
    tablet_page.get_by_role("button", name="Sign out").click()
    tablet_page.wait_for_url(re.compile(r"/sign-in$"))
    sign_in(tablet_page, seeded["manager"])
    tablet_page.goto(f"/recruitment/vacancies/{seeded['vacancy_id']}/edit")
    tablet_page.get_by_label("Job title").wait_for()
    assert_accessible(tablet_page)
