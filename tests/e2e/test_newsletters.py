"""Browser journey: a manager writes, previews, publishes and sends an issue; a relative reads
it from the email and unsubscribes."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import assert_accessible, sign_in

pytestmark = pytest.mark.e2e


def _rose_court_with_an_action_done() -> dict:
    from datetime import date, timedelta

    from involve.extensions import utcnow
    from involve.meetings.models import ActionStatus
    from involve.meetings.services import create_action
    from tests.factories import make_world

    world = make_world()
    manager = world.people["manager"]
    action = create_action(service_id=world.home.id, you_said="The garden gate is stiff",
                           we_will="Fix the gate", owner=manager, due_on=date.today(),
                           by=manager)
    action.status, action.we_did = ActionStatus.done, "We oiled and rehung the gate"
    action.done_at = utcnow() - timedelta(days=1)
    return {"manager": manager.user.email, "family": world.people["family"].user.email}


def test_manager_publishes_and_sends_a_relative_reads_and_unsubscribes(live_server, page,
                                                                        tablet_page):
    seeded = live_server.seed(_rose_court_with_an_action_done)

    # The manager writes a draft for the families of Rose Court.
    sign_in(page, seeded["manager"])
    page.goto("/newsletters/")
    assert_accessible(page)
    page.get_by_role("link", name="Write a new issue").click()
    page.get_by_label("Newsletter of").select_option(label="Rose Court")
    page.get_by_label("Title").fill("Rose Court news: spring")
    page.get_by_label("Families and carers").check()
    page.get_by_label("The issue").fill("## Welcome\n\nThe tulips are out in the garden.")
    assert_accessible(page)
    page.get_by_role("button", name="Save the draft").click()
    page.get_by_text("The draft is saved.").wait_for()
    assert_accessible(page)

    # ... adds "you said, we did" from the platform ...
    page.get_by_role("button", name=re.compile(r"^Add: You said, we did")).click()
    page.get_by_text("The block is added at the end of the issue.").wait_for()
    body = page.get_by_label("The issue").input_value()
    assert "The garden gate is stiff" in body and "We oiled and rehung the gate" in body

    # ... previews it as an email, sends herself a test, and looks at the printed page ...
    page.get_by_role("link", name="See it as an email").click()
    page.get_by_role("heading", name="Email preview").wait_for()
    assert "We oiled and rehung the gate" in page.locator(".mail-text").inner_text()
    assert_accessible(page)
    assert page.get_by_label("Send a test email to").input_value() == seeded["manager"]
    page.get_by_role("button", name="Send the test email").click()
    page.get_by_text(f"A test email is on its way to {seeded['manager']}.").wait_for()
    page.get_by_role("link", name="Printed page").click()
    page.locator("article.large-print").wait_for()
    assert_accessible(page)

    # ... publishes it and sends it.
    page.go_back()
    page.get_by_role("link", name="Back to editing").click()
    page.get_by_role("button", name="Publish", exact=True).click()
    page.get_by_text("The issue is published.").wait_for()
    assert_accessible(page)
    page.get_by_role("link", name="Email sending").click()
    page.get_by_role("button", name="Email it to the readers now").click()
    page.get_by_text("Sending to 1 person.").wait_for()
    assert page.locator(".badge", has_text="Sent").count() == 1
    assert_accessible(page)

    # The relative gets the email, opens its link and reads the issue.
    message = next(m for m in live_server.outbox if m["To"] and seeded["family"] in m["To"])
    text = message.get_body(preferencelist=("plain",)).get_content()
    web_link = re.search(r"Read it on the web: (\S+)", text).group(1)
    unsubscribe_link = re.search(r"Stop these emails: (\S+)", text).group(1)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    sign_in(tablet_page, seeded["family"])
    tablet_page.goto(web_link)
    tablet_page.get_by_role("heading", name="Rose Court news: spring").wait_for()
    assert tablet_page.get_by_text("We oiled and rehung the gate").is_visible()
    assert_accessible(tablet_page)

    # ... and stops this home's newsletter only: the organisation's keeps coming.
    assert seeded["family"] not in unsubscribe_link
    tablet_page.goto(unsubscribe_link)
    assert_accessible(tablet_page)
    tablet_page.get_by_role("button", name=re.compile(r"^Stop the Rose Court")).click()
    tablet_page.get_by_role("heading", name="You are unsubscribed").wait_for()
    assert tablet_page.get_by_text(re.compile("Other newsletters from .* still come")) \
        .is_visible()
    assert_accessible(tablet_page)
    assert live_server.seed(lambda: _stopped(seeded["family"])) == (True, False)

    # Her choices page shows the organisation's newsletter still ticked, the home's not.
    tablet_page.get_by_role("link", name="Choose what you receive").click()
    tablet_page.get_by_role("heading", name="Your newsletter choices").wait_for()
    assert not tablet_page.get_by_role("checkbox", name=re.compile("Rose Court")).is_checked()
    assert tablet_page.get_by_role("checkbox",
                                   name=re.compile(r"\(the whole organisation\)")) \
        .is_checked()
    assert_accessible(tablet_page)


def _stopped(address: str) -> tuple[bool, bool]:
    """Is the home's newsletter stopped for the address, and is every newsletter?"""
    from involve.newsletters.models import Issue
    from involve.newsletters.queries import (
        is_suppressed,
        organisations_knowing,
        stopped_addresses,
    )

    (organisation_id,) = organisations_knowing(address)
    from sqlalchemy import select

    from involve.extensions import db

    issue = db.session.scalar(select(Issue).where(Issue.title == "Rose Court news: spring"))
    return (address in stopped_addresses(organisation_id, issue.list_key, [address]),
            is_suppressed(organisation_id, address))


