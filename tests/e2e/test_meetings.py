"""Browser journey of meetings: from a family member's suggestion to "You said, we did"."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import assert_accessible, sign_in

pytestmark = pytest.mark.e2e

SUGGESTION = "Earlier visiting on Sundays"
REWORDED = "Visiting from ten on Sundays"


def _rose_court_meeting() -> dict:
    """Rose Court with a manager, staff, a resident and her daughter, and a meeting today."""
    from datetime import timedelta

    from involve.extensions import utcnow
    from involve.meetings import services
    from involve.people.models import Role
    from tests import factories

    org = factories.make_org("Brookfield Care")
    home = factories.make_service(org, "Rose Court")
    manager = factories.make_person(org, "Mary Manning", email="manager@test.example",
                                    roles=[(Role.manager, home), (Role.staff, home)])
    staff = factories.make_person(org, "Sam Carter", email="staff@test.example",
                                  roles=[(Role.staff, home)])
    ada = factories.make_person(org, "Ada Lovelace", username="ada",
                                roles=[(Role.service_user, home)], needs=["large_print"])
    family = factories.make_person(org, "Fiona Lovelace", email="family@test.example",
                                   roles=[(Role.family, home)])
    factories.link_family(family, ada)
    series = services.create_series(
        organisation_id=org.id, service_id=home.id, name="Residents' meeting",
        kind="residents", invited_roles=[Role.service_user, Role.family, Role.staff,
                                         Role.manager],
        share_with_families=True, by=manager)
    # It began half an hour ago, so that the chair can mark it as held during the journey.
    starts = utcnow() - timedelta(minutes=30)
    meeting = services.schedule_meeting(
        series, starts_at=starts, ends_at=starts + timedelta(hours=1), room="Garden Lounge",
        chair=manager, minute_taker=staff, hearing_loop=True, by=manager)
    return {"meeting_id": meeting.id, "service_id": home.id}


def _named(visible: str, hidden: str) -> re.Pattern[str]:
    """A button's name: its visible words, then (for screen readers) what it is about."""
    return re.compile(rf"^{re.escape(visible)}\W*{re.escape(hidden)}$")


def _sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/sign-in$"))


