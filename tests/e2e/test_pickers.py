"""Pickers and paged lists in a large meeting and a large organisation, in a real browser:
axe passes, every control of the search and the pager is a 44px target at the largest text
size, and the search works with JavaScript switched off."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import assert_accessible, sign_in
from tests.e2e.test_accessibility_sweep import _headings_not_smaller

pytestmark = pytest.mark.e2e

TARGETS = """() => [...document.querySelectorAll(
    'form[role=search] input, form[role=search] button, .pager a')]
  .map(el => [el.outerHTML.slice(0, 60), el.getBoundingClientRect().height])
  .filter(([, height]) => height < 44)"""


def _large_world() -> dict:
    from involve.extensions import db
    from involve.people.models import Role
    from tests.factories import make_person, make_service, make_world
    from tests.meetings.helpers import held_meeting

    world = make_world()
    for n in range(30):
        make_person(world.org, f"Vera Resident {n:02}", roles=[(Role.service_user, world.home)],
                    email=f"vera{n}@test.example", needs=["large_print"])
    for n in range(25):
        make_service(world.org, f"Xeno House {n:02}")
    admin = make_person(world.org, "Wide Admin", roles=[(Role.admin, None)],
                        email="wide@test.example")
    meeting = held_meeting(world)
    db.session.commit()
    return {"manager": world.people["manager"].user.email, "admin": admin.user.email,
            "meeting": meeting.id}


def _check(page, path: str) -> None:
    response = page.goto(path)
    assert response.status == 200, path
    assert page.locator("form[role=search], .pager a").count(), path
    assert_accessible(page)
    _headings_not_smaller(page)
    page.evaluate("document.documentElement.className = 'text-larger'")
    small = page.evaluate(TARGETS)
    assert not small, f"targets under 44px at the largest text on {path}: {small}"


def test_a_large_meetings_pages_pass_axe_with_large_targets(live_server, page):
    seeded = live_server.seed(_large_world)
    meeting = seeded["meeting"]
    sign_in(page, seeded["manager"])
    for path in (f"/meetings/{meeting}/attendance", f"/meetings/{meeting}/attendance?q=vera",
                 f"/meetings/{meeting}/items/new", f"/meetings/{meeting}/agenda/print"):
        _check(page, path)


def test_service_and_people_pickers_pass_axe_with_large_targets(live_server, page):
    seeded = live_server.seed(_large_world)
    sign_in(page, seeded["admin"])
    for path in ("/people/new", "/feedback/settings", "/meetings/series/new"):
        _check(page, path)


def test_the_searches_work_without_javascript(live_server, browser):
    seeded = live_server.seed(_large_world)
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, seeded["manager"])
        page.goto(f"/meetings/{seeded['meeting']}/items/new")
        page.get_by_label("Find a person by name").fill("resident 29")
        page.get_by_role("button", name="Search").click()
        page.get_by_label("Raised by").select_option(label="Vera Resident 29")
        page.get_by_label("Title on the agenda").fill("The garden")
        page.get_by_role("button", name="Add the item").click()
        page.get_by_text('"The garden" is on the agenda').wait_for()
        page.goto(f"/meetings/{seeded['meeting']}/attendance")
        page.get_by_label("Find someone by name").fill("resident 07")
        page.get_by_role("button", name="Search").click()
        page.get_by_role("group", name="Vera Resident 07").get_by_label("Sent apologies").check()
        page.get_by_role("button", name="Save").click()
        page.get_by_text("Attendance is saved.").wait_for()
    finally:
        context.close()
