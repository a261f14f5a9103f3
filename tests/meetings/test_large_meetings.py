"""A meeting that invites many people: attendance a page at a time or by name ("everyone
present, then the exceptions" still works), who needs a printed copy a page at a time, and
pickers of people that offer a few and find the rest, never anyone the meeting cannot take."""

from __future__ import annotations

from sqlalchemy import func, select

from involve.extensions import db
from involve.meetings.models import AgendaItem, Attendance, MeetingInvitee
from involve.pickers import PICKER_SIZE
from tests.conftest import login
from tests.factories import make_person, make_strangers
from tests.meetings.helpers import held_meeting, make_meeting

MANY = 30  # more than a page of 25, and more than a picker's 20


def _many_residents(world) -> list:
    return [make_person(world.org, f"Vera Resident {n:02}", roles=[("service_user", world.home)],
                        username=f"vera{n}", needs=["large_print"] if n % 2 else None)
            for n in range(MANY)]


def _marks(meeting_id: int) -> dict:
    db.session.expire_all()
    return {row.person_id: row.attendance for row in db.session.scalars(
        select(MeetingInvitee).where(MeetingInvitee.meeting_id == meeting_id))}


def test_attendance_comes_a_page_at_a_time_and_each_page_is_saved_on_its_own(client, world):
    people = _many_residents(world)
    meeting = held_meeting(world)
    db.session.commit()
    invited = len(_marks(meeting.id))
    assert invited > 25
    login(client, world.people["manager"])
    first = client.get(f"/meetings/{meeting.id}/attendance").text
    assert first.count('type="hidden" name="shown"') == 25
    assert f"{invited} people are invited" in first and "Next page" in first
    found = client.get(f"/meetings/{meeting.id}/attendance?q=resident 29").text
    assert found.count('type="hidden" name="shown"') == 1
    # "Everyone present", then one exception found by name: the others stay present.
    client.post(f"/meetings/{meeting.id}/attendance", data={"everyone": "present"})
    assert set(_marks(meeting.id).values()) == {Attendance.present}
    response = client.post(f"/meetings/{meeting.id}/attendance?q=resident 29", data={
        "shown": str(people[29].id), f"attendance-{people[29].id}": "apologies",
        "guest_count": "0"}, follow_redirects=True)
    assert "Attendance is saved." in response.text
    marks = _marks(meeting.id)
    assert marks[people[29].id] == Attendance.apologies
    assert sum(mark == Attendance.present for mark in marks.values()) == invited - 1
    # The meeting page counts them in the database, without reading every invitee.
    page = client.get(f"/meetings/{meeting.id}").text
    assert f"{invited - 1} present, 1 sent apologies, 0 absent, 0 not recorded" in page
    assert f"{invited} people are invited." in page


def test_a_mark_for_someone_not_invited_is_refused_and_nothing_changes(client, world):
    _many_residents(world)
    meeting = held_meeting(world)
    outsider = make_strangers(world)["service_user"]
    db.session.commit()
    login(client, world.people["manager"])
    resident = world.people["service_user"]
    for someone in (outsider.id, world.outsiders["service_user"].id, "nonsense"):
        response = client.post(f"/meetings/{meeting.id}/attendance", data={
            "shown": [str(resident.id), str(someone)], f"attendance-{resident.id}": "present",
            f"attendance-{someone}": "present", "guest_count": "0"}, follow_redirects=True)
        assert "That person is not invited to this meeting." in response.text
        assert set(_marks(meeting.id).values()) == {None}


def test_who_needs_a_printed_copy_comes_a_page_at_a_time(client, world):
    _many_residents(world)  # each has no email; every other one asks for large print
    meeting = make_meeting(world)
    db.session.commit()
    login(client, world.people["manager"])
    page = client.get(f"/meetings/{meeting.id}/agenda/print").text
    needs = page[page.index('id="copies-h"'):page.index("</section>")]
    assert needs.count("<li>") == 25 and "Next page" in needs
    assert "Vera Resident 01" in needs and "Large print" in needs