def test_from_a_suggestion_to_you_said_we_did(live_server, page, tablet_page):
    seeded = live_server.seed(_rose_court_meeting)
    meeting_path = f"/meetings/{seeded['meeting_id']}"

    # A family member suggests an item.
    sign_in(page, "family@test.example")
    page.get_by_role("link", name="Meetings").first.click()
    page.get_by_role("link", name="Residents' meeting").first.click()
    page.get_by_role("link", name="Suggest an item").click()
    assert_accessible(page)
    page.get_by_label("What would you like to talk about?").fill(SUGGESTION)
    page.get_by_label("Tell us more").fill("Could visiting start at ten on Sundays?")
    page.get_by_role("button", name="Send my suggestion").click()
    page.get_by_text("Your suggestion has been sent to the chair").wait_for()
    page.get_by_text("waiting for the chair to decide").wait_for()
    assert_accessible(page)
    _sign_out(page)

    # The manager accepts it and publishes the agenda.
    sign_in(page, "manager@test.example")
    page.goto(meeting_path)
    page.get_by_role("heading", name=re.compile("Suggestions waiting for you")).wait_for()
    assert_accessible(page)
    page.get_by_role("link", name=_named("Put on the agenda", SUGGESTION)).click()
    # The chair rewords it for the agenda; Fiona's own words are kept.
    page.get_by_label("Title on the agenda").fill(REWORDED)
    page.get_by_label("Who will present it").select_option(label="Fiona Lovelace")
    page.get_by_label("Minutes allowed").fill("10")
    assert_accessible(page)
    page.get_by_role("button", name="Put it on the agenda").click()
    page.get_by_text(f"\"{REWORDED}\" is on the agenda.").wait_for()
    page.get_by_text(re.compile("own words")).wait_for()
    told = [m for m in live_server.outbox if m["To"] == "family@test.example"]
    assert told and told[-1]["Subject"] == f"On the agenda: {SUGGESTION}"

    # The chair adds an item of their own, then rewords it.
    page.get_by_role("link", name="Add an item to the agenda").click()
    page.get_by_label("Title on the agenda").fill("Minibus")
    page.get_by_label("What it is about").fill("Trips from May")
    assert_accessible(page)
    page.get_by_role("button", name="Add the item").click()
    page.get_by_text("\"Minibus\" is on the agenda.").wait_for()
    page.get_by_role("link", name=_named("Change the wording or picture", "Minibus")).click()
    page.get_by_label("Title on the agenda").fill("Trips in the new minibus")
    assert_accessible(page)
    page.get_by_role("button", name="Save the wording").click()
    page.get_by_text("The agenda now shows your wording.").wait_for()
    page.get_by_role("heading", name="Trips in the new minibus").wait_for()

    page.get_by_role("button", name="Publish the agenda").click()
    page.get_by_text("The agenda is published").wait_for()
    assert any(m["To"] == "family@test.example" and m["Subject"].startswith("Agenda:")
               for m in live_server.outbox)

    # Once the agenda is out, the chair adds any other business.
    page.get_by_role("link", name="Add any other business").click()
    page.get_by_label("Title on the agenda").fill("Fire drill on Friday")
    assert_accessible(page)
    page.get_by_role("button", name="Add the item").click()
    page.get_by_text("is on the agenda under any other business.").wait_for()
    page.get_by_role("heading", name="Any other business: Fire drill on Friday").wait_for()
    page.get_by_role("link", name=re.compile("^All meetings of")).click()
    page.get_by_role("link", name="Change the series").click()
    page.get_by_label("Share the minutes with families").wait_for()
    assert_accessible(page)
    page.goto(meeting_path)
    page.get_by_role("link", name="Large-print agenda").click()
    page.get_by_role("heading", name="Who needs a printed copy (1)").wait_for()
    assert "Ada Lovelace" in page.content()
    assert_accessible(page)

    # Attendance on the shared tablet.
    sign_in(tablet_page, "manager@test.example")
    tablet_page.goto(f"{meeting_path}/attendance")
    tablet_page.get_by_role("group", name=re.compile("Fiona Lovelace")).get_by_label(
        "Present").check()
    tablet_page.get_by_role("group", name=re.compile("Ada Lovelace")).get_by_label(
        "Sent apologies").check()
    tablet_page.get_by_text("Needs: Large print").wait_for()
    assert_accessible(tablet_page)
    tablet_page.get_by_role("button", name="Save attendance").click()
    tablet_page.get_by_text("Attendance is saved.").wait_for()
    tablet_page.get_by_text(re.compile("1 present, 1 sent apologies")).wait_for()

    # The meeting is held; minutes with an action.
    page.goto(meeting_path)
    page.get_by_role("button", name="Mark as held").first.click()
    page.get_by_text("The meeting is marked as held").wait_for()
    page.get_by_role("link", name="Write the minutes").click()
    page.get_by_label(f"Notes on \"{REWORDED}\"").fill(
        "Families would like earlier visits.\n\n- From ten on Sundays\n- Ring the bell")
    page.get_by_label(f"Decisions on \"{REWORDED}\"").fill("Try it for a month.")
    page.get_by_label("Easy-read summary of the whole meeting").fill(
        "Visits on Sundays can start at ten.")
    assert_accessible(page)
    page.get_by_role("button", name="Save the minutes").click()
    page.get_by_text("The minutes are saved (revision 1).").wait_for()
    page.get_by_role("link", name=_named("Raise an action from this item", REWORDED)).click()
    page.get_by_label("We will (what will be done)").fill("Open the door at ten on Sundays")
    page.get_by_label("Who will do it").select_option(label="Mary Manning")
    assert_accessible(page)
    page.get_by_role("button", name="Record the action").click()
    page.get_by_text("The action is recorded.").wait_for()

    # Approve and publish the minutes.
    page.get_by_role("button", name="Approve the minutes").click()
    page.get_by_text("The minutes are approved. You can now publish them.").wait_for()
    page.get_by_role("button", name="Publish the minutes").click()
    page.get_by_text(re.compile("^The minutes are published and emailed")).wait_for()
    page.get_by_role("link", name="Read the minutes").first.click()
    page.get_by_role("heading", name=re.compile("Minutes: Residents' meeting")).wait_for()
    assert "<li>From ten on Sundays</li>" in page.content()
    assert_accessible(page)

    # The action is done, and appears on "You said, we did".
    page.get_by_role("link", name=_named("Update this action",
                                            "Open the door at ten on Sundays")).click()
    page.get_by_role("radio", name="Done", exact=True).check()
    page.get_by_role("textbox", name=re.compile("^What was done")).fill(
        "The door now opens at ten on Sundays.")
    assert_accessible(page)
    page.get_by_role("button", name="Save").click()
    page.get_by_text("The action is updated.").wait_for()
    _sign_out(page)

    sign_in(page, "family@test.example")
    page.get_by_role("link", name="Meetings").first.click()
    assert_accessible(page)
    page.get_by_role("link", name="You said, we did at Rose Court").click()
    page.get_by_text("The door now opens at ten on Sundays.").wait_for()
    assert_accessible(page)
    page.goto(f"{meeting_path}/minutes")
    page.get_by_text("Visits on Sundays can start at ten.").wait_for()


