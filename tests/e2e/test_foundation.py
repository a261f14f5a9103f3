"""Browser journeys of the platform foundation: invitations, sign-in, home pages, shared pages."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import SERVER_ERROR_PATH, assert_accessible, sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e

NEW_PASSWORD = "a walk by the river"


def _invited_person(*, email: str | None, username: str | None = None) -> dict:
    """An organisation with an admin and one invited person; returns what the journey needs."""
    from involve.auth import services
    from involve.people.models import Role
    from tests import factories

    org = factories.make_org("Brookfield Care")
    home = factories.make_service(org, "Rose Court")
    admin = factories.make_person(org, "Alex Admin", roles=[(Role.admin, None)],
                                  email="admin@test.example")
    person = factories.make_person(org, "Nora Newcomer", roles=[(Role.family, home)],
                                   account=False)
    invitation, code = services.invite(person, email=email, username=username, by=admin)
    return {"token": services.invitation_token(invitation, code), "code": code,
            "person_id": person.id}


def _sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/sign-in$"))


def test_invited_person_accepts_the_link_and_signs_in(live_server, page):
    seeded = live_server.seed(lambda: _invited_person(email="nora@test.example"))

    page.goto(f"/invitation/{seeded['token']}")
    page.get_by_role("heading", name="Welcome, Nora").wait_for()
    assert "nora@test.example" in page.content()
    assert_accessible(page)

    # A mistake first: the passwords differ, the page says so and nothing is set up.
    page.get_by_label("Choose a password").fill(NEW_PASSWORD)
    page.get_by_label("Type it again").fill("something else")
    page.get_by_role("button", name="Set up my account").click()
    page.get_by_text("The two passwords are not the same.").first.wait_for()
    assert_accessible(page)

    page.get_by_label("Choose a password").fill(NEW_PASSWORD)
    page.get_by_label("Type it again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set up my account").click()
    page.get_by_text("Your account is ready. Welcome to Involve.").wait_for()
    assert page.url == f"{live_server.url}/"
    assert_accessible(page)

    # The link is spent; the new password works.
    _sign_out(page)
    page.goto(f"/invitation/{seeded['token']}")
    assert "already been used" in page.locator("main").inner_text()
    sign_in(page, "nora@test.example", NEW_PASSWORD)
    page.get_by_text("Welcome, Nora").wait_for()


def _admin_and_newcomer() -> dict:
    from involve.people.models import Role
    from tests import factories

    org = factories.make_org("Brookfield Care")
    home = factories.make_service(org, "Rose Court")
    factories.make_person(org, "Alex Admin", roles=[(Role.admin, None)],
                          email="admin@test.example")
    person = factories.make_person(org, "Nora Newcomer", roles=[(Role.service_user, home)],
                                   account=False)
    return {"person_id": person.id}


def test_admin_invites_by_email_and_the_person_accepts(live_server, page):
    seeded = live_server.seed(_admin_and_newcomer)
    sign_in(page, "admin@test.example")
    page.goto(f"/people/{seeded['person_id']}")
    assert_accessible(page)
    page.get_by_label("Email address").fill("nora@test.example")
    page.get_by_role("button", name="Send the invitation").click()
    page.get_by_text("We have emailed an invitation to nora@test.example.").wait_for()
    assert_accessible(page)

    message = live_server.outbox[-1]
    assert message["To"] == "nora@test.example"
    link = re.search(r"https?://\S+/invitation/\S+",
                     message.get_body(("plain",)).get_content()).group(0)
    _sign_out(page)
    page.goto(link)
    page.get_by_label("Choose a password").fill(NEW_PASSWORD)
    page.get_by_label("Type it again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set up my account").click()
    page.get_by_text("Your account is ready.").wait_for()
    _sign_out(page)
    sign_in(page, "nora@test.example", NEW_PASSWORD)


def test_admin_prints_a_card_and_the_resident_uses_it_on_a_tablet(live_server, page,
                                                                  tablet_page):
    seeded = live_server.seed(_admin_and_newcomer)
    sign_in(page, "admin@test.example")
    page.goto(f"/people/{seeded['person_id']}")
    page.get_by_label("Username they will sign in with").fill("nora")
    page.get_by_role("button", name="Make the card").click()
    code = page.locator(".invitation-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", code)
    assert page.locator(".qr svg title").count() == 1
    assert_accessible(page)

    tablet = tablet_page
    tablet.goto("/sign-in")
    tablet.get_by_role("link", name="I have an invitation card with a code").tap()
    tablet.wait_for_url(re.compile(r"/invitation$"))
    assert_accessible(tablet)
    tablet.get_by_label("The code on your card").fill("WRNG-CODE")
    tablet.get_by_role("button", name="Next").tap()
    tablet.get_by_text("We do not recognise that code").wait_for()
    assert_accessible(tablet)

    # People type codes in lower case and without the dash.
    tablet.get_by_label("The code on your card").fill(code.replace("-", "").lower())
    tablet.get_by_role("button", name="Next").tap()
    tablet.get_by_label("Choose a password").fill(NEW_PASSWORD)
    tablet.get_by_label("Type it again").fill(NEW_PASSWORD)
    tablet.get_by_role("button", name="Set up my account").tap()
    tablet.get_by_text("Your account is ready.").wait_for()
    assert_accessible(tablet)
    _sign_out(tablet)
    sign_in(tablet, "nora", NEW_PASSWORD)


def test_every_demo_role_signs_in_to_an_accessible_home_page(live_server, page):
    from involve.people import demo

    result = live_server.app.test_cli_runner().invoke(args=["demo"])  # all domains' demo data
    assert result.exit_code == 0, result.output
    visited: set[str] = set()
    for sign_in_name, who in demo.SIGN_INS:
        sign_in(page, sign_in_name, demo.DEMO_PASSWORD)
        assert page.url == f"{live_server.url}/", who
        page.locator("h1").first.wait_for()
        assert_accessible(page)
        # Every page in the navigation opens; each is checked once, as the first (and most
        # powerful) role that has it: the admin and the manager come first.
        hrefs = page.locator("nav[aria-label='Main'] a").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))")
        for href in hrefs:
            response = page.goto(href)
            assert response.status == 200, f"{who}: {href} answered {response.status}"
            if href.split("?")[0] not in visited:
                visited.add(href.split("?")[0])
                assert_accessible(page)
        page.goto("/")
        _sign_out(page)


def test_sign_in_page_says_the_same_for_unknown_and_wrong(live_server, page):
    live_server.seed(lambda: _invited_person(email="nora@test.example") and None)
    page.goto("/sign-in")
    assert_accessible(page)

    # Submitting empty shows the errors, linked from a summary.
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.locator(".error-summary").wait_for()
    assert_accessible(page)

    messages = []
    for name in ("nobody@test.example", "nora@test.example"):
        page.get_by_label("Email or username").fill(name)
        page.get_by_label("Password", exact=True).fill("not the password")
        page.get_by_role("button", name="Sign in", exact=True).click()
        messages.append(page.locator(".flash-error").inner_text())
    assert messages[0] == messages[1]
    assert_accessible(page)


def _family_and_resident() -> None:
    from involve.people.models import Role
    from tests import factories

    org = factories.make_org("Brookfield Care")
    home = factories.make_service(org, "Rose Court")
    factories.make_person(org, "Ada Lovelace", roles=[(Role.service_user, home)], username="ada")
    factories.make_person(org, "Fiona Lovelace", roles=[(Role.family, home)],
                          email="family@test.example")


def test_error_pages_are_friendly_and_accessible(live_server, page):
    live_server.seed(_family_and_resident)

    response = page.goto("/no-such-page")
    assert response.status == 404
    page.get_by_role("heading", name="We cannot find that page").wait_for()
    assert_accessible(page)

    response = page.goto(SERVER_ERROR_PATH)
    assert response.status == 500
    page.get_by_role("heading", name="Something went wrong on our side").wait_for()
    assert_accessible(page)

    # A form whose safety token has gone explains what to do.
    page.goto("/sign-in")
    page.locator("input[name=csrf_token]").evaluate("input => input.remove()")
    page.get_by_label("Email or username").fill("ada")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("heading", name="This form had expired").wait_for()
    assert_accessible(page)

    sign_in(page, "family@test.example")
    response = page.goto("/audit")
    assert response.status == 403
    page.get_by_role("heading", name="You cannot see this page").wait_for()
    assert_accessible(page)


def test_display_settings_are_remembered_for_the_person(live_server, page, browser):
    live_server.seed(_family_and_resident)
    sign_in(page, "ada")
    page.get_by_role("link", name="Text size and colours").click()
    assert_accessible(page)
    page.get_by_label("Largest").check()
    page.get_by_label("High contrast (yellow on black)").check()
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Your display settings are saved.").wait_for()
    assert page.url == f"{live_server.url}/"
    assert page.locator("html").get_attribute("class") == "text-larger contrast"
    assert_accessible(page)

    # Another browser (a shared tablet, say): the choice follows Ada when she signs in.
    other = browser.new_context(base_url=live_server.url)
    try:
        tablet = other.new_page()
        tablet.goto("/sign-in")
        assert tablet.locator("html").get_attribute("class") == "text-normal"
        sign_in(tablet, "ada")
        assert tablet.locator("html").get_attribute("class") == "text-larger contrast"
        tablet.goto("/display")
        assert tablet.get_by_label("Largest").is_checked()
    finally:
        other.close()
