"""Minutes: drafted only after the meeting, revisions, approval, publishing, who reads them."""

from datetime import date

from sqlalchemy import func, select

from involve.audit import AuditEvent
from involve.extensions import db
from involve.meetings import services
from involve.meetings.models import AgendaItem, Meeting, MeetingStatus, MinutesRevision
from tests.conftest import login
from tests.meetings.helpers import (
    add_item,
    held_meeting,
    make_meeting,
    make_series,
    plain_text,
    published_meeting,
    state,
)


def _revisions(meeting_id):
    return db.session.scalar(select(func.count()).select_from(MinutesRevision).where(
        MinutesRevision.meeting_id == meeting_id))


def test_minutes_for_a_meeting_not_yet_held_are_refused(app, world, client):
    meeting = make_meeting(world)
    item = add_item(meeting, world)
    db.session.commit()
    login(client, world.people["manager"])
    response = client.post(f"/meetings/{meeting.id}/minutes/edit",
                           data={f"notes-{item.id}": "Notes", "easy_read_summary": "x"},
                           follow_redirects=True)
    assert "has not been held yet" in response.text
    db.session.expire_all()
    assert db.session.get(AgendaItem, item.id).notes == ""
    assert _revisions(meeting.id) == 0
    assert state(meeting.id) == MeetingStatus.planned


def test_writing_minutes_keeps_a_revision_each_time(app, world, client):
    meeting = held_meeting(world)
    item = meeting.items[0]
    db.session.commit()
    login(client, world.people["staff"])  # the minute-taker
    response = client.post(f"/meetings/{meeting.id}/minutes/edit", data={
        f"notes-{item.id}": "Everyone was welcomed.\n\n- Ada\n- Bert",
        "easy_read_summary": "We met. We talked about food."}, follow_redirects=True)
    assert "revision 1" in response.text
    assert state(meeting.id) == MeetingStatus.minutes_drafted
    client.post(f"/meetings/{meeting.id}/minutes/edit", data={
        f"notes-{item.id}": "Everyone was welcomed warmly.\n\n- Ada\n- Bert",
        "easy_read_summary": "We met."})
    revisions = db.session.scalars(select(MinutesRevision).order_by(
        MinutesRevision.number)).all()
    assert [r.number for r in revisions] == [1, 2]
    assert "Everyone was welcomed." in revisions[0].full_text
    assert "welcomed warmly" in revisions[1].full_text
    assert revisions[1].created_by_id == world.people["staff"].id
    page = client.get(f"/meetings/{meeting.id}/minutes").text
    assert "<li>Ada</li>" in page and "Changes to these minutes" in page
    # Each revision keeps what the minutes said then, for the chair to look back on.
    assert "Revision 1 in full" in page and "Everyone was welcomed.\n" in page


def test_draft_minutes_are_only_for_chair_minute_taker_and_managers(app, world, client):
    meeting = held_meeting(world)
    services.save_minutes(meeting, summary="Health details here", notes={},
                          by=world.people["manager"])
    db.session.commit()
    for role, status in [("manager", 200), ("staff", 200), ("family", 403),
                         ("service_user", 403), ("partner", 403)]:
        login(client, world.people[role])
        assert client.get(f"/meetings/{meeting.id}/minutes").status_code == status, role
        page = client.get(f"/meetings/{meeting.id}")
        if status == 403 and page.status_code == 200:
            assert "Health details here" not in page.text


def test_published_minutes_reach_the_audience_and_families(app, world, client, outbox):
    meeting = held_meeting(world)
    services.save_minutes(meeting, summary="We chose new chairs.", notes={},
                          by=world.people["manager"])
    db.session.commit()
    login(client, world.people["manager"])
    client.post(f"/meetings/{meeting.id}/minutes/approve",
                data={"approved_on": date.today().isoformat(), "how": "By the chair"})
    response = client.post(f"/meetings/{meeting.id}/minutes/publish", follow_redirects=True)
    assert "The minutes are published" in response.text
    assert any(m["To"] == world.people["family"].user.email for m in outbox)
    login(client, world.people["family"])
    assert "We chose new chairs." in client.get(f"/meetings/{meeting.id}/minutes").text
    login(client, world.outsiders["family"])
    assert client.get(f"/meetings/{meeting.id}/minutes").status_code == 403


def test_families_read_minutes_shared_with_them_even_when_not_invited(app, world, client):
    series = make_series(world, roles=["service_user", "staff"], families=True)
    shared = published_meeting(world, series)
    private_series = make_series(world, roles=["service_user", "staff"], families=False,
                                 name="Private")
    private = published_meeting(world, private_series)
    db.session.commit()
    login(client, world.people["family"])
    assert client.get(f"/meetings/{shared.id}/minutes").status_code == 200
    assert client.get(f"/meetings/{private.id}/minutes").status_code == 403
    login(client, world.people["partner"])
    assert client.get(f"/meetings/{shared.id}/minutes").status_code == 403


