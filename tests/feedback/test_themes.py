"""The organisation's list of themes: added, refused when repeated, taken off and brought back."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from involve.audit import AuditEvent
from involve.extensions import db
from involve.feedback import services
from involve.feedback.models import AmbassadorFeedback, FeedbackError, Theme
from tests.conftest import login
from tests.feedback.helpers import theme


def _names() -> list[str]:
    return list(db.session.scalars(select(Theme.name).order_by(Theme.position)))


def test_the_board_adds_a_theme_and_ambassadors_can_use_it(app, world, client):
    theme(world)
    db.session.commit()
    login(client, world.people["board"])
    response = client.post("/feedback/themes", data={"name": "  Gardens  "},
                           follow_redirects=True)
    assert "The theme is added." in response.get_data(as_text=True)
    assert _names()[-1] == "Gardens"
    assert db.session.scalar(select(AuditEvent.action).where(
        AuditEvent.action == "feedback.theme_added")) == "feedback.theme_added"
    login(client, world.ambassador)
    assert ">Gardens</option>" in client.get("/feedback/ambassador/new").get_data(as_text=True)


@pytest.mark.parametrize("name, message", [
    ("", "Give the theme a name."),
    ("Food", "There is already a theme called Food."),
    ("food", "There is already a theme called Food."),
])
def test_an_empty_or_repeated_theme_is_refused_and_nothing_changes(app, world, client, name,
                                                                   message):
    theme(world)
    db.session.commit()
    before = _names()
    login(client, world.people["admin"])
    response = client.post("/feedback/themes", data={"name": name})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page
    assert _names() == before
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "feedback.theme_added")) == 0


def test_a_theme_off_the_list_is_not_offered_and_cannot_be_used(app, world, client):
    food = theme(world)
    db.session.commit()
    login(client, world.people["board"])
    client.post(f"/feedback/themes/{food.id}/archive")
    db.session.refresh(food)
    assert food.archived_at is not None
    login(client, world.ambassador)
    assert ">Food</option>" not in client.get("/feedback/ambassador/new").get_data(as_text=True)
    response = client.post("/feedback/ambassador/new", data={
        "service_id": world.home.id, "theme_id": food.id, "kind": "suggestion",
        "what_was_said": "More fruit.", "people_count": "2", "ambassador_id": world.ambassador.id})
    assert response.status_code == 200
    assert "Choose one of the options in the list." in response.get_data(as_text=True)
    assert "More fruit." in response.get_data(as_text=True)  # what they wrote is kept
    assert db.session.scalar(select(func.count(AmbassadorFeedback.id))) == 0
    with pytest.raises(FeedbackError, match="no longer in use"):
        services.record_feedback(service=world.home, theme=food, kind="suggestion",
                                 what_was_said="More fruit.", ambassador=world.ambassador,
                                 by=world.ambassador)
    login(client, world.people["board"])
    response = client.post(f"/feedback/themes/{food.id}/archive", follow_redirects=True)
    assert "Food is back on the list." in response.get_data(as_text=True)
    db.session.refresh(food)
    assert food.archived_at is None
