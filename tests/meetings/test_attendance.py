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


def test_everyone_present_then_the_exceptions_with_named_guests(app, world, client):
    meeting = held_meeting(world)
    db.session.commit()
    family, resident = world.people["family"], world.people["service_user"]
    login(client, world.people["manager"])
    response = client.post(f"/meetings/{meeting.id}/attendance", data={"everyone": "present"},
                           follow_redirects=True)
    assert "Everyone is marked present" in response.text
    marks = _marks(meeting.id)
    assert set(marks.values()) == {Attendance.present}
    assert f'name="attendance-{resident.id}" value="present" checked' in response.text
    # Then only the exception is changed, and named guests are added beside a count.
    data = {f"attendance-{pid}": "present" for pid in marks}
    data.update({f"attendance-{resident.id}": "apologies",
                 "guest_names": "Dr Asha Patel\n\n  Tom  Advocate \nDr Asha Patel",
                 "guest_count": "1"})
    response = client.post(f"/meetings/{meeting.id}/attendance", data=data,
                           follow_redirects=True)
    assert "Attendance is saved." in response.text
    assert "3 guests (Dr Asha Patel, Tom Advocate and 1 more)" in response.text
    db.session.expire_all()
    saved = db.session.get(Meeting, meeting.id)
    assert saved.guest_names == ["Dr Asha Patel", "Tom Advocate"] and saved.guest_count == 1
    assert _marks(meeting.id)[resident.id] == Attendance.apologies
    assert _marks(meeting.id)[family.id] == Attendance.present
    minutes = client.get(f"/meetings/{meeting.id}/minutes")
    assert minutes.status_code == 200
    assert "with 3 guests: Dr Asha Patel, Tom Advocate and 1 more" in minutes.text


def test_a_too_long_guest_name_is_refused_and_nothing_changes(app, world, client):
    meeting = held_meeting(world)
    db.session.commit()
    login(client, world.people["manager"])
    response = client.post(f"/meetings/{meeting.id}/attendance",
                           data={"guest_names": "A" * 121, "guest_count": "2"})
    assert "A guest&#39;s name is too long" in response.text
    db.session.expire_all()
    saved = db.session.get(Meeting, meeting.id)
    assert (saved.guest_names, saved.guest_count) == ([], 0)