def test_partners_read_only_what_is_shared_with_them(app, world, client):
    series = make_series(world, roles=["service_user"], families=False, partners=True)
    meeting = published_meeting(world, series)
    db.session.commit()
    login(client, world.people["partner"])
    assert client.get(f"/meetings/{meeting.id}/minutes").status_code == 200
    login(client, world.outsiders["partner"])
    assert client.get(f"/meetings/{meeting.id}/minutes").status_code == 403


def test_editing_published_minutes_needs_a_new_revision(app, world, client):
    meeting = published_meeting(world)
    item = meeting.items[0]
    db.session.commit()
    before = _revisions(meeting.id)
    login(client, world.people["manager"])
    response = client.post(f"/meetings/{meeting.id}/minutes/edit", data={
        f"notes-{item.id}": "Changed quietly", "easy_read_summary": "Changed"})
    assert "To change them, make a new revision" in response.text
    assert "Changed quietly" in response.text  # nothing typed is lost
    db.session.expire_all()
    assert db.session.get(AgendaItem, item.id).notes != "Changed quietly"
    assert _revisions(meeting.id) == before
    response = client.post(f"/meetings/{meeting.id}/minutes/edit", data={
        f"notes-{item.id}": "Corrected spelling of a name", "easy_read_summary": "Changed",
        "revision_note": "Corrected a name"}, follow_redirects=True)
    assert f"revision {before + 1}" in response.text
    revision = db.session.scalar(select(MinutesRevision).where(
        MinutesRevision.number == before + 1))
    assert revision.after_publication and revision.note == "Corrected a name"
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "meeting.minutes_revised")) is not None
    assert state(meeting.id) == MeetingStatus.minutes_published


def test_approving_needs_a_date_not_in_the_future(app, world, client):
    meeting = held_meeting(world)
    services.save_minutes(meeting, summary="", notes={}, by=world.people["manager"])
    db.session.commit()
    login(client, world.people["manager"])
    response = client.post(f"/meetings/{meeting.id}/minutes/approve",
                           data={"approved_on": "2999-01-01", "how": "By the chair"},
                           follow_redirects=True)
    assert "cannot be in the future" in response.text
    assert state(meeting.id) == MeetingStatus.minutes_drafted


def test_the_chair_is_reminded_until_minutes_are_drafted(app, world, client, smtp_server):
    from involve.meetings import tasks

    meeting = held_meeting(world)
    db.session.commit()
    login(client, world.people["manager"])
    assert "Minutes to write" in client.get("/").text
    assert tasks.remind_chairs_about_minutes.call_local() == 1
    messages = smtp_server.wait_for(1)
    assert messages[0]["To"] == world.people["manager"].user.email
    assert f"/meetings/{meeting.id}" in plain_text(messages[0])
    assert tasks.remind_chairs_about_minutes.call_local() == 0  # not twice in a day
    services.save_minutes(db.session.get(Meeting, meeting.id), summary="", notes={},
                          by=world.people["manager"])
    db.session.commit()
    assert "Minutes to write" not in client.get("/").text


def test_every_minutes_editor_says_how_markdown_works(app, world, client):
    from involve.text import EDITOR_HINT

    meeting = held_meeting(world)
    db.session.commit()
    login(client, world.people["staff"])
    page = client.get(f"/meetings/{meeting.id}/minutes/edit").text
    # Notes, decisions (both per item) and the summary are all shown as Markdown.
    editors = 2 * len(meeting.items) + 1
    assert page.count(EDITOR_HINT) == editors
    for item in meeting.items:
        assert f'aria-describedby="notes-{item.id}-hint"' in page
        assert f'aria-describedby="decisions-{item.id}-hint"' in page


def test_published_minutes_are_emailed_to_families_they_are_shared_with(app, world, client,
                                                                         outbox):
    series = make_series(world, roles=["service_user", "staff"], families=True)
    meeting = held_meeting(world, series)
    services.save_minutes(meeting, summary="New menu from May.", notes={},
                          by=world.people["manager"])
    services.approve_minutes(meeting, approved_on=date.today(), how="By the chair",
                             by=world.people["manager"])
    db.session.commit()
    assert world.people["family"].id not in {row.person_id for row in meeting.invitees}
    login(client, world.people["manager"])
    client.post(f"/meetings/{meeting.id}/minutes/publish")
    recipients = [m["To"] for m in outbox]
    assert world.people["family"].user.email in recipients  # shared, though not invited
    assert world.people["service_user"].user.email in recipients
    assert world.people["partner"].user.email not in recipients  # not shared with partners
    assert world.outsiders["family"].user.email not in recipients
    assert len(recipients) == len(set(recipients))
    body = plain_text(next(m for m in outbox if m["To"] == world.people["family"].user.email))
    assert "New menu from May." in body and f"/meetings/{meeting.id}" in body
