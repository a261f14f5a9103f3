"""Speak-up concerns that may be about a manager go to the named Freedom to Speak Up guardian
instead: the service's managers (and the board) neither read nor count them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from involve.extensions import db
from involve.feedback import queries, services
from involve.feedback.models import FeedbackError, Submission
from tests.conftest import login
from tests.factories import make_person


def _guardian(world):
    guardian = make_person(world.org, "Grace Guardian", roles=[("staff", world.away)],
                           email="grace@example.org")
    services.save_settings(world.org.id, escalation_route="The Ombudsman.",
                           speak_up_guardian=guardian, by=world.people["admin"])
    db.session.commit()
    return guardian


def _count() -> int:
    return db.session.scalar(select(func.count(Submission.id)))


def test_a_concern_about_a_manager_goes_to_the_guardian_only(app, world, client, outbox):
    guardian = _guardian(world)
    login(client, world.people["staff"])
    page = client.get(f"/feedback/give/{world.home.slug}").get_data(as_text=True)
    assert "Freedom to Speak Up guardian, Grace Guardian, instead" in page
    client.post(f"/feedback/give/{world.home.slug}", data={
        "kind": "speak_up", "theme_id": "0", "body": "The manager shouts at night staff.",
        "to_guardian": "y"})
    concern = db.session.scalar(select(Submission))
    assert concern.guardian_id == guardian.id
    told = [m for m in outbox if m["To"] == "grace@example.org"]
    assert [m["Subject"] for m in told] == ["A freedom to speak up concern for you"]
    assert "shouts" not in told[0].as_string()  # a link, never the words
    assert not [m for m in outbox if m["To"] == world.people["manager"].user.email]
    for person in (world.people["manager"], world.people["board"]):
        login(client, person)
        assert client.get(f"/feedback/submissions/{concern.id}").status_code == 403
        assert concern.reference not in client.get("/feedback/submissions").get_data(
            as_text=True)
        assert client.post(f"/feedback/submissions/{concern.id}/acknowledge").status_code == 403
    summary = queries.complaints_summary(None, date.today() - timedelta(days=1), date.today(),
                                         organisation_id=world.org.id)
    assert summary.total == 0  # not even counted where the managers look
    login(client, guardian)
    listed = client.get("/feedback/guardian").get_data(as_text=True)
    assert concern.reference in listed
    page = client.get(f"/feedback/submissions/{concern.id}").get_data(as_text=True)
    assert "shouts at night staff" in page and "not the managers" in page
    assert client.post(f"/feedback/submissions/{concern.id}/acknowledge").status_code == 302
    login(client, world.people["staff"])  # the person who raised it still sees it
    assert client.get(f"/feedback/submissions/{concern.id}").status_code == 200


def test_without_a_guardian_the_choice_is_refused_clearly(app, world, client):
    login(client, world.people["staff"])
    page = client.get(f"/feedback/give/{world.home.slug}").get_data(as_text=True)
    assert "guardian" not in page.lower()
    response = client.post(f"/feedback/give/{world.home.slug}", data={
        "kind": "speak_up", "theme_id": "0", "body": "About the manager.", "to_guardian": "y"})
    assert "There is no Freedom to Speak Up guardian set up yet." in response.get_data(
        as_text=True)
    assert _count() == 0
    _guardian(world)
    with pytest.raises(FeedbackError, match="Only a freedom to speak up concern"):
        services.submit(service=world.home, kind="complaint", body="x", to_guardian=True)
    assert _count() == 0


def test_the_guardian_is_set_in_the_organisation_settings(app, world, client):
    stranger = make_person(world.org, "No Email", roles=[("staff", world.home)],
                           username="noemail")
    db.session.commit()
    login(client, world.people["admin"])
    page = client.get("/feedback/settings").get_data(as_text=True)
    assert "Freedom to Speak Up guardian" in page
    with pytest.raises(FeedbackError, match="can sign in and has an email address"):
        services.save_settings(world.org.id, escalation_route="x", speak_up_guardian=stranger,
                               by=world.people["admin"])
    db.session.rollback()
    manager = world.people["manager"]
    client.post("/feedback/settings", data={"escalation_route": "The Ombudsman.",
                                            "speak_up_guardian_id": str(manager.id)})
    assert services.settings_for(world.org.id).speak_up_guardian_id == manager.id
    bad = client.post("/feedback/settings", data={"escalation_route": "The Ombudsman.",
                                                  "speak_up_guardian_id": "999999"})
    assert "Please check the form." in bad.get_data(as_text=True)
    assert services.settings_for(world.org.id).speak_up_guardian_id == manager.id
