"""Board briefings: posted by directors, shared by ambassadors, answered by people."""

from __future__ import annotations

from sqlalchemy import func, select

from involve.extensions import db
from involve.feedback.models import AmbassadorFeedback, Briefing, BriefingShare
from tests.conftest import login
from tests.feedback.helpers import make_briefing, theme


def test_board_posts_a_briefing_for_a_service(app, world, client):
    login(client, world.people["board"])
    response = client.post("/feedback/briefings/new", data={
        "service_id": world.home.id, "title": "Visiting times", "body": "From **10am**."})
    assert response.status_code == 302
    briefing = db.session.scalar(select(Briefing))
    assert briefing.service_id == world.home.id and briefing.posted_by_id == world.people[
        "board"].id
    login(client, world.ambassador)
    page = client.get(f"/feedback/briefings/{briefing.id}").get_data(as_text=True)
    assert "<strong>10am</strong>" in page and "I have shared this" in page
    assert "Visiting times" in client.get("/").get_data(as_text=True)  # home panel


def test_empty_briefing_is_refused(app, world, client):
    login(client, world.people["board"])
    response = client.post("/feedback/briefings/new", data={
        "service_id": world.home.id, "title": "Visiting times", "body": ""})
    assert "Write the briefing before posting it." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Briefing.id))) == 0


def test_sharing_twice_gets_a_clear_answer(app, world, client):
    briefing = make_briefing(world)
    db.session.commit()
    login(client, world.ambassador)
    first = client.post(f"/feedback/briefings/{briefing.id}/shared", follow_redirects=True)
    assert "Thank you for sharing the briefing." in first.get_data(as_text=True)
    second = client.post(f"/feedback/briefings/{briefing.id}/shared", follow_redirects=True)
    assert "already marked this briefing as shared" in second.get_data(as_text=True)
    assert db.session.scalar(select(func.count(BriefingShare.id))) == 1


def test_the_database_keeps_one_share_per_ambassador(app, world):
    import pytest
    from sqlalchemy.exc import IntegrityError

    briefing = make_briefing(world)
    db.session.add(BriefingShare(briefing_id=briefing.id, ambassador_id=world.ambassador.id))
    db.session.flush()
    db.session.add(BriefingShare(briefing_id=briefing.id, ambassador_id=world.ambassador.id))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_what_people_said_back_becomes_feedback(app, world, client):
    briefing = make_briefing(world)
    db.session.commit()
    login(client, world.ambassador)
    response = client.post(f"/feedback/briefings/{briefing.id}/said-back", data={
        "service_id": world.home.id, "theme_id": theme(world, "Other").id, "kind": "suggestion",
        "what_was_said": "Visits until 9pm at weekends, please.", "people_count": "3"})
    assert response.status_code == 302
    item = db.session.scalar(select(AmbassadorFeedback))
    assert item.briefing_id == briefing.id and item.people_count == 3
    page = client.get(f"/feedback/briefings/{briefing.id}").get_data(as_text=True)
    assert f"/feedback/ambassador/{item.id}" in page


def test_organisation_wide_briefing_reaches_every_ambassador(app, world, client):
    briefing = make_briefing(world, service=None, title="For everyone")
    db.session.commit()
    login(client, world.ambassador)
    assert "For everyone" in client.get("/feedback/briefings").get_data(as_text=True)
    for person in (world.people["family"], world.people["service_user"]):
        login(client, person)
        assert client.get(f"/feedback/briefings/{briefing.id}").status_code == 403
