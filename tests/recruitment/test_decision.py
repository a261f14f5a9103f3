"""The decision, telling the panel, and how often the service users' choice was appointed."""

import pytest
from sqlalchemy import func, select

from involve.audit import AuditEvent
from involve.extensions import db
from involve.recruitment import services
from involve.recruitment.models import AppointmentDecision, VacancyStatus
from involve.recruitment.queries import statistics
from tests.conftest import login
from tests.recruitment.helpers import make_panel, score_all

VIEWS = "All three service users preferred Sam; we gave their view the same weight as ours."


def _decided(world, panel, appointed):
    services.record_decision(panel.vacancy, appointed=appointed, reasons="Best answers",
                             service_user_views=VIEWS, by=world.people["staff"])


def _scored(world, **kwargs):
    panel = make_panel(world, **kwargs)
    for person in panel.service_users:
        score_all(panel, person, panel.candidates[0], 5)
        score_all(panel, person, panel.candidates[1], 2)
    score_all(panel, world.people["staff"], panel.candidates[0], 3)
    score_all(panel, world.people["staff"], panel.candidates[1], 4)
    return panel


def test_the_chair_records_the_decision_and_the_panel_is_told(app, world, client, smtp_server):
    panel = _scored(world)
    db.session.commit()
    login(client, world.people["staff"])
    url = f"/recruitment/vacancies/{panel.vacancy.id}/decision"
    page = client.get(url).get_data(as_text=True)
    assert "Overall averages" in page
    response = client.post(url, data={"appointed_id": panel.candidates[0].id,
                                      "reasons": "Warm and clear",
                                      "service_user_views": VIEWS}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "The decision is recorded" in page and VIEWS in page
    decision = db.session.scalar(select(AppointmentDecision))
    assert decision.appointed_candidate_id == panel.candidates[0].id
    assert decision.service_users_choice_appointed is True
    db.session.refresh(panel.vacancy)
    assert panel.vacancy.status is VacancyStatus.closed and panel.vacancy.closed_at
    # Service users on the panel with an email address get one; the staff chair does not.
    messages = smtp_server.wait_for(3)
    assert sorted(m["To"] for m in messages) == sorted(
        p.user.email for p in panel.service_users)
    body = next(part.get_payload(decode=True).decode() for part in messages[0].walk()
                if part.get_content_type() == "text/plain")
    assert "Sam (candidate A) was appointed." in body and VIEWS in body
    # And everyone on the panel sees the outcome on their home page.
    login(client, world.people["service_user"])
    assert "Sam (candidate A) was appointed." in client.get("/").get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "recruitment.decision_recorded")) == 1


def test_the_weighing_of_service_users_views_is_required(app, world, client, outbox):
    panel = _scored(world)
    db.session.commit()
    login(client, world.people["staff"])
    response = client.post(f"/recruitment/vacancies/{panel.vacancy.id}/decision", data={
        "appointed_id": panel.candidates[0].id, "reasons": "Warm", "service_user_views": "  "})
    assert response.status_code == 200
    assert "Please record how the service users&#39; views were weighed." in \
        response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(AppointmentDecision)) == 0
    db.session.refresh(panel.vacancy)
    assert panel.vacancy.status is VacancyStatus.interviewing
    assert outbox == []
    with pytest.raises(services.DecisionError, match="how the service users"):
        services.record_decision(panel.vacancy, appointed=None, reasons="x",
                                 service_user_views="", by=world.people["staff"])


def test_a_decision_is_recorded_once(app, world, client):
    panel = _scored(world)
    _decided(world, panel, panel.candidates[0])
    db.session.commit()
    login(client, world.people["manager"])
    response = client.post(f"/recruitment/vacancies/{panel.vacancy.id}/decision", data={
        "appointed_id": panel.candidates[1].id, "reasons": "Changed", "service_user_views": "x"},
        follow_redirects=True)
    assert "already recorded and cannot be changed" in response.get_data(as_text=True)
    assert db.session.scalar(select(AppointmentDecision)).appointed_candidate_id == \
        panel.candidates[0].id


def test_a_candidate_from_another_vacancy_cannot_be_appointed(app, world):
    panel = _scored(world)
    other = make_panel(world, first_user=world.ambassador)
    with pytest.raises(services.DecisionError, match="did not apply"):
        _decided(world, panel, other.candidates[0])


def test_statistics_count_how_often_the_service_users_choice_was_appointed(app, world, client):
    followed = _scored(world)
    _decided(world, followed, followed.candidates[0])  # service users' favourite
    not_followed = _scored(world)
    _decided(world, not_followed, not_followed.candidates[1])  # staff's favourite
    unscored = make_panel(world)
    _decided(world, unscored, None)
    db.session.commit()
    [row] = statistics(_board_actor(world.org))
    assert (row.decisions, row.with_service_user_scores, row.choice_appointed, row.percent) == \
        (3, 2, 1, 50)
    login(client, world.people["board"])
    page = client.get("/recruitment/statistics").get_data(as_text=True)
    assert "50%" in page and world.home.name in page
    login(client, world.outsiders["board"])
    page = client.get("/recruitment/statistics").get_data(as_text=True)
    assert "No decisions recorded yet." in page


def _board_actor(org):
    """An organisation-wide board member's view, for the statistics."""
    from involve.people.models import Role
    from involve.permissions import load_actor
    from tests.factories import make_person

    return load_actor(make_person(org, "Board Statistics", roles=[(Role.board, None)],
                                  account=False))


def test_service_users_on_the_panel_see_the_decision_and_how_their_views_counted(
        app, world, client):
    panel = _scored(world)
    _decided(world, panel, panel.candidates[0])
    db.session.commit()
    login(client, world.people["service_user"])
    page = client.get(f"/recruitment/vacancies/{panel.vacancy.id}").get_data(as_text=True)
    assert '<h2 id="decision">The decision</h2>' in page
    assert "Sam (candidate A) was appointed." in page
    assert "Best answers" in page and VIEWS in page
    home = client.get("/").get_data(as_text=True)
    assert f"/recruitment/vacancies/{panel.vacancy.id}#decision" in home
    # The full decision page stays the chair's and the manager's.
    assert client.get(f"/recruitment/vacancies/{panel.vacancy.id}/decision").status_code == 403


def test_the_decision_form_warns_not_to_name_candidates(app, world, client):
    panel = _scored(world)
    db.session.commit()
    login(client, world.people["staff"])
    page = client.get(f"/recruitment/vacancies/{panel.vacancy.id}/decision").get_data(
        as_text=True)
    assert "Please do not write candidates&#39; names here" in page
    assert 'aria-describedby="reasons-hint"' in page
