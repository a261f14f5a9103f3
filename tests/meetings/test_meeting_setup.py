"""Series and meetings: planning, invitees, bad times, calendars."""

from datetime import UTC, datetime, timedelta

from icalendar import Calendar
from sqlalchemy import func, select

from involve.extensions import db, utcnow
from involve.meetings.models import ItemKind, Meeting, MeetingInvitee, MeetingSeries
from involve.people.models import Role
from tests.conftest import login
from tests.meetings.helpers import make_meeting, make_series


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_manager_starts_a_series_and_plans_a_meeting(app, world, client):
    login(client, world.people["manager"])
    response = client.post("/meetings/series/new", data={
        "name": "Residents' meeting", "kind": "residents", "scope": world.home.id,
        "invited_roles": ["service_user", "family", "staff"], "share_with_families": "y",
        "default_room": "Lounge"}, follow_redirects=True)
    assert "The series is ready" in response.text
    series = db.session.scalar(select(MeetingSeries))
    assert series.service_id == world.home.id and series.share_with_families
    assert series.roles == {Role.service_user, Role.family, Role.staff}
    response = client.post(f"/meetings/series/{series.id}/new-meeting", data={
        "starts_at": "2030-03-04T14:00", "ends_at": "2030-03-04T15:30", "room": "Lounge",
        "chair_id": world.people["manager"].id, "minute_taker_id": 0,
        "named_ids": [world.outsiders["partner"].id], "hearing_loop": "y"},
        follow_redirects=True)
    # The picker offers only people of the series' service: someone from another is refused.
    assert "The meeting is planned" not in response.text
    assert db.session.scalar(select(Meeting)) is None
    response = client.post(f"/meetings/series/{series.id}/new-meeting", data={
        "starts_at": "2030-03-04T14:00", "ends_at": "2030-03-04T15:30", "room": "Lounge",
        "chair_id": world.people["manager"].id, "minute_taker_id": 0,
        "named_ids": [world.people["partner"].id], "hearing_loop": "y"},
        follow_redirects=True)
    assert "The meeting is planned" in response.text
    meeting = db.session.scalar(select(Meeting))
    # Typed in UK time (GMT in March), stored in UTC.
    assert meeting.starts_at == datetime(2030, 3, 4, 14, 0, tzinfo=UTC)
    assert [i.kind for i in meeting.items] == [
        ItemKind.welcome, ItemKind.matters_arising, ItemKind.any_other_business]
    invited = set(db.session.scalars(select(MeetingInvitee.person_id).where(
        MeetingInvitee.meeting_id == meeting.id)))
    assert {world.people["service_user"].id, world.people["family"].id,
            world.people["staff"].id, world.ambassador.id, world.people["manager"].id,
            world.people["partner"].id} <= invited
    assert world.outsiders["service_user"].id not in invited


def test_a_meeting_that_ends_before_it_starts_is_refused(app, world, client):
    series = make_series(world)
    db.session.commit()
    login(client, world.people["manager"])
    response = client.post(f"/meetings/series/{series.id}/new-meeting", data={
        "starts_at": "2030-03-04T14:00", "ends_at": "2030-03-04T13:00", "room": "Lounge",
        "chair_id": 0, "minute_taker_id": 0})
    assert response.status_code == 200
    assert "The meeting must end after it starts" in response.text
    assert 'value="2030-03-04T13:00"' in response.text  # what was typed is kept
    assert _count(Meeting) == 0


def test_the_database_itself_refuses_an_end_before_the_start(app, world):
    import pytest
    from sqlalchemy.exc import IntegrityError

    series = make_series(world)
    start = utcnow()
    db.session.add(Meeting(series_id=series.id, service_id=series.service_id, starts_at=start,
                           ends_at=start - timedelta(minutes=1)))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_a_meeting_needs_a_room_or_a_link(app, world, client):
    series = make_series(world)
    db.session.commit()
    login(client, world.people["manager"])
    response = client.post(f"/meetings/series/{series.id}/new-meeting", data={
        "starts_at": "2030-03-04T14:00", "ends_at": "2030-03-04T15:00", "room": "",
        "chair_id": 0, "minute_taker_id": 0})
    assert "Say where the meeting is" in response.text
    assert _count(Meeting) == 0


