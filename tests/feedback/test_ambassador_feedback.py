"""Ambassadors (or staff for them) record feedback; safeguarding alerts; the discussion."""

from __future__ import annotations

from sqlalchemy import func, select

from involve.audit import AuditEvent
from involve.extensions import db
from involve.feedback.models import AmbassadorFeedback, FeedbackComment, FeedbackStatus
from tests.conftest import login
from tests.factories import make_ambassador, make_person
from tests.feedback.helpers import make_feedback, theme


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _form(world, **overrides):
    data = {"service_id": world.home.id, "theme_id": theme(world, "Food").id,
            "kind": "suggestion", "what_was_said": "Fish on **Fridays**, please.",
            "people_count": "6", "ambassador_id": world.ambassador.id}
    data.update(overrides)
    return data


def test_ambassador_records_feedback(app, world, client, outbox):
    login(client, world.ambassador)
    response = client.post("/feedback/ambassador/new", data=_form(world))
    assert response.status_code == 302
    item = db.session.scalar(select(AmbassadorFeedback))
    assert item.status == FeedbackStatus.received
    assert item.ambassador_id == item.recorded_by_id == world.ambassador.id
    assert item.people_count == 6 and item.may_name is False and item.said_by == ""
    page = client.get(response.location).get_data(as_text=True)
    assert "<strong>Fridays</strong>" in page and "Anonymous" in page
    assert db.session.scalar(select(AuditEvent.action).where(
        AuditEvent.object_type == "AmbassadorFeedback")) == "feedback.recorded"
    assert outbox == []  # no safeguarding tick, nobody alerted


def test_names_kept_only_when_people_agreed(app, world, client):
    login(client, world.ambassador)
    client.post("/feedback/ambassador/new", data=_form(world, said_by="Mrs Jones"))
    client.post("/feedback/ambassador/new", data=_form(world, said_by="Mr Smith", may_name="y"))
    items = db.session.scalars(select(AmbassadorFeedback).order_by(AmbassadorFeedback.id)).all()
    assert [i.said_by for i in items] == ["", "Mr Smith"]


def test_staff_record_on_an_ambassadors_behalf_audited(app, world, client):
    staff = world.people["staff"]
    login(client, staff)
    response = client.post("/feedback/ambassador/new", data=_form(world))
    assert response.status_code == 302
    item = db.session.scalar(select(AmbassadorFeedback))
    assert item.ambassador_id == world.ambassador.id and item.recorded_by_id == staff.id
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "feedback.recorded_on_behalf"))
    assert event.actor_id == staff.id and event.subject_id == world.ambassador.id
    assert client.get(f"/feedback/ambassador/{item.id}").status_code == 200


def test_an_ambassador_cannot_record_as_someone_else(app, world, client):
    other = make_person(world.org, "Other Amb", roles=[("service_user", world.home)])
    make_ambassador(other, world.home)
    login(client, world.ambassador)
    client.post("/feedback/ambassador/new", data=_form(world, ambassador_id=other.id))
    assert db.session.scalar(select(AmbassadorFeedback.ambassador_id)) == world.ambassador.id


def test_empty_feedback_is_refused_and_nothing_saved(app, world, client):
    login(client, world.ambassador)
    response = client.post("/feedback/ambassador/new", data=_form(world, what_was_said="   "))
    assert response.status_code == 200
    assert "Write down what people said." in response.get_data(as_text=True)
    assert _count(AmbassadorFeedback) == 0


