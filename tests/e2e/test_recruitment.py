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
    _score(tablet_page, "Sam (candidate A)", ["Very good", "Good"])
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


def _paper_panel() -> dict:
    """A Rose Court panel whose first service user, Edna, has no account: she scores on paper."""
    from involve.people.models import Role
    from tests.factories import make_person, make_world
    from tests.recruitment.helpers import make_panel

    world = make_world()
    edna = make_person(world.org, "Edna Paper", roles=[(Role.service_user, world.home)],
                       account=False)
    panel = make_panel(world, first_user=edna)
    return {"manager": world.people["manager"].user.email, "vacancy_id": panel.vacancy.id}


def test_the_manager_enters_a_panel_members_paper_sheet(live_server, page):
    seeded = live_server.seed(_paper_panel)
    sign_in(page, seeded["manager"])
    page.goto(f"/recruitment/vacancies/{seeded['vacancy_id']}")
    page.get_by_role("heading", name="Everyone's score sheets").wait_for()
    assert_accessible(page)
    page.get_by_role("link", name="Enter from paper for Edna Paper, Sam (candidate A)").click()
    page.get_by_role("heading", name="Enter a paper sheet").wait_for()
    assert_accessible(page)
    page.locator("fieldset", has_text="Question 1:").get_by_label("Good", exact=True).check()
    page.get_by_role("button", name="Send Edna's scores").click()
    # Question 2 was left: the message says which, and the sheet is not sent.
    page.get_by_text("Not scored yet: question 2").first.wait_for()
    assert_accessible(page)
    page.locator("fieldset", has_text="Question 2:").get_by_label("Very good",
                                                                   exact=True).check()
    page.locator("fieldset", has_text="Question 1:").get_by_label("Good", exact=True).check()
    page.get_by_label("Comment they wrote (if any)").first.fill("She smiled at me")
    page.get_by_role("button", name="Send Edna's scores").click()
    page.get_by_text("Edna Paper's paper sheet for Sam (candidate A) is entered and sent."
                     ).wait_for()
    assert page.get_by_text("From paper, entered by").count() == 1
    page.goto(f"/recruitment/vacancies/{seeded['vacancy_id']}/compare")
    page.get_by_text("Sam (candidate A): 1 sheet(s) sent").wait_for()
    assert page.get_by_text("from paper, entered by").count() == 1
    assert page.locator(".missing-sheets").count() == 2
    assert_accessible(page)


def _larger_text_scorer() -> dict:
    from involve.extensions import db
    from tests.factories import make_world
    from tests.recruitment.helpers import make_panel

    world = make_world()
    panel = make_panel(world)
    panel.questions[0].question.text = ("What would you do if a resident who lives with "
                                        "dementia asked you the same question again and again "
                                        "through the afternoon, and seemed more worried each "
                                        "time? Tell us about a time it happened.")
    world.people["service_user"].user.text_size = "larger"
    db.session.flush()
    return {"service_user": world.people["service_user"].user.email,
            "candidate_id": panel.candidates[0].id}


def test_five_faces_fit_on_one_row_on_a_tablet_at_the_largest_text_size(live_server,
                                                                         tablet_page):
    seeded = live_server.seed(_larger_text_scorer)
    tablet_page.set_viewport_size({"width": 768, "height": 1024})
    sign_in(tablet_page, seeded["service_user"])
    tablet_page.goto(f"/recruitment/candidates/{seeded['candidate_id']}/score")
    tablet_page.get_by_role("heading", name="Scores for Sam (candidate A)").wait_for()
    assert tablet_page.evaluate("document.documentElement.className").startswith("text-larger")
    layout = tablet_page.evaluate("""() => {
        const box = el => el.getBoundingClientRect();
        const set = document.querySelector('fieldset.score-question');
        const options = [...set.querySelectorAll('.face-option')];
        return {
          card: box(set), legend: box(set.querySelector('legend')),
          options: options.map(o => ({...box(o).toJSON(), word: o.innerText.trim(),
                                      overflows: o.scrollWidth > o.clientWidth + 1,
                                      fill: o.querySelector('svg circle').getAttribute('fill'),
                                      face: box(o.querySelector('svg')).width})),
          pageWidth: document.documentElement.scrollWidth,
          back: box(document.querySelector('a.back-link')).height,
        };
    }""")
    options = layout["options"]
    assert [o["word"] for o in options] == ["Poor", "Not so good", "OK", "Good", "Very good"]
    assert len({round(o["y"]) for o in options}) == 1, "the five faces are not on one row"
    assert all(not o["overflows"] for o in options), options
    assert options[-1]["right"] <= layout["card"]["right"]
    assert layout["pageWidth"] <= 768
    assert len({o["fill"] for o in options}) == 5  # five colours
    assert min(o["face"] for o in options) >= 64  # large
    # A long question stays inside its card.
    assert layout["legend"]["top"] >= layout["card"]["top"]
    assert layout["legend"]["right"] <= layout["card"]["right"]
    assert layout["back"] >= 44
    assert_accessible(tablet_page)