def test_add_to_my_calendar_gives_a_stable_event_in_utc(app, world, client):
    meeting = make_meeting(world, starts_at=datetime(2030, 7, 1, 13, 0, tzinfo=UTC))
    db.session.commit()
    login(client, world.people["service_user"])
    first = client.get(f"/meetings/{meeting.id}/calendar.ics")
    assert first.mimetype == "text/calendar"
    second = client.get(f"/meetings/{meeting.id}/calendar.ics")
    events = [Calendar.from_ical(r.data).walk("VEVENT")[0] for r in (first, second)]
    assert events[0]["UID"] == events[1]["UID"] == f"meeting-{meeting.id}@localhost"
    assert events[0].decoded("DTSTART") == datetime(2030, 7, 1, 13, 0, tzinfo=UTC)
    assert b"DTSTART:20300701T130000Z" in first.data
    assert str(events[0]["URL"]) == f"http://localhost/meetings/{meeting.id}"


def test_the_series_feed_works_with_its_token_and_not_without(app, world, client):
    meeting = make_meeting(world)
    db.session.commit()
    login(client, world.people["family"])
    page = client.get(f"/meetings/series/{meeting.series_id}").text
    assert "subscribe" in page.lower()
    start = page.index("http://localhost/meetings/feed/")
    url = page[start:page.index('"', start)]
    anonymous = app.test_client()
    response = anonymous.get(url.replace("http://localhost", ""))
    assert response.status_code == 200
    assert len(Calendar.from_ical(response.data).walk("VEVENT")) == 1
    assert anonymous.get(f"/meetings/feed/{meeting.series_id}.ics").status_code == 404
    assert anonymous.get(url.replace("http://localhost", "")[:-8] + "xxxx.ics").status_code == 404
    # A new key stops old addresses working.
    series = db.session.get(MeetingSeries, meeting.series_id)
    series.feed_key = "changed"
    db.session.commit()
    assert anonymous.get(url.replace("http://localhost", "")).status_code == 404


def test_the_chair_changes_a_coming_meeting_and_a_bad_time_changes_nothing(app, world, client):
    meeting = make_meeting(world, starts_at=datetime(2030, 3, 4, 14, 0, tzinfo=UTC))
    db.session.commit()
    login(client, world.people["manager"])
    form = client.get(f"/meetings/{meeting.id}/edit").text
    assert 'value="2030-03-04T14:00"' in form
    data = {"starts_at": "2030-03-05T10:00", "ends_at": "2030-03-05T09:00", "room": "Library",
            "chair_id": world.people["manager"].id, "minute_taker_id": 0}
    response = client.post(f"/meetings/{meeting.id}/edit", data=data)
    assert "The meeting must end after it starts" in response.text
    db.session.expire_all()
    unchanged = db.session.get(Meeting, meeting.id)
    assert (unchanged.room, unchanged.starts_at) == ("Lounge", datetime(2030, 3, 4, 14, 0,
                                                                         tzinfo=UTC))
    data["ends_at"] = "2030-03-05T11:00"
    response = client.post(f"/meetings/{meeting.id}/edit", data={**data, "confirmed": "yes"},
                           follow_redirects=True)
    assert "The meeting is changed." in response.text
    db.session.expire_all()
    changed = db.session.get(Meeting, meeting.id)
    assert (changed.room, changed.starts_at, changed.minute_taker_id) == (
        "Library", datetime(2030, 3, 5, 10, 0, tzinfo=UTC), None)


