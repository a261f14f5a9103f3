"""The chair's own moves: adding and rewording items, other business, telling the suggester,
marking a meeting held, and calendars that follow a move or a cancellation."""

from datetime import UTC, datetime, timedelta
from html import unescape

from icalendar import Calendar
from sqlalchemy import func, select

from involve.extensions import db, utcnow
from involve.meetings import services
from involve.meetings.models import AgendaItem, ItemStatus, Meeting, MeetingStatus
from tests.conftest import login
from tests.factories import make_person
from tests.meetings.helpers import held_meeting, make_meeting, plain_text, state


def _titles(meeting_id):
    db.session.expire_all()
    return [i.title for i in db.session.scalars(
        select(AgendaItem).where(AgendaItem.meeting_id == meeting_id,
                                 AgendaItem.status == ItemStatus.accepted)
        .order_by(AgendaItem.position, AgendaItem.id))]


def _count_items():
    return db.session.scalar(select(func.count(AgendaItem.id)))


def test_the_chair_adds_an_item_directly(app, world, client):
    meeting = make_meeting(world)
    db.session.commit()
    login(client, world.people["manager"])
    page = client.get(f"/meetings/{meeting.id}").text
    assert "Add an item to the agenda" in page
    response = client.post(f"/meetings/{meeting.id}/items/new", data={
        "title": "The new minibus", "description": "Trips from May",
        "raised_by_id": world.people["service_user"].id, "presenter_id": 0},
        follow_redirects=True)
    assert "\"The new minibus\" is on the agenda." in unescape(response.text)
    assert _titles(meeting.id) == ["Welcome and apologies", "Matters arising",
                                   "The new minibus", "Any other business"]


def test_an_item_without_a_title_is_refused_and_nothing_is_added(app, world, client):
    meeting = make_meeting(world)
    db.session.commit()
    before = _count_items()
    login(client, world.people["manager"])
    response = client.post(f"/meetings/{meeting.id}/items/new",
                           data={"title": "   ", "raised_by_id": 0, "presenter_id": 0})
    assert "Give the item a title." in response.text
    response = client.post(f"/meetings/{meeting.id}/items/new",
                           data={"title": "x" * 201, "raised_by_id": 0, "presenter_id": 0})
    assert "Keep the title under 200 letters." in response.text
    assert _count_items() == before


def test_once_the_agenda_is_out_the_chair_adds_any_other_business(app, world, client):
    meeting = make_meeting(world)
    services.add_agenda_item(meeting, title="Menu", by=world.people["manager"])
    services.publish_agenda(meeting, by=world.people["manager"])
    db.session.commit()
    login(client, world.people["manager"])
    assert "Add any other business" in client.get(f"/meetings/{meeting.id}").text
    response = client.post(f"/meetings/{meeting.id}/items/new", data={
        "title": "Fire drill on Friday", "raised_by_id": 0, "presenter_id": 0},
        follow_redirects=True)
    assert "is on the agenda under any other business." in response.text
    assert "Any other business:</span> Fire drill on Friday" in response.text
    # It goes after the "any other business" heading, in the order raised.
    services.add_agenda_item(meeting, title="Birthday party", by=world.people["manager"],
                             other_business=True)
    db.session.commit()
    assert _titles(meeting.id) == ["Welcome and apologies", "Matters arising", "Menu",
                                   "Any other business", "Fire drill on Friday",
                                   "Birthday party"]
    printed = client.get(f"/meetings/{meeting.id}/agenda/print").text
    assert "Any other business: Fire drill on Friday" in printed

    # On the day too, but not once the minutes are approved.
    held = held_meeting(world)
    services.add_agenda_item(held, title="Raised on the day", by=world.people["manager"],
                             other_business=True)
    services.save_minutes(held, summary="", notes={}, by=world.people["manager"])
    services.approve_minutes(held, approved_on=held.starts_at.date(), how="",
                             by=world.people["manager"])
    db.session.commit()
    before = _count_items()
    response = client.post(f"/meetings/{held.id}/items/new", data={
        "title": "Too late", "raised_by_id": 0, "presenter_id": 0}, follow_redirects=True)
    assert "These minutes are approved, so no more business can be added." in response.text
    assert _count_items() == before


