"""axe over every kind of page of meetings, newsletters and feedback, in the states the demo
holds and the ones it does not (a send under way or held up, a cancelled meeting, minutes
waiting for approval, forms sent back with their errors), for each kind of person.

The browser crawls from each area's first page, following links within the three areas,
a page or two of each kind (numbers aside), and runs axe on each.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError

from tests.e2e.conftest import assert_accessible, sign_in
from tests.test_demo_pages import DOWNLOAD, normalise, shape

pytestmark = pytest.mark.e2e

AREAS = re.compile(r"^/(meetings|newsletters|feedback)(/|$)")
SAME_SHAPE = 2


def _load_demo(app) -> None:
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output


def _server_checks_forms(page) -> None:
    """A form with a required field is checked by the server, which says what is missing in
    words beside the field and in a summary, not by the browser's passing bubble."""
    bubbles = page.eval_on_selector_all(
        "form:not([novalidate])", "forms => forms.filter(f => f.querySelector('[required]'))"
        ".map(f => f.getAttribute('action') || location.pathname)")
    assert not bubbles, f"forms the browser would check, on {page.url}: {bubbles}"


HEADINGS_SMALLER = """() => {
  const found = [];
  const size = el => parseFloat(getComputedStyle(el).fontSize);
  for (const cls of ['text-normal', 'text-large', 'text-larger']) {
    document.documentElement.classList.remove('text-normal', 'text-large', 'text-larger');
    document.documentElement.classList.add(cls);
    for (const h of document.querySelectorAll('h1, h2, h3, h4, h5, h6, legend')) {
      if (!h.offsetParent) continue;
      const text = [...h.parentElement.querySelectorAll(':scope > p, :scope > ul > li')]
        .filter(p => p.offsetParent);
      const biggest = Math.max(size(document.body), ...text.map(size));
      if (size(h) < biggest) found.push(`${cls}: <${h.tagName.toLowerCase()}> ` +
        `"${h.textContent.trim().slice(0, 40)}" ${size(h)}px under text of ${biggest}px`);
    }
  }
  return found;
}"""


def _headings_not_smaller(page) -> None:
    """At each text size, no heading is smaller than the text it heads."""
    smaller = page.evaluate(HEADINGS_SMALLER)
    assert not smaller, f"headings smaller than their text on {page.url}: {smaller}"


def _sweep(page, base: str, starts: list[str]) -> list[str]:
    """Visit ``starts`` and the links within the three areas from them; axe on each page.
    Returns the pages checked."""
    queue, seen, shapes, checked = deque(starts), set(starts), Counter(), []
    while queue:
        path = queue.popleft()
        if DOWNLOAD.search(urlsplit(path).path):
            continue
        try:
            response = page.goto(path)
        except PlaywrightError as error:
            if "Download is starting" in str(error):
                continue  # a file to save (a CSV, a picture), not a page
            raise
        if response is None or "html" not in response.headers.get("content-type", ""):
            continue
        assert response.status < 400, f"{response.status} at {path}"
        assert_accessible(page)
        _server_checks_forms(page)
        _headings_not_smaller(page)
        checked.append(path)
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
            target = normalise(href[len(base):] if href.startswith(base) else href)
            if target is None or target in seen or not AREAS.match(target):
                continue
            seen.add(target)
            if shapes[shape(target)] < SAME_SHAPE:
                shapes[shape(target)] += 1
                queue.append(target)
    return checked


@pytest.mark.parametrize("who", ["manager@brookfield.example", "board@brookfield.example",
                                 "family@brookfield.example", "ada"])
def test_every_kind_of_page_passes_axe(live_server, page, who):
    from involve.people.demo import DEMO_PASSWORD

    live_server.seed(lambda: _load_demo(live_server.app))
    sign_in(page, who, DEMO_PASSWORD)
    checked = _sweep(page, live_server.url, ["/meetings/", "/newsletters/", "/feedback/"])
    assert len(checked) > 10, checked


