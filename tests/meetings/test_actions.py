"""Actions: "you said, we did", overdue flags and reminders, and the seams others use."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from involve.extensions import db, utcnow
from involve.meetings import queries, services
from involve.meetings.models import Action, ActionStatus, SeriesKind
from involve.meetings.services import DueInThePast, MissingOwner
from tests.conftest import login
from tests.meetings.helpers import (
    held_meeting,
    make_action,
    make_meeting,
    make_series,
    plain_text,
    published_meeting,
)


def _count():
    return db.session.scalar(select(func.count()).select_from(Action))


def test_an_action_is_raised_from_an_item_at_a_held_meeting(app, world, client):
    meeting = held_meeting(world)
    item = meeting.items[2]
    db.session.commit()
    login(client, world.people["manager"])
    response = client.post(f"/meetings/items/{item.id}/actions/new", data={
        "you_said": "The tea is cold", "we_will": "Buy a new urn",
        "owner_id": world.people["staff"].id, "due_on": (date.today() + timedelta(days=7))
        .isoformat(), "said_by_id": world.people["service_user"].id}, follow_redirects=True)
    assert "The action is recorded" in response.text
    action = db.session.scalar(select(Action))
    assert (action.meeting_id, action.agenda_item_id, action.service_id) == (
        meeting.id, item.id, world.home.id)
    assert not action.name_who_said


@pytest.mark.parametrize("owner, due, message", [
    (0, 7, "Choose who will do this action"),
    ("staff", -1, "The due date is in the past"),
])
def test_an_action_with_no_owner_or_a_past_due_date_is_refused(app, world, client, owner, due,
                                                               message):
    meeting = held_meeting(world)
    item = meeting.items[2]
    db.session.commit()
    login(client, world.people["manager"])
    response = client.post(f"/meetings/items/{item.id}/actions/new", data={
        "you_said": "Cold tea", "we_will": "New urn",
        "owner_id": world.people[owner].id if owner else 0,
        "due_on": (date.today() + timedelta(days=due)).isoformat()})
    assert message in response.text
    assert "Cold tea" in response.text  # kept for another try
    assert _count() == 0


def test_create_action_refuses_a_missing_owner_and_a_past_date(app, world):
    with pytest.raises(MissingOwner, match="Choose who will do this action"):
        services.create_action(service_id=world.home.id, you_said="a", we_will="b", owner=None,
                               due_on=date.today(), by=None)
    with pytest.raises(DueInThePast):
        services.create_action(service_id=world.home.id, you_said="a", we_will="b",
                               owner=world.people["staff"], due_on=date.today()
                               - timedelta(days=1), by=None)
    assert _count() == 0


def test_feedback_can_create_an_action_without_a_meeting(app, world):
    action = services.create_action(
        service_id=None, you_said="Board said yes", we_will="Tell everyone",
        owner=world.people["manager"], due_on=date.today(), by=world.people["board"],
        source="feedback", source_id=42)
    services.update_action(action, status="done", we_did="Told everyone", by=None)
    db.session.commit()
    assert queries.done_actions(None, None, organisation_id=world.org.id) == [action]
    assert queries.done_actions(world.home.id, None, organisation_id=world.org.id) == []


def test_done_actions_appear_on_you_said_we_did_newest_first(app, world, client):
    first = make_action(world, you_said="Bingo please", we_will="Start bingo")
    second = make_action(world, you_said="Warmer lounge", we_will="Fix heating")
    make_action(world, you_said="Still open", we_will="Later")
    services.update_action(first, status="done", we_did="Bingo every Tuesday", by=None)
    first.done_at = utcnow() - timedelta(days=3)
    db.session.commit()
    login(client, world.people["staff"])
    response = client.post(f"/meetings/actions/{second.id}", data={
        "status": "done", "we_did": "New radiators fitted"}, follow_redirects=True)
    assert "The action is updated" in response.text
    login(client, world.people["service_user"])
    page = client.get(f"/meetings/services/{world.home.id}/you-said-we-did").text
    assert page.index("New radiators fitted") < page.index("Bingo every Tuesday")
    assert "Still open" not in page
    poster = client.get(f"/meetings/services/{world.home.id}/you-said-we-did/poster").text
    assert "large-print" in poster and "New radiators fitted" in poster


def test_done_needs_what_was_done_and_will_not_do_needs_a_reason(app, world, client):
    action = make_action(world)
    db.session.commit()
    login(client, world.people["staff"])
    response = client.post(f"/meetings/actions/{action.id}", data={"status": "done"})
    assert "Say what was done" in response.text
    response = client.post(f"/meetings/actions/{action.id}", data={"status": "will_not_do"})
    assert "Say why this will not be done" in response.text
    db.session.expire_all()
    assert db.session.get(Action, action.id).status == ActionStatus.open
    client.post(f"/meetings/actions/{action.id}", data={"status": "will_not_do",
                                                        "reason": "Too costly this year"})
    db.session.expire_all()
    assert db.session.get(Action, action.id).will_not_do_reason == "Too costly this year"


def test_overdue_actions_are_flagged_for_owner_and_manager_and_owners_reminded(
        app, world, client, smtp_server):
    action = make_action(world, we_will="Mend the gate")
    action.due_on = date.today() - timedelta(days=2)
    db.session.commit()
    for role in ("staff", "manager"):
        login(client, world.people[role])
        assert "Mend the gate" in client.get("/").text, role
    login(client, world.outsiders["manager"])
    assert "Mend the gate" not in client.get("/").text
    result = app.test_cli_runner().invoke(args=["meetings", "remind"])
    assert "Reminded 0 chairs about minutes and 1 owner about overdue actions." in \
        result.output, result.output
    messages = smtp_server.wait_for(1)
    assert messages[0]["To"] == world.people["staff"].user.email
    assert "Mend the gate" in plain_text(messages[0])
    from involve.meetings import tasks

    assert tasks.remind_owners_about_overdue_actions.call_local() == 0  # not again this week


def test_the_seams_for_newsletters(app, world):
    residents = make_series(world, kind=SeriesKind.residents)
    published = published_meeting(world, residents)
    soon = make_meeting(world, residents, starts_at=utcnow() + timedelta(days=3))
    later = make_meeting(world, residents, starts_at=utcnow() + timedelta(days=40))
    board = make_series(world, service=None, kind=SeriesKind.board, roles=["board"],
                        name="Board meeting")
    board_meeting = make_meeting(world, board)
    db.session.commit()
    since = utcnow() - timedelta(days=1)
    org = world.org.id
    published_ = queries.recent_published_minutes(world.home.id, since, organisation_id=org)
    assert published_ == [published]
    assert queries.recent_published_minutes(world.away.id, since, organisation_id=org) == []
    assert queries.upcoming_meetings(world.home.id, utcnow() + timedelta(days=30),
                                     organisation_id=world.org.id) == [soon]
    assert queries.next_meeting_of_kind("residents", world.home.id, organisation_id=org) == soon
    assert queries.next_meeting_of_kind("board", None, organisation_id=org) == board_meeting
    assert queries.next_meeting_of_kind("relatives", world.home.id, organisation_id=org) is None
    item = services.add_agenda_item(board_meeting, title="Ambassadors' report",
                                    description="From Rose Court", by=world.people["manager"])
    assert item.position == 2 and later.id



def test_you_said_we_did_is_found_from_the_meetings_page(app, world, client):
    action = make_action(world, you_said="Bingo please", we_will="Start bingo")
    services.update_action(action, status="done", we_did="Bingo every Tuesday", by=None)
    db.session.commit()
    for person in (world.people["service_user"], world.people["family"], world.ambassador):
        login(client, person)
        page = client.get("/meetings/").text
        link = f'href="/meetings/services/{world.home.id}/you-said-we-did"'
        assert link in page, person.full_name
        assert f"/meetings/services/{world.away.id}/you-said-we-did" not in page
        assert "Bingo every Tuesday" in client.get(
            f"/meetings/services/{world.home.id}/you-said-we-did").text


def test_you_said_we_did_shows_what_will_not_be_done_and_why(app, world, client):
    done = make_action(world, you_said="Bingo please", we_will="Start bingo")
    services.update_action(done, status="done", we_did="Bingo every Tuesday", by=None)
    refused = make_action(world, you_said="A swimming pool", we_will="Look into a pool")
    services.update_action(refused, status="will_not_do",
                           reason="The building cannot take the weight.", by=None)
    make_action(world, you_said="Still open", we_will="Later")
    db.session.commit()
    login(client, world.people["family"])
    page = client.get(f"/meetings/services/{world.home.id}/you-said-we-did").text
    assert "Bingo every Tuesday" in page and "A swimming pool" in page
    assert "We will not do this, because:</strong> The building cannot take the weight." in page
    assert "Still open" not in page
    poster = client.get(f"/meetings/services/{world.home.id}/you-said-we-did/poster").text
    assert "We will not do this, because" in poster
    assert "The building cannot take the weight." in poster and "Bingo every Tuesday" in poster
    db.session.expire_all()
    assert db.session.get(Action, refused.id).closed_at is not None