def test_a_family_member_is_told_what_the_chair_decided(live_server, live_smtp, page,
                                                         tablet_page):
    seeded = live_server.seed(_rose_court_meeting)
    meeting_path = f"/meetings/{seeded['meeting_id']}"
    reason = "The lounge is booked for the flu clinic that afternoon."

    # Fiona suggests two items on the lounge tablet.
    sign_in(tablet_page, "family@test.example")
    for title in ("Fish on Fridays", "A cinema afternoon"):
        tablet_page.goto(f"{meeting_path}/suggest")
        tablet_page.get_by_label("What would you like to talk about?").fill(title)
        tablet_page.get_by_role("button", name="Send my suggestion").click()
        tablet_page.get_by_text("Your suggestion has been sent to the chair").wait_for()

    # The chair puts one on the agenda and declines the other, saying why.
    sign_in(page, "manager@test.example")
    page.goto(meeting_path)
    page.get_by_role("link", name=_named("Put on the agenda", "Fish on Fridays")).click()
    page.get_by_role("button", name="Put it on the agenda").click()
    page.get_by_text("\"Fish on Fridays\" is on the agenda.").wait_for()
    page.get_by_label("Reason for declining \"A cinema afternoon\"").fill(reason)
    assert_accessible(page)
    page.get_by_role("button", name=re.compile(r'^Decline\W*A cinema afternoon"$')).click()
    page.get_by_text(re.compile("declined")).first.wait_for()
    page.get_by_role("button", name="Publish the agenda").click()
    page.get_by_text("The agenda is published").wait_for()

    # Both decisions reach her through the mail server, the reason in her own email, and
    # then the agenda.
    told = {m["Subject"]: m for m in live_smtp.wait_for(3) if m["To"] == "family@test.example"}
    assert {"On the agenda: Fish on Fridays",
            "Not on the agenda this time: A cinema afternoon"} <= set(told)
    assert any(subject.startswith("Agenda:") for subject in told)
    declined = told["Not on the agenda this time: A cinema afternoon"]
    text = next(p for p in declined.walk() if p.get_content_type() == "text/plain") \
        .get_payload(decode=True).decode()
    assert f"The chair said why: {reason}" in text
    link = re.search(r"(http://\S+/meetings/\d+)\s*$", text).group(1)

    # She follows the link and sees both answers on the meeting page.
    tablet_page.goto(link)
    tablet_page.get_by_role("heading", name="Your suggestions").wait_for()
    tablet_page.get_by_text(f'not on the agenda. The chair said: "{reason}"').wait_for()
    tablet_page.get_by_role("heading", name="Fish on Fridays").wait_for()
    assert_accessible(tablet_page)