def test_safeguarding_tick_prompts_and_alerts_managers_at_once(app, world, client, smtp_server):
    manager = world.people["manager"]
    login(client, world.ambassador)
    response = client.post("/feedback/ambassador/new",
                           data=_form(world, safeguarding="y", what_was_said="Bruises seen."),
                           follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "tell the manager or the person in charge now" in page
    messages = smtp_server.wait_for(1)
    assert [m["To"] for m in messages] == [manager.user.email]
    assert "Safeguarding" in messages[0]["Subject"]
    assert "Bruises" not in messages[0].as_string()  # a link only: the words stay in Involve
    assert db.session.scalar(select(AuditEvent.id).where(
        AuditEvent.action == "feedback.safeguarding_flagged"))
    # ... and the manager's home page shows it.
    other = app.test_client()
    login(other, manager)
    home = other.get("/").get_data(as_text=True)
    assert "safeguarding" in home.lower() and "/feedback/ambassador/" in home


def test_someone_without_a_term_cannot_record(app, world, client):
    from involve.feedback import services
    from involve.feedback.models import FeedbackError

    try:
        services.record_feedback(service=world.home, theme=theme(world), kind="concern",
                                 what_was_said="x", ambassador=world.people["service_user"],
                                 by=world.people["staff"])
    except FeedbackError as error:
        assert "not an ambassador" in str(error)
    else:
        raise AssertionError("recorded for someone without a term")


def test_comment_and_hide_with_reason_tells_author(app, world, client, outbox):
    item = make_feedback(world)
    db.session.commit()
    login(client, world.ambassador)
    client.post(f"/feedback/ambassador/{item.id}/comments", data={"body": "Rude words here"})
    comment = db.session.scalar(select(FeedbackComment))
    assert comment.author_id == world.ambassador.id

    manager_client = app.test_client()
    login(manager_client, world.people["manager"])
    response = manager_client.post(f"/feedback/comments/{comment.id}/hide",
                                   data={"reason": "Not kind to staff"})
    assert response.status_code == 302
    db.session.refresh(comment)
    assert comment.is_hidden and comment.hidden_reason == "Not kind to staff"
    assert [m["To"] for m in outbox] == [world.ambassador.user.email]
    assert "Not kind to staff" in outbox[0].get_body(("plain",)).get_content()
    page = client.get(f"/feedback/ambassador/{item.id}").get_data(as_text=True)
    assert "Rude words here" not in page and "Not kind to staff" in page
    # Told on their home page too: many ambassadors have no email.
    home = client.get("/").get_data(as_text=True)
    assert "A manager hid a comment you wrote" in home and "Not kind to staff" in home
    assert "A manager hid a comment" not in manager_client.get("/").get_data(as_text=True)
    assert db.session.scalar(select(AuditEvent.details).where(
        AuditEvent.action == "feedback.comment_hidden")) == {"reason": "Not kind to staff"}


def test_hiding_needs_a_reason(app, world, client):
    item = make_feedback(world)
    from involve.feedback import services

    comment = services.add_comment(item, author=world.ambassador, body="Hello")
    db.session.commit()
    login(client, world.people["manager"])
    response = client.post(f"/feedback/comments/{comment.id}/hide", data={"reason": " "})
    assert "Say why you are hiding this comment." in response.get_data(as_text=True)
    db.session.refresh(comment)
    assert not comment.is_hidden


def test_comment_on_an_item_you_cannot_see(app, world, client):
    item = make_feedback(world)
    db.session.commit()
    for person in (world.people["family"], world.outsiders["manager"], world.people["staff"]):
        login(client, person)
        response = client.post(f"/feedback/ambassador/{item.id}/comments",
                               data={"body": "Let me in"})
        assert response.status_code == 403
        assert "You cannot see this page" in response.get_data(as_text=True)
    assert _count(FeedbackComment) == 0


def test_empty_comment_is_refused(app, world, client):
    item = make_feedback(world)
    db.session.commit()
    login(client, world.people["board"])
    response = client.post(f"/feedback/ambassador/{item.id}/comments", data={"body": ""},
                           follow_redirects=True)
    assert "Write your comment before sending it." in response.get_data(as_text=True)
    assert _count(FeedbackComment) == 0


def test_who_reads_ambassador_feedback(app, world, client):
    item = make_feedback(world, said="Mr X has a sore on his foot.")
    db.session.commit()
    expected = {"board": 200, "manager": 200, "family": 403, "partner": 403,
                "service_user": 403, "staff": 403, "admin": 403}
    for role, status in expected.items():
        login(client, world.people[role])
        assert client.get(f"/feedback/ambassador/{item.id}").status_code == status, role
    login(client, world.ambassador)
    assert "sore on his foot" in client.get(f"/feedback/ambassador/{item.id}").get_data(
        as_text=True)
    login(client, world.outsiders["board"])
    assert client.get(f"/feedback/ambassador/{item.id}").status_code == 403


def test_list_shows_only_visible_services(app, world, client):
    away_amb = make_person(world.org, "Away Amb", roles=[("service_user", world.away)])
    make_ambassador(away_amb, world.away)
    make_feedback(world, said="Home feedback")
    make_feedback(world, service=world.away, ambassador=away_amb, said="Away feedback")
    db.session.commit()
    login(client, world.ambassador)
    page = client.get("/feedback/ambassador").get_data(as_text=True)
    assert page.count("/feedback/ambassador/") - page.count("/feedback/ambassador/new") == 1
    assert "Rose Court" in page and "Willow House" not in page
