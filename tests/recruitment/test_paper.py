"""Paper sheets: a member without an account scores on paper; the chair or a manager types it in."""

import pytest
from sqlalchemy import func, select

from involve.audit import AuditEvent
from involve.extensions import db
from involve.people.models import Role
from involve.recruitment.models import AnswerScore, ScoreSheet
from tests.conftest import login
from tests.factories import make_person
from tests.recruitment.helpers import make_panel, score_all


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def _paper_panel(world, **kwargs):
    """A panel whose first service user has no account: they score on paper."""
    offline = make_person(world.org, "Edna Paper", roles=[(Role.service_user, world.home)],
                          account=False)
    panel = make_panel(world, first_user=offline, **kwargs)
    db.session.commit()
    return panel, panel.member(offline)


def _form(panel, values, comment=""):
    data = {}
    for question, value in zip(panel.questions, values, strict=True):
        data[f"score_{question.id}"] = str(value)
        data[f"comment_{question.id}"] = comment
    return data


def _url(panel, member, candidate=None):
    candidate = candidate or panel.candidates[0]
    return f"/recruitment/candidates/{candidate.id}/paper?member={member.id}"


@pytest.mark.parametrize("who", ["manager", "staff"])  # the staff member chairs
def test_the_manager_or_the_chair_enters_a_paper_sheet(app, world, client, who):
    panel, member = _paper_panel(world)
    login(client, world.people[who])
    # Every member's sheet is reachable from the vacancy page.
    page = client.get(f"/recruitment/vacancies/{panel.vacancy.id}").get_data(as_text=True)
    assert '<h2 id="sheets">Everyone\'s score sheets</h2>' in page
    for candidate in panel.candidates:
        for m in panel.vacancy.scoring_members:
            assert _url(panel, m, candidate).replace("&", "&amp;") in page
    page = client.get(_url(panel, member)).get_data(as_text=True)
    assert "Edna Paper's scores for Sam (candidate A)" in page
    assert 'class="face face-5"' in page and "Comment they wrote (if any)" in page
    response = client.post(_url(panel, member), data=_form(panel, [5, 2], "Said he was kind"),
                           follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "paper sheet for Sam (candidate A) is entered and sent" in page
    sheet = db.session.scalar(select(ScoreSheet))
    assert sheet.panel_member_id == member.id and sheet.is_submitted
    assert sheet.from_paper and sheet.entered_by_id == world.people[who].id
    assert sorted((s.value, s.comment) for s in sheet.scores) == [
        (2, "Said he was kind"), (5, "Said he was kind")]
    assert f"From paper, entered by {world.people[who].full_name}" in page
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "recruitment.scores_entered_from_paper"))
    assert (event.actor_id, event.subject_id, event.object_id) == (
        world.people[who].id, member.person_id, panel.candidates[0].id)
    # The chair's comparison counts it and says where it came from.
    login(client, panel.chair)
    page = client.get(f"/recruitment/vacancies/{panel.vacancy.id}/compare").get_data(
        as_text=True)
    assert "Sam (candidate A): 1 sheet(s) sent" in page
    assert f"from paper, entered by {world.people[who].full_name}" in page


def test_a_paper_sheet_with_a_question_unscored_is_refused_and_says_which(app, world, client):
    panel, member = _paper_panel(world)
    login(client, world.people["manager"])
    data = _form(panel, [4, 4])
    data[f"score_{panel.questions[0].id}"] = ""
    response = client.post(_url(panel, member), data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Not scored yet: question 1 (What would you do if question 1?)." in page
    assert _count(ScoreSheet) == 0 and _count(AnswerScore) == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "recruitment.scores_entered_from_paper")) == 0


@pytest.mark.parametrize("value", ["6", "0", "nine"])
def test_a_paper_score_off_the_scale_is_refused(app, world, client, value):
    panel, member = _paper_panel(world)
    login(client, world.people["manager"])
    response = client.post(_url(panel, member), data=_form(panel, [value, 3]))
    assert "Scores go from 1 to 5. Please choose one of the faces." in \
        response.get_data(as_text=True)
    assert _count(ScoreSheet) == 0


def test_a_sent_sheet_cannot_be_entered_again(app, world, client):
    panel, _member = _paper_panel(world)
    online = panel.service_users[1]
    score_all(panel, online, panel.candidates[0], 3)
    db.session.commit()
    login(client, world.people["manager"])
    response = client.post(_url(panel, panel.member(online)), data=_form(panel, [1, 1]),
                           follow_redirects=True)
    assert "scores for Sam (candidate A) were already sent. They are locked" in \
        response.get_data(as_text=True)
    assert {s.value for s in db.session.scalars(select(AnswerScore))} == {3}


def test_a_paper_sheet_takes_the_place_of_an_unsent_draft(app, world, client):
    panel, _member = _paper_panel(world)
    online = panel.service_users[1]
    score_all(panel, online, panel.candidates[0], 2, submit=False)
    db.session.commit()
    login(client, world.people["manager"])
    url = _url(panel, panel.member(online))
    assert "did not send it. What you enter from paper takes its place." in \
        client.get(url).get_data(as_text=True)
    client.post(url, data=_form(panel, [4, 5]))
    sheet = db.session.scalar(select(ScoreSheet))
    assert sheet.is_submitted and sheet.from_paper
    assert sorted(s.value for s in sheet.scores) == [4, 5]
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "recruitment.scores_entered_from_paper"))
    assert event.details["replaced_draft"] is True


def test_a_member_of_another_panel_is_not_found(app, world, client):
    panel, member = _paper_panel(world)
    other = make_panel(world)
    db.session.commit()
    login(client, world.people["manager"])
    url = f"/recruitment/candidates/{panel.candidates[0].id}/paper?member=" \
          f"{other.member(world.people['service_user']).id}"
    assert client.get(url).status_code == 404
    assert client.post(url, data=_form(panel, [3, 3])).status_code == 404
    assert client.get(f"/recruitment/candidates/{panel.candidates[0].id}/paper").status_code \
        == 404
    assert _count(ScoreSheet) == 0


def test_a_service_user_cannot_enter_someone_elses_sheet(app, world, client):
    panel, member = _paper_panel(world)
    login(client, panel.service_users[1])
    assert client.post(_url(panel, member), data=_form(panel, [5, 5])).status_code == 403
    assert _count(ScoreSheet) == 0