def _rose_court_with_a_published_issue() -> dict:
    from involve.newsletters.models import IssueStatus
    from involve.people.models import Role
    from tests.factories import make_person, make_world
    from tests.newsletters.helpers import make_issue

    world = make_world()
    make_person(world.org, "Gail Gone", email="gone@test.example",
                roles=[(Role.family, world.home)])
    issue = make_issue(world, title="Rose Court news: winter", status=IssueStatus.published)
    return {"manager": world.people["manager"].user.email, "issue_id": issue.id,
            "family": world.people["family"].user.email}


def test_a_bounce_suppresses_the_address_and_the_manager_sees_it(live_server, live_smtp, page,
                                                                  monkeypatch):
    import threading

    from tests.newsletters.imap_server import IMAPServer, postfix_report
    from tests.newsletters.pop3_server import Mailbox

    mailbox = Mailbox()
    imap = IMAPServer(mailbox)
    threading.Thread(target=imap.serve_forever, daemon=True).start()
    monkeypatch.setitem(live_server.app.config, "NEWSLETTER_BOUNCE_DOMAIN", "bounce.test.example")
    monkeypatch.setitem(live_server.app.config, "NEWSLETTER_BOUNCE_MAILBOX", imap.url)
    try:
        seeded = live_server.seed(_rose_court_with_a_published_issue)
        progress = f"/newsletters/issues/{seeded['issue_id']}/progress"

        # The manager sends the issue; it goes out through the mail server.
        sign_in(page, seeded["manager"])
        page.goto(progress)
        page.get_by_role("button", name="Email it to the readers now").click()
        page.get_by_text("Sending to 2 people.").wait_for()
        messages = live_smtp.wait_for(2)
        (copy,) = [m for m in messages if m["To"] and "gone@test.example" in m["To"]]
        return_path = live_smtp.senders[messages.index(copy)]
        assert return_path.startswith("bounces+") and \
            return_path.endswith("@bounce.test.example")

        # Her mail server turns it away; the report lands in the bounce mailbox, which the
        # worker reads every five minutes (here, now).
        mailbox.messages.append(postfix_report(return_path, "gone@test.example",
                                               copy.as_bytes()))
        from involve.newsletters.bounces import read_mailbox

        assert live_server.seed(read_mailbox) == (1, 1)
        assert mailbox.messages == []

        # The manager sees it came back, and that Gail now needs a printed copy.
        page.reload()
        page.get_by_role("heading", name="Could not be sent").wait_for()
        row = page.get_by_role("row", name=re.compile("gone@test.example"))
        assert "came back" in row.inner_text()
        assert page.get_by_role("row", name=re.compile(re.escape(seeded["family"]))).count() == 0
        assert_accessible(page)
        page.get_by_role("link", name="Who needs a printed copy").click()
        page.get_by_role("row", name=re.compile("Gail Gone")).get_by_text(
            "Email could not be delivered").wait_for()
        assert_accessible(page)
    finally:
        imap.shutdown()
        imap.server_close()
