"""Safeguarding: the same prompt and alert for what people said back about a briefing, and a
record of what was done (action, referral, outcome) that the board reads."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from involve.audit import AuditEvent
from involve.extensions import db
from involve.feedback import services
from involve.feedback.models import AmbassadorFeedback, FeedbackError, SafeguardingRecord
from tests.conftest import login
from tests.feedback.helpers import make_briefing, make_feedback, theme


def _records() -> int:
    return db.session.scalar(select(func.count(SafeguardingRecord.id)))


def test_said_back_has_the_safeguarding_prompt_and_alert(app, world, client, smtp_server):
    briefing = make_briefing(world)
    db.session.commit()
    login(client, world.ambassador)
    form = client.get(f"/feedback/briefings/{briefing.id}/said-back").get_data(as_text=True)
    assert "Could someone be at risk?" in form and 'name="safeguarding"' in form
    response = client.post(f"/feedback/briefings/{briefing.id}/said-back", data={
        "service_id": world.home.id, "theme_id": theme(world, "Safety").id, "kind": "concern",
        "what_was_said": "Someone said a visitor shouts at her.", "people_count": "1",
        "safeguarding": "y"}, follow_redirects=True)
    assert "tell the manager or the person in charge now" in response.get_data(as_text=True)
    item = db.session.scalar(select(AmbassadorFeedback))
    assert item.safeguarding and item.briefing_id == briefing.id
    assert db.session.scalar(select(AuditEvent.id).where(
        AuditEvent.action == "feedback.safeguarding_flagged")) is not None
    [alert] = smtp_server.wait_for(1)
    assert alert["To"] == world.people["manager"].user.email
    assert alert["Subject"].startswith("Safeguarding:")
    assert "shouts" not in alert.as_string()  # a link, never the words


def test_what_was_done_is_recorded_and_the_board_reads_it(app, world, client):
    item = make_feedback(world, said="Bruises on her arm.", safeguarding=True)
    db.session.commit()
    login(client, world.people["manager"])
    url = f"/feedback/ambassador/{item.id}/safeguarding"
    for data, message in [
        ({"action_taken": "", "referral_made": "no"}, "Say what was done."),
        ({"action_taken": "Spoke to her", "referral_made": "yes", "referred_to": " "},
         "Say who the referral was made to."),
        ({"action_taken": "Spoke to her"}, "Say whether a referral was made."),
    ]:
        page = client.post(url, data=data).get_data(as_text=True)
        assert message in page
    assert _records() == 0
    response = client.post(url, data={
        "action_taken": "Spoke to her and her key worker; body map done.",
        "referral_made": "yes", "referred_to": "Local authority safeguarding team",
        "outcome": ""}, follow_redirects=True)
    assert "The board can read it." in response.get_data(as_text=True)
    login(client, world.people["board"])
    page = client.get(f"/feedback/ambassador/{item.id}").get_data(as_text=True)
    assert "body map done" in page and "Made, to Local authority safeguarding team" in page
    assert "Not known yet" in page
    assert client.get(url).status_code == 403  # the board reads; the manager records
    login(client, world.ambassador)
    page = client.get(f"/feedback/ambassador/{item.id}").get_data(as_text=True)
    assert "body map done" not in page  # the ambassador brought it; the record is not theirs


def test_only_flagged_items_take_a_record_and_the_database_insists_on_whom(app, world):
    plain = make_feedback(world)
    with pytest.raises(FeedbackError, match="not marked as a possible safeguarding"):
        services.record_safeguarding(plain, action_taken="x", referral_made=False,
                                     by=world.people["manager"])
    flagged = make_feedback(world, safeguarding=True)
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.add(SafeguardingRecord(feedback_id=flagged.id, action_taken="Rang them",
                                          referral_made=True, referred_to="",
                                          recorded_by_id=world.people["manager"].id))
        db.session.flush()
    db.session.rollback()
    assert _records() == 0
