"""The question bank, agreed answers, and who asks which question."""

import pytest
from sqlalchemy import select

from involve.extensions import db
from involve.recruitment import services
from involve.recruitment.models import InterviewQuestion, VacancyQuestion
from tests.conftest import login
from tests.recruitment.helpers import make_panel, ready_pool_member, score_all


def test_a_service_user_in_the_pool_writes_their_own_question(app, world, client):
    person = world.people["service_user"]
    ready_pool_member(world.home, person, world.people["manager"])
    db.session.commit()
    login(client, person)
    response = client.post(f"/recruitment/services/{world.home.id}/questions", data={
        "text": "What would you do if I wanted to stay in bed?", "written_by_id": 0},
        follow_redirects=True)
    assert "The question is in the bank" in response.get_data(as_text=True)
    question = db.session.scalar(select(InterviewQuestion))
    assert question.written_by_id == person.id and question.recorded_by_id == person.id


def test_staff_record_a_question_on_someones_behalf(app, world, client):
    person = world.people["service_user"]
    ready_pool_member(world.home, person, world.people["manager"])
    db.session.commit()
    login(client, world.people["staff"])
    client.post(f"/recruitment/services/{world.home.id}/questions", data={
        "text": "Do you like cats?", "written_by_id": person.id})
    question = db.session.scalar(select(InterviewQuestion))
    assert question.written_by_id == person.id
    assert question.recorded_by_id == world.people["staff"].id


def test_an_empty_question_is_refused(app, world, client):
    login(client, world.people["staff"])
    response = client.post(f"/recruitment/services/{world.home.id}/questions",
                           data={"text": "hi", "written_by_id": 0})
    assert "Please write the question in full." in response.get_data(as_text=True)
    assert db.session.scalar(select(InterviewQuestion)) is None


def test_the_chair_agrees_answers_and_who_asks(app, world, client):
    panel = make_panel(world)
    db.session.commit()
    login(client, world.people["staff"])
    chosen = panel.questions[0]
    response = client.post(f"/recruitment/interview-questions/{chosen.id}", data={
        "good_answer": "Asks what I want", "average_answer": "Tells me the rules",
        "poor_answer": "Makes me get up", "asked_by_id": panel.service_users[2].id},
        follow_redirects=True)
    assert "The agreed answers are saved" in response.get_data(as_text=True)
    db.session.refresh(chosen)
    assert chosen.asked_by_id == panel.service_users[2].id
    # Someone off the panel cannot be the one who asks.
    with pytest.raises(services.QuestionError, match="must sit on the panel"):
        services.agree_answers(chosen, good_answer="a", average_answer="b", poor_answer="c",
                               asked_by=world.ambassador, by=world.people["staff"])


def test_questions_are_fixed_once_scoring_starts(app, world, client):
    panel = make_panel(world)
    extra = services.add_question(world.home, text="Why this job?", written_by=None,
                                  by=world.people["manager"])
    score_all(panel, world.people["service_user"], panel.candidates[0], 3, submit=False)
    db.session.commit()
    login(client, world.people["staff"])
    response = client.post(f"/recruitment/vacancies/{panel.vacancy.id}/questions",
                           data={"question_id": extra.id}, follow_redirects=True)
    assert "Scoring has started" in response.get_data(as_text=True)
    assert len(db.session.scalars(select(VacancyQuestion)).all()) == 2


def test_a_question_from_another_services_bank_is_refused(app, world):
    panel = make_panel(world)
    foreign = services.add_question(world.away, text="Away question?", written_by=None,
                                    by=world.outsiders["manager"])
    with pytest.raises(services.QuestionError, match="another service"):
        services.choose_question(panel.vacancy, foreign, by=world.people["manager"])