def test_the_chair_rewords_a_suggestion_and_the_suggesters_words_are_kept(
        app, world, client, smtp_server):
    family = world.people["family"]
    meeting = make_meeting(world)
    item = services.suggest_item(meeting, title="the food is cold when it gets to my mum",
                                 description="every day at lunch", by=family)
    db.session.commit()
    login(client, world.people["manager"])
    form = client.get(f"/meetings/items/{item.id}/accept").text
    assert "the food is cold when it gets to my mum" in form
    # A blank title is refused: the suggestion stays waiting, unchanged.
    response = client.post(f"/meetings/items/{item.id}/accept",
                           data={"title": " ", "presenter_id": 0}, follow_redirects=True)
    assert "Give the item a title." in response.text
    db.session.expire_all()
    unchanged = db.session.get(AgendaItem, item.id)
    assert (unchanged.status, unchanged.title, unchanged.original_title) == (
        ItemStatus.suggested, "the food is cold when it gets to my mum", "")
    assert smtp_server.messages == []

    response = client.post(f"/meetings/items/{item.id}/accept", data={
        "title": "Warm meals upstairs", "description": "Lunch reaches the first floor cold.",
        "presenter_id": 0}, follow_redirects=True)
    assert "\"Warm meals upstairs\" is on the agenda." in unescape(response.text)
    db.session.expire_all()
    item = db.session.get(AgendaItem, item.id)
    assert (item.title, item.original_title, item.original_description) == (
        "Warm meals upstairs", "the food is cold when it gets to my mum", "every day at lunch")
    # Managers see the suggester's own words beside the agenda's.
    page = client.get(f"/meetings/{meeting.id}").text
    assert "own words" in page and "the food is cold when it gets to my mum" in page
    # The family member is emailed, with the agenda's wording.
    (message,) = smtp_server.wait_for(1)
    assert message["To"] == family.user.email
    body = plain_text(message)
    assert "the food is cold when it gets to my mum" in body and "Warm meals upstairs" in body

    # Other people do not see the original words.
    login(client, world.people["service_user"])
    services.publish_agenda(db.session.get(Meeting, meeting.id), by=world.people["manager"])
    db.session.commit()
    page = client.get(f"/meetings/{meeting.id}").text
    assert "Warm meals upstairs" in page and "my mum" not in page

    # Rewording again keeps the first words, not the chair's.
    login(client, world.people["manager"])
    client.post(f"/meetings/items/{item.id}/edit",
                data={"title": "Hot lunches upstairs", "description": ""})
    db.session.expire_all()
    item = db.session.get(AgendaItem, item.id)
    assert (item.title, item.original_title) == (
        "Hot lunches upstairs", "the food is cold when it gets to my mum")
    response = client.post(f"/meetings/items/{item.id}/edit",
                           data={"title": "", "description": "x"})
    assert "Give the item a title" in response.text
    db.session.expire_all()
    assert db.session.get(AgendaItem, item.id).title == "Hot lunches upstairs"


def test_a_declined_suggestion_emails_the_family_member_with_the_reason(
        app, world, client, smtp_server):
    family = world.people["family"]
    meeting = make_meeting(world)
    item = services.suggest_item(meeting, title="A hot tub", by=family)
    db.session.commit()
    login(client, world.people["manager"])
    client.post(f"/meetings/items/{item.id}/decline", data={"reason": "We have no room for it."})
    (message,) = smtp_server.wait_for(1)
    assert message["To"] == family.user.email
    assert "A hot tub" in message["Subject"]
    assert "The chair said why: We have no room for it." in plain_text(message)


def test_staff_who_recorded_a_suggestion_are_asked_to_pass_the_decision_on(
        app, world, outbox):
    nora = make_person(world.org, "Nora Noemail", username="nora",
                       roles=[("service_user", world.home)])
    meeting = make_meeting(world)
    item = services.suggest_item(meeting, title="Bingo", by=world.people["staff"],
                                 on_behalf_of=nora)
    services.accept_suggestion(item, by=world.people["manager"])
    (message,) = outbox
    assert message["To"] == world.people["staff"].user.email
    assert "Please let Nora Noemail know." in plain_text(message)


def test_mark_as_held_is_offered_where_the_page_asks(app, world, client):
    meeting = make_meeting(world, starts_at=utcnow() - timedelta(minutes=30))
    future = make_meeting(world)
    db.session.commit()
    login(client, world.people["manager"])
    page = client.get(f"/meetings/{meeting.id}").text
    minutes = page[page.index('id="minutes"'):]
    assert "Has the meeting happened? Mark it as held" in minutes
    assert f'action="/meetings/{meeting.id}/held"' in minutes
    assert "Mark as held" not in client.get(f"/meetings/{future.id}").text
    client.post(f"/meetings/{meeting.id}/held")
    assert state(meeting.id) == MeetingStatus.held
    # The minutes section now says where things are in plain English.
    page = client.get(f"/meetings/{meeting.id}").text
    assert "minutes are minutes" not in page.lower()


def test_minutes_status_sentences_read_as_plain_english(app, world, client):
    meeting = held_meeting(world)
    services.save_minutes(meeting, summary="", notes={}, by=world.people["manager"])
    db.session.commit()
    login(client, world.people["manager"])
    page = client.get(f"/meetings/{meeting.id}").text
    assert "The minutes are written, and waiting to be approved." in page
    assert "The minutes are minutes drafted" not in page
    for status in MeetingStatus:
        sentence = status.minutes_sentence
        assert sentence.endswith(".") and "minutes are minutes" not in sentence.lower()