def test_invitees_are_emailed_when_a_meeting_moves_and_not_for_small_changes(
        app, world, client, outbox):
    from tests.meetings.helpers import plain_text

    meeting = make_meeting(world, starts_at=datetime(2030, 3, 4, 14, 0, tzinfo=UTC))
    db.session.commit()
    login(client, world.people["manager"])
    data = {"starts_at": "2030-03-04T14:00", "ends_at": "2030-03-04T15:00", "room": "Lounge",
            "chair_id": world.people["manager"].id, "minute_taker_id": world.people["staff"].id,
            "hearing_loop": "y", "access_notes": "Tea at the start"}
    response = client.post(f"/meetings/{meeting.id}/edit", data=data, follow_redirects=True)
    assert "The meeting is changed." in response.text and "emailed" not in response.text
    assert outbox == []  # only the access notes changed

    # A bad time is refused: nothing changes and nobody is told anything.
    data.update(starts_at="2030-03-05T10:00", ends_at="2030-03-05T09:00")
    client.post(f"/meetings/{meeting.id}/edit", data=data)
    assert outbox == []

    data.update(ends_at="2030-03-05T11:00", room="Library")
    # First the chair is told who will be emailed (and who must be told another way).
    response = client.post(f"/meetings/{meeting.id}/edit", data=data)
    assert "Check before we email people" in response.text
    assert world.people["family"].full_name in response.text
    assert 'name="confirmed" value="yes"' in response.text
    assert outbox == []
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).room == "Lounge"
    response = client.post(f"/meetings/{meeting.id}/edit", data={**data, "confirmed": "yes"},
                           follow_redirects=True)
    assert "people were emailed the new details" in response.text
    family = next(m for m in outbox if m["To"] == world.people["family"].user.email)
    assert family["Subject"].startswith("Changed:")
    body = plain_text(family)
    assert "It is now: Tuesday 5 March 2030, 10:00" in body
    assert "It was: Monday 4 March 2030, 2:00" in body
    assert "Library" in body and "Lounge" in body
    assert f"/meetings/{meeting.id}" in body
    assert len(outbox) == len({m["To"] for m in outbox})  # one each


def test_a_manager_changes_a_series_and_coming_meetings_invite_the_newly_included(
        app, world, client):
    from involve.audit import AuditEvent

    series = make_series(world, roles=["service_user", "staff"], families=False)
    coming = make_meeting(world, series)
    other = make_series(world, name="Relatives' meeting")
    db.session.commit()
    family = world.people["family"]
    assert family.id not in _invited(coming.id)
    login(client, world.people["manager"])
    form = client.get(f"/meetings/series/{series.id}/edit").text
    assert series.name.replace("'", "&#39;") in form
    # The roles invited now are ticked (service users and staff, not families).
    assert 'checked id="invited_roles-0"' in form and 'checked id="invited_roles-2"' in form
    assert 'checked id="invited_roles-1"' not in form
    data = {"name": "Residents and relatives", "kind": "residents",
            "invited_roles": ["service_user", "staff", "family"], "share_with_families": "y",
            "default_room": "Garden room"}
    response = client.post(f"/meetings/series/{series.id}/edit", data=data,
                           follow_redirects=True)
    assert "The series is changed." in response.text
    db.session.expire_all()
    changed = db.session.get(MeetingSeries, series.id)
    assert (changed.name, changed.share_with_families, changed.default_room) == (
        "Residents and relatives", True, "Garden room")
    assert family.id in _invited(coming.id)
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "meeting.series_changed")) is not None

    # Bad input: no name, or the name of another series here. Nothing changes; nothing lost.
    for name, message in [("  ", "Give the series a name"),
                          (other.name, "There is already a series called")]:
        response = client.post(f"/meetings/series/{series.id}/edit",
                               data={**data, "name": name, "default_room": "Attic"})
        assert response.status_code == 200 and message in response.text
        assert 'value="Attic"' in response.text
        db.session.expire_all()
        assert db.session.get(MeetingSeries, series.id).default_room == "Garden room"


def test_a_second_series_with_the_same_name_is_refused_clearly(app, world, client):
    make_series(world, name="Residents' meeting")
    db.session.commit()
    login(client, world.people["manager"])
    response = client.post("/meetings/series/new", data={
        "name": "Residents' meeting", "kind": "residents", "scope": world.home.id,
        "invited_roles": ["service_user"]})
    assert response.status_code == 200
    assert "There is already a series called" in response.text
    assert _count(MeetingSeries) == 1


def _invited(meeting_id):
    return set(db.session.scalars(select(MeetingInvitee.person_id).where(
        MeetingInvitee.meeting_id == meeting_id)))
