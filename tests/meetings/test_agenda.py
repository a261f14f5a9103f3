"""Agendas people shape: suggestions, decisions, standing items, ordering, publishing."""

from datetime import timedelta

from sqlalchemy import func, select

from involve.extensions import db, utcnow
from involve.meetings import services
from involve.meetings.models import AgendaItem, ItemKind, ItemStatus, MeetingStatus
from tests.conftest import login
from tests.factories import make_person
from tests.meetings.helpers import (
    add_item,
    held_meeting,
    make_action,
    make_meeting,
    plain_text,
    state,
)


def _titles(meeting_id):
    db.session.expire_all()
    return [i.title for i in db.session.scalars(
        select(AgendaItem).where(AgendaItem.meeting_id == meeting_id,
                                 AgendaItem.status == ItemStatus.accepted)
        .order_by(AgendaItem.position, AgendaItem.id))]


def test_a_family_member_suggests_and_the_chair_accepts(app, world, client):
    meeting = make_meeting(world)
    db.session.commit()
    login(client, world.people["family"])
    response = client.post(f"/meetings/{meeting.id}/suggest",
                           data={"title": "Visiting hours", "description": "Later on Sundays"},
                           follow_redirects=True)
    assert "Your suggestion has been sent to the chair" in response.text
    assert "waiting for the chair to decide" in response.text
    item = db.session.scalar(select(AgendaItem).where(AgendaItem.title == "Visiting hours"))
    assert item.status == ItemStatus.suggested
    assert item.raised_by_id == world.people["family"].id

    login(client, world.people["manager"])
    assert "Visiting hours" in client.get(f"/meetings/{meeting.id}").text
    response = client.post(f"/meetings/items/{item.id}/accept",
                           data={"presenter_id": world.people["staff"].id,
                                 "duration_minutes": 10}, follow_redirects=True)
    assert "is on the agenda" in response.text
    # Accepted items go before "any other business".
    assert _titles(meeting.id) == ["Welcome and apologies", "Matters arising", "Visiting hours",
                                   "Any other business"]


def test_staff_record_a_suggestion_for_a_resident(app, world, client):
    meeting = make_meeting(world)
    db.session.commit()
    login(client, world.people["staff"])
    client.post(f"/meetings/{meeting.id}/suggest",
                data={"title": "Fish on Fridays", "on_behalf_of": world.people["service_user"].id})
    item = db.session.scalar(select(AgendaItem).where(AgendaItem.title == "Fish on Fridays"))
    assert item.raised_by_id == world.people["service_user"].id
    assert item.suggested_by_id == world.people["staff"].id


def test_a_family_member_cannot_suggest_on_someone_elses_behalf(app, world, client):
    meeting = make_meeting(world)
    db.session.commit()
    login(client, world.people["family"])
    client.post(f"/meetings/{meeting.id}/suggest",
                data={"title": "Mine", "on_behalf_of": world.people["service_user"].id})
    item = db.session.scalar(select(AgendaItem).where(AgendaItem.title == "Mine"))
    assert item is None or item.raised_by_id == world.people["family"].id


def test_a_declined_suggestion_shows_the_reason_to_the_suggester(app, world, client):
    meeting = make_meeting(world)
    item = services.suggest_item(meeting, title="A pony", by=world.people["service_user"])
    db.session.commit()
    login(client, world.people["manager"])
    response = client.post(f"/meetings/items/{item.id}/decline", data={"reason": ""},
                           follow_redirects=True)
    assert "Say why the suggestion is declined" in response.text
    db.session.expire_all()
    assert db.session.get(AgendaItem, item.id).status == ItemStatus.suggested
    client.post(f"/meetings/items/{item.id}/decline",
                data={"reason": "The garden is too small for a pony."})
    login(client, world.people["service_user"])
    page = client.get(f"/meetings/{meeting.id}").text
    assert "The garden is too small for a pony." in page
    assert "The garden is too small for a pony." in client.get("/").text


def test_suggesting_to_a_meeting_already_held_is_refused(app, world, client):
    meeting = held_meeting(world)
    db.session.commit()
    login(client, world.people["family"])
    response = client.post(f"/meetings/{meeting.id}/suggest", data={"title": "Too late"},
                           follow_redirects=True)
    assert "already been held" in response.text
    assert db.session.scalar(select(func.count()).select_from(AgendaItem).where(
        AgendaItem.title == "Too late")) == 0


def test_the_chair_orders_items_with_up_and_down(app, world, client):
    meeting = make_meeting(world)
    first = add_item(meeting, world, "Food")
    add_item(meeting, world, "Garden")
    db.session.commit()
    login(client, world.people["manager"])
    client.post(f"/meetings/items/{first.id}/move", data={"direction": "down"})
    assert _titles(meeting.id) == ["Welcome and apologies", "Matters arising", "Garden", "Food",
                                   "Any other business"]
    client.post(f"/meetings/items/{first.id}/move", data={"direction": "up"})
    client.post(f"/meetings/items/{first.id}/move", data={"direction": "up"})
    assert _titles(meeting.id)[:3] == ["Welcome and apologies", "Food", "Matters arising"]
    welcome = db.session.scalar(select(AgendaItem).where(AgendaItem.kind == ItemKind.welcome))
    response = client.post(f"/meetings/items/{welcome.id}/move", data={"direction": "up"},
                           follow_redirects=True)
    assert "cannot move any further" in response.text