def _event(ics: bytes):
    (event,) = Calendar.from_ical(ics).walk("VEVENT")
    return event


def test_moving_and_cancelling_update_the_calendar(app, world, client, smtp_server):
    meeting = make_meeting(world, starts_at=datetime(2030, 3, 4, 14, 0, tzinfo=UTC))
    db.session.commit()
    login(client, world.people["manager"])
    first = _event(client.get(f"/meetings/{meeting.id}/calendar.ics").data)
    assert int(first["SEQUENCE"]) == 0

    # The agenda email carries the .ics.
    client.post(f"/meetings/{meeting.id}/publish-agenda")
    messages = smtp_server.wait_for(3)
    attached = [part for part in messages[0].walk()
                if part.get_content_type() == "text/calendar"]
    assert len(attached) == 1 and attached[0].get_filename() == f"meeting-{meeting.id}.ics"
    assert _event(attached[0].get_payload(decode=True))["UID"] == first["UID"]

    data = {"starts_at": "2030-03-05T10:00", "ends_at": "2030-03-05T11:00", "room": "Lounge",
            "chair_id": world.people["manager"].id, "minute_taker_id": 0, "confirmed": "yes"}
    client.post(f"/meetings/{meeting.id}/edit", data=data)
    moved = _event(client.get(f"/meetings/{meeting.id}/calendar.ics").data)
    assert int(moved["SEQUENCE"]) == 1
    assert moved.decoded("DTSTART") == datetime(2030, 3, 5, 10, 0, tzinfo=UTC)
    count = len(smtp_server.messages)
    change = smtp_server.wait_for(count)[-1]
    assert any(p.get_content_type() == "text/calendar" for p in change.walk())

    client.post(f"/meetings/{meeting.id}/cancel", data={"reason": "The lounge is flooded"})
    cancelled = _event(client.get(f"/meetings/{meeting.id}/calendar.ics").data)
    assert int(cancelled["SEQUENCE"]) == 2 and str(cancelled["STATUS"]) == "CANCELLED"
    assert cancelled["UID"] == first["UID"]
    last = smtp_server.wait_for(count + 1)[-1]
    assert last["Subject"].startswith("Cancelled:")
    (ics,) = [p for p in last.walk() if p.get_content_type() == "text/calendar"]
    assert str(_event(ics.get_payload(decode=True))["STATUS"]) == "CANCELLED"


def test_calendar_events_name_their_organiser(app, world, client, smtp_server, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_FROM", "Rose Court news <news@care.example>")
    meeting = make_meeting(world, starts_at=datetime(2030, 3, 4, 14, 0, tzinfo=UTC))
    db.session.commit()
    login(client, world.people["manager"])
    client.post(f"/meetings/{meeting.id}/publish-agenda")
    (ics,) = [p for p in smtp_server.wait_for(1)[0].walk()
              if p.get_content_type() == "text/calendar"]
    downloaded = client.get(f"/meetings/{meeting.id}/calendar.ics").data
    for document in (ics.get_payload(decode=True), downloaded):
        assert b"METHOD:PUBLISH" in document
        organizer = _event(document)["ORGANIZER"]
        assert str(organizer) == "mailto:news@care.example"
        assert organizer.params["CN"] == f"{world.home.name}, {world.org.name}"


def test_named_invitees_are_tick_boxes_of_the_series_service_only(app, world, client):
    from involve.meetings.models import MeetingInvitee
    from tests.meetings.helpers import make_series

    elsewhere = make_person(world.org, "Ellie Elsewhere", roles=[("service_user", world.away)])
    series = make_series(world, roles=["staff"])
    db.session.commit()
    login(client, world.people["manager"])
    form = client.get(f"/meetings/series/{series.id}/new-meeting").text
    assert 'name="named_ids" type="checkbox"' in form and "<select multiple" not in form
    assert "data-filter-box" in form and "Ctrl" not in form
    assert world.people["family"].full_name in form and "Ellie Elsewhere" not in form
    data = {"starts_at": "2030-03-04T14:00", "ends_at": "2030-03-04T15:00", "room": "Lounge",
            "chair_id": 0, "minute_taker_id": 0, "named_ids": [elsewhere.id]}
    response = client.post(f"/meetings/series/{series.id}/new-meeting", data=data)
    assert "Choose only from the list shown." in response.text
    assert db.session.scalar(select(func.count(Meeting.id))) == 0
    data["named_ids"] = [world.people["family"].id]
    client.post(f"/meetings/series/{series.id}/new-meeting", data=data)
    meeting = db.session.scalar(select(Meeting))
    assert db.session.scalar(select(MeetingInvitee).where(
        MeetingInvitee.meeting_id == meeting.id,
        MeetingInvitee.person_id == world.people["family"].id)).named