def _states() -> dict:
    """The states the demo does not hold, in one organisation, as plain ids."""
    from datetime import date

    from involve.meetings import services as meetings
    from involve.newsletters import services as newsletters
    from involve.newsletters.models import Delivery, DeliveryStatus, IssueStatus
    from involve.people.models import Role
    from tests.factories import make_person, make_world
    from tests.meetings.helpers import held_meeting, make_meeting, published_meeting
    from tests.newsletters.helpers import make_issue

    world = make_world()
    manager = world.people["manager"]
    for n in range(3):
        make_person(world.org, f"Relative {n}", email=f"rel{n}@test.example",
                    roles=[(Role.family, world.home)])
    cancelled = make_meeting(world)
    meetings.cancel_meeting(cancelled, reason="The lounge is being painted.", by=manager)
    drafted = held_meeting(world)
    item = drafted.items[0]
    meetings.save_minutes(drafted, summary="We talked about the garden.",
                          notes={item.id: ("More benches\n\n- by the pond\n- by the gate", "")},
                          by=manager)
    approved = held_meeting(world)
    meetings.save_minutes(approved, summary="Food.", notes={}, by=manager)
    meetings.approve_minutes(approved, approved_on=date.today(), how="By the chair",
                             by=manager)
    published = published_meeting(world)

    sending = make_issue(world, title="Winter news", status=IssueStatus.published)
    newsletters.start_sending(sending, by=manager)
    held_up = make_issue(world, title="Spring news", status=IssueStatus.published)
    newsletters.start_sending(held_up, by=manager)
    paused = make_issue(world, title="Summer news", status=IssueStatus.published)
    newsletters.start_sending(paused, by=manager)
    retrying = make_issue(world, title="Autumn news", status=IssueStatus.published)
    newsletters.start_sending(retrying, by=manager)
    from sqlalchemy import select

    from involve.extensions import db

    rows = db.session.scalars(select(Delivery).where(Delivery.issue_id == retrying.id)).all()
    rows[0].status, rows[0].attempts = DeliveryStatus.queued, 2
    rows[0].error = "451 4.7.1 Greylisted, please try again later"
    rows[1].status, rows[1].attempts = DeliveryStatus.failed, 1
    rows[1].error = "550 5.1.1 mailbox unknown"
    rows[2].status = DeliveryStatus.sent
    return {"manager": manager.user.email, "family": world.people["family"].user.email,
            "cancelled": cancelled.id, "drafted": drafted.id, "approved": approved.id,
            "published": published.id, "item": item.id, "home": world.home.id,
            "slug": world.home.slug, "issues": [sending.id, held_up.id, paused.id, retrying.id]}


def _hold_up(held_up_id: int, paused_id: int) -> None:
    """A send held up by a mail server that is away, and one paused."""
    from datetime import timedelta

    from involve.extensions import db, utcnow
    from involve.newsletters.models import Issue, IssueStatus

    held_up, paused = db.session.get(Issue, held_up_id), db.session.get(Issue, paused_id)
    held_up.held_up_since, held_up.held_up_tries = utcnow() - timedelta(minutes=20), 4
    held_up.held_up_reason = "Connection refused by mail.example.org"
    paused.status, paused.paused_reason = IssueStatus.paused, "The mail settings are wrong."


def test_states_the_demo_does_not_hold_pass_axe(live_server, page, tablet_page):
    seeded = live_server.seed(_states)
    sign_in(page, seeded["manager"])
    live_server.seed(lambda: _hold_up(*seeded["issues"][1:3]))
    paths = [f"/meetings/{seeded['cancelled']}", f"/meetings/{seeded['drafted']}",
             f"/meetings/{seeded['drafted']}/minutes/edit",
             f"/meetings/{seeded['drafted']}/minutes", f"/meetings/{seeded['approved']}",
             f"/meetings/{seeded['published']}/minutes",
             f"/meetings/{seeded['published']}/minutes/easy-read",
             f"/meetings/items/{seeded['item']}/actions/new"]
    paths += [f"/newsletters/issues/{n}/progress" for n in seeded["issues"]]
    for path in paths:
        response = page.goto(path)
        assert response.status == 200, path
        assert_accessible(page)
        _server_checks_forms(page)
        _headings_not_smaller(page)

    # Forms sent back with their errors.
    page.goto(f"/meetings/items/{seeded['item']}/actions/new")
    page.get_by_role("button", name="Record the action").click()
    page.locator(".error-summary, .error-message").first.wait_for()
    assert_accessible(page)
    page.goto("/newsletters/new")
    page.get_by_role("button", name="Save the draft").click()
    page.locator(".error-summary, .error-message").first.wait_for()
    assert_accessible(page)

    # Someone giving feedback on the lounge tablet, who sends it empty.
    tablet_page.goto(f"/feedback/give/{seeded['slug']}")
    assert_accessible(tablet_page)
    tablet_page.locator("form button[type=submit]").last.click()
    tablet_page.locator(".error-summary, .error-message").first.wait_for()
    assert_accessible(tablet_page)
