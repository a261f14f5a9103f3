"""The meeting's life: planned -> agenda published -> held -> minutes -> published, or cancelled."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from involve.audit import AuditEvent
from involve.extensions import db, utcnow
from involve.meetings import services
from involve.meetings.models import IllegalMove, MeetingStatus
from tests.conftest import login
from tests.meetings.helpers import held_meeting, make_meeting, plain_text, published_meeting, state


def _actions(meeting_id):
    return [e.action for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "Meeting",
                                 AuditEvent.object_id == meeting_id).order_by(AuditEvent.id))]


def test_a_meeting_goes_through_its_whole_life_and_every_move_is_audited(app, world):
    manager = world.people["manager"]
    meeting = make_meeting(world, starts_at=utcnow() - timedelta(hours=1))
    services.publish_agenda(meeting, by=manager)
    services.mark_held(meeting, by=manager)
    services.save_minutes(meeting, summary="Short", notes={}, by=manager)
    assert meeting.status == MeetingStatus.minutes_drafted
    services.approve_minutes(meeting, approved_on=date.today(), how="By the chair", by=manager)
    services.publish_minutes(meeting, by=manager)
    db.session.commit()
    assert state(meeting.id) == MeetingStatus.minutes_published
    assert _actions(meeting.id) == [
        "meeting.scheduled", "meeting.agenda_published", "meeting.held", "meeting.minutes_saved",
        "meeting.minutes_approved", "meeting.minutes_published"]


@pytest.mark.parametrize("move", ["publish_minutes", "approve", "publish_agenda_after_held"])
def test_illegal_moves_raise_a_domain_error(app, world, move):
    manager = world.people["manager"]
    meeting = held_meeting(world)
    with pytest.raises(IllegalMove):
        if move == "publish_minutes":
            services.publish_minutes(meeting, by=manager)
        elif move == "approve":
            services.approve_minutes(meeting, approved_on=date.today(), how="", by=manager)
        else:
            services.publish_agenda(meeting, by=manager)


def test_a_cancelled_meeting_cannot_be_held_and_shows_its_reason(app, world, client, outbox):
    meeting = make_meeting(world)
    db.session.commit()
    login(client, world.people["manager"])
    response = client.post(f"/meetings/{meeting.id}/cancel", data={"reason": "Flu outbreak"},
                           follow_redirects=True)
    assert "The meeting is cancelled" in response.text
    assert state(meeting.id) == MeetingStatus.cancelled
    assert any("Flu outbreak" in plain_text(m) for m in outbox)
    with pytest.raises(IllegalMove):
        services.mark_held(db.session.get(type(meeting), meeting.id), by=None)
    login(client, world.people["family"])
    assert "Flu outbreak" in client.get(f"/meetings/{meeting.id}").text


def test_cancelling_without_a_reason_changes_nothing(app, world, client):
    meeting = make_meeting(world)
    db.session.commit()
    login(client, world.people["manager"])
    response = client.post(f"/meetings/{meeting.id}/cancel", data={"reason": "  "},
                           follow_redirects=True)
    assert "Say why the meeting is cancelled" in response.text
    assert state(meeting.id) == MeetingStatus.planned


def test_a_meeting_cannot_be_marked_held_before_it_starts(app, world, client):
    meeting = make_meeting(world)
    db.session.commit()
    login(client, world.people["manager"])
    response = client.post(f"/meetings/{meeting.id}/held", follow_redirects=True)
    assert "has not started yet" in response.text
    assert state(meeting.id) == MeetingStatus.planned


def test_approving_twice_gives_a_clear_message_and_changes_nothing(app, world, client):
    meeting = published_meeting(world)
    db.session.commit()
    approved_on = meeting.minutes_approved_on
    login(client, world.people["manager"])
    response = client.post(f"/meetings/{meeting.id}/minutes/approve",
                           data={"approved_on": (date.today() - timedelta(days=1)).isoformat(),
                                 "how": "At the next meeting"}, follow_redirects=True)
    assert "already been approved" in response.text
    db.session.expire_all()
    again = db.session.get(type(meeting), meeting.id)
    assert again.minutes_approved_on == approved_on
    assert again.minutes_approved_how == "By the chair"
    assert again.status == MeetingStatus.minutes_published
