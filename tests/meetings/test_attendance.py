"""Attendance: a checklist of invitees (present, apologies, absent) and a count of guests."""

from sqlalchemy import select

from involve.audit import AuditEvent
from involve.extensions import db
from involve.meetings.models import Attendance, Meeting, MeetingInvitee
from tests.conftest import login
from tests.factories import make_person
from tests.meetings.helpers import held_meeting


def _marks(meeting_id):
    db.session.expire_all()
    return {row.person_id: row.attendance for row in db.session.scalars(
        select(MeetingInvitee).where(MeetingInvitee.meeting_id == meeting_id))}


def test_the_chair_takes_attendance_with_guests(app, world, client):
    meeting = held_meeting(world)
    db.session.commit()
    family, resident = world.people["family"], world.people["service_user"]
    login(client, world.people["manager"])
    response = client.post(f"/meetings/{meeting.id}/attendance", data={
        f"attendance-{family.id}": "present", f"attendance-{resident.id}": "apologies",
        "guest_count": "2"}, follow_redirects=True)
    assert "Attendance is saved." in response.text
    assert "1 present, 1 sent apologies" in response.text and "2 guests" in response.text
    marks = _marks(meeting.id)
    assert (marks[family.id], marks[resident.id]) == (Attendance.present, Attendance.apologies)
    assert db.session.get(Meeting, meeting.id).guest_count == 2
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "meeting.attendance_recorded")) is not None
    # The checklist shows what was recorded, with a big target per choice.
    page = client.get(f"/meetings/{meeting.id}/attendance").text
    assert f'name="attendance-{family.id}" value="present" checked' in page
    assert "button-big" in page


def test_a_bad_guest_count_is_refused_and_nothing_ticked_is_lost(app, world, client):
    meeting = held_meeting(world)
    db.session.commit()
    family = world.people["family"]
    login(client, world.people["manager"])
    for guests, message in [("-1", "Enter a number from 0 to 500."),
                            ("lots", "Enter a whole number, for example 0 or 3.")]:
        response = client.post(f"/meetings/{meeting.id}/attendance", data={
            f"attendance-{family.id}": "present", "guest_count": guests})
        assert response.status_code == 200
        assert message in response.text
        # The tick the chair made is still there to save again.
        assert f'name="attendance-{family.id}" value="present" checked' in response.text
        assert set(_marks(meeting.id).values()) == {None}
        assert db.session.get(Meeting, meeting.id).guest_count == 0


def test_invitees_with_communication_needs_show_their_flag_to_staff_only(app, world, client):
    person = make_person(world.org, "Larry Large", roles=[("service_user", world.home)],
                         needs=["large_print"])
    meeting = held_meeting(world)
    db.session.commit()
    login(client, world.people["staff"])
    page = client.get(f"/meetings/{meeting.id}/attendance").text
    assert "Larry Large" in page and "Needs: Large print" in page
    # Families and residents cannot open the checklist at all.
    for role in ("family", "service_user"):
        login(client, world.people[role])
        assert client.get(f"/meetings/{meeting.id}/attendance").status_code == 403
    assert person.id