def test_matters_arising_lists_open_actions_from_earlier_meetings(app, world, client):
    earlier = held_meeting(world)
    open_action = make_action(world, earlier, we_will="Fix the lift")
    done = make_action(world, earlier, we_will="Paint the hall")
    services.update_action(done, status="done", we_did="Painted it yellow", by=None)
    refused = make_action(world, earlier, we_will="Buy a pony")
    services.update_action(refused, status="will_not_do", reason="The garden is too small",
                           by=None)
    # Closed before the last meeting: reported then, not again.
    old = make_action(world, earlier, we_will="Mend the gate")
    services.update_action(old, status="done", we_did="Mended", by=None)
    old.closed_at = earlier.starts_at - timedelta(days=3)
    later = make_meeting(world, earlier.series)
    other_series = make_meeting(world)
    db.session.commit()
    login(client, world.people["service_user"])
    services.publish_agenda(later, by=world.people["manager"])
    services.publish_agenda(other_series, by=world.people["manager"])
    db.session.commit()
    page = client.get(f"/meetings/{later.id}").text
    assert "Fix the lift" in page
    # Done and won't-do actions since the last meeting, with what was done or why not.
    assert "Paint the hall" in page and "Painted it yellow" in page
    assert "Buy a pony" in page and "The garden is too small" in page
    assert "Mend the gate" not in page
    assert page.index("Fix the lift") < page.index("Paint the hall")  # open ones first
    printed = client.get(f"/meetings/{later.id}/agenda/print").text
    assert "Painted it yellow" in printed and "The garden is too small" in printed
    assert "Fix the lift" not in client.get(f"/meetings/{other_series.id}").text
    assert open_action.id


def test_publishing_the_agenda_emails_invitees_and_lists_printed_copies(app, world, client,
                                                                        smtp_server):
    no_email = make_person(world.org, "Nora Noemail", username="nora",
                           roles=[("service_user", world.home)])
    make_person(world.org, "Larry Large", roles=[("service_user", world.home)],
                needs=["large_print"])
    meeting = make_meeting(world)
    add_item(meeting, world, "Menu")
    db.session.commit()
    smtp_server.refuse.add(world.people["staff"].user.email)
    login(client, world.people["manager"])
    response = client.post(f"/meetings/{meeting.id}/publish-agenda", follow_redirects=True)
    assert "The agenda is published" in response.text
    assert state(meeting.id) == MeetingStatus.agenda_published
    messages = smtp_server.wait_for(3)
    recipients = {m["To"] for m in messages}
    assert world.people["family"].user.email in recipients
    assert world.people["staff"].user.email not in recipients  # refused, others still sent
    body = plain_text(messages[0])
    assert "Menu" in body and f"/meetings/{meeting.id}" in body
    printed = client.get(f"/meetings/{meeting.id}/agenda/print").text
    assert "Who needs a printed copy" in printed
    assert "Nora Noemail" in printed and "Larry Large" in printed
    assert "large-print" in printed
    # The list comes from communication needs: not for those who may not see needs.
    login(client, world.people["family"])
    printed = client.get(f"/meetings/{meeting.id}/agenda/print").text
    assert "Menu" in printed and "Nora Noemail" not in printed
    assert no_email.id


def test_invitees_do_not_see_the_agenda_before_it_is_published(app, world, client):
    meeting = make_meeting(world)
    add_item(meeting, world, "Secret plans")
    db.session.commit()
    login(client, world.people["family"])
    assert "Secret plans" not in client.get(f"/meetings/{meeting.id}").text
    services.publish_agenda(meeting, by=None)
    db.session.commit()
    assert "Secret plans" in client.get(f"/meetings/{meeting.id}").text


def test_add_agenda_item_is_refused_once_held(app, world):
    import pytest

    from involve.meetings.services import TooLate

    meeting = make_meeting(world, starts_at=utcnow() - timedelta(hours=2))
    services.mark_held(meeting, by=None)
    with pytest.raises(TooLate):
        services.add_agenda_item(meeting, title="x", by=None)


def test_agenda_item_text_keeps_its_lines_and_lists(app, world, client):
    meeting = make_meeting(world)
    services.add_agenda_item(
        meeting, title="Summer trips", raised_by=None, by=world.people["manager"],
        description="Where we could go:\nThe seaside\nThe garden centre\n\n"
                    "- by minibus\n- with a picnic\n\n<script>alert(1)</script>**Vote** soon")
    db.session.commit()
    login(client, world.people["manager"])
    for path in ("", "/agenda/print", "/agenda/easy-read"):
        page = client.get(f"/meetings/{meeting.id}{path}").text
        assert "Where we could go:<br>\nThe seaside<br>\nThe garden centre" in page, path
        assert "<ul>\n<li>by minibus</li>\n<li>with a picnic</li>\n</ul>" in page, path
        assert "<strong>Vote</strong> soon" in page and "alert(1)" not in page, path
    # The chair's forms say how to get a list.
    item = db.session.scalar(select(AgendaItem).where(AgendaItem.title == "Summer trips"))
    for path in (f"/meetings/{meeting.id}/items/new", f"/meetings/items/{item.id}/edit"):
        assert "leave a blank line before it and start each item with - or 1." in \
            client.get(path).text, path