def test_the_item_form_offers_a_few_people_and_finds_the_rest(client, world):
    people = _many_residents(world)
    meeting = make_meeting(world)
    strangers = make_strangers(world)
    db.session.commit()
    login(client, world.people["manager"])
    page = client.get(f"/meetings/{meeting.id}/items/new").text
    raised = page[page.index('id="raised_by_id"'):]
    assert raised[:raised.index("</select>")].count("<option") == PICKER_SIZE + 1
    assert 'label for="person_q">Find a person by name' in page
    found = client.get(f"/meetings/{meeting.id}/items/new?person_q=resident 29").text
    assert f'value="{people[29].id}">Vera Resident 29' in found
    assert "Vera Resident 28" not in found
    # Nobody the meeting cannot take: not another service's, not another organisation's.
    assert "Away" not in client.get(f"/meetings/{meeting.id}/items/new?person_q=away").text
    assert "Elsewhere" not in client.get(
        f"/meetings/{meeting.id}/items/new?person_q=elsewhere").text
    items = db.session.scalar(select(func.count(AgendaItem.id)))
    for someone in (strangers["staff"].id, world.outsiders["staff"].id, 2**31):
        response = client.post(f"/meetings/{meeting.id}/items/new", data={
            "title": "Sneaky", "raised_by_id": str(someone), "presenter_id": "0"})
        assert response.status_code == 200
        assert "Choose one of the options in the list" in response.text
    assert db.session.scalar(select(func.count(AgendaItem.id))) == items
    # Someone found by the search is taken.
    response = client.post(f"/meetings/{meeting.id}/items/new", data={
        "title": "The garden", "raised_by_id": str(people[29].id), "presenter_id": "0"},
        follow_redirects=True)
    assert "is on the agenda" in response.text
    assert db.session.scalar(select(AgendaItem.raised_by_id).where(
        AgendaItem.title == "The garden")) == people[29].id


def test_staff_find_whom_a_suggestion_is_for_among_the_invitees(client, world):
    people = _many_residents(world)
    meeting = make_meeting(world)
    make_strangers(world)
    db.session.commit()
    login(client, world.people["staff"])
    page = client.get(f"/meetings/{meeting.id}/suggest").text
    behalf = page[page.index('id="on_behalf_of"'):]
    assert behalf[:behalf.index("</select>")].count("<option") == PICKER_SIZE + 1
    found = client.get(f"/meetings/{meeting.id}/suggest?person_q=resident 29").text
    assert f'value="{people[29].id}">Vera Resident 29' in found
    assert "Elsewhere" not in client.get(f"/meetings/{meeting.id}/suggest?person_q=else").text
    items = db.session.scalar(select(func.count(AgendaItem.id)))
    response = client.post(f"/meetings/{meeting.id}/suggest", data={
        "title": "Sneaky", "on_behalf_of": str(world.outsiders["service_user"].id)})
    assert response.status_code == 200
    assert "Choose one of the options in the list" in response.text
    assert db.session.scalar(select(func.count(AgendaItem.id))) == items
    client.post(f"/meetings/{meeting.id}/suggest", data={
        "title": "Bingo", "on_behalf_of": str(people[29].id)})
    assert db.session.scalar(select(AgendaItem.raised_by_id).where(
        AgendaItem.title == "Bingo")) == people[29].id


def test_planning_a_meeting_offers_a_few_people_to_invite_by_name_and_finds_the_rest(
        client, world):
    from involve.meetings.models import Meeting
    from tests.meetings.helpers import make_series

    people = _many_residents(world)
    series = make_series(world, roles=[])
    strangers = make_strangers(world)
    db.session.commit()
    login(client, world.people["manager"])
    url = f"/meetings/series/{series.id}/new-meeting"
    page = client.get(url).text
    assert page.count('name="named_ids" type="checkbox"') == PICKER_SIZE
    found = client.get(f"{url}?person_q=resident 29").text
    assert f'value="{people[29].id}"' in found and "Vera Resident 28" not in found
    assert "Elsewhere" not in client.get(f"{url}?person_q=else").text
    assert "Away" not in client.get(f"{url}?person_q=away").text
    data = {"starts_at": "2030-05-01T10:00", "ends_at": "2030-05-01T11:00", "room": "Lounge",
            "chair_id": 0, "minute_taker_id": 0}
    meetings = db.session.scalar(select(func.count(Meeting.id)))
    for someone in (strangers["service_user"].id, world.outsiders["service_user"].id):
        response = client.post(url, data={**data, "named_ids": [someone, people[29].id]})
        assert "Choose only from the list shown." in response.text
    assert db.session.scalar(select(func.count(Meeting.id))) == meetings
    client.post(url, data={**data, "named_ids": [people[29].id, people[3].id]})
    meeting = db.session.scalar(select(Meeting).where(Meeting.series_id == series.id))
    assert {row.person_id for row in meeting.invitees if row.named} == {
        people[29].id, people[3].id}
