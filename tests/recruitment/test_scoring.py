"""Scoring: each member alone, on their own scale; submitted sheets are locked."""

import pytest
from sqlalchemy import func, select

from involve.extensions import db
from involve.recruitment import services
from involve.recruitment.models import AnswerScore, LockedSheetChanged, ScoreSheet
from tests.conftest import login
from tests.recruitment.helpers import make_panel, score_all


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def _form(panel, value, comment="", action="submit"):
    data = {"action": action}
    for q in panel.questions:
        data[f"score_{q.id}"] = str(value)
        data[f"comment_{q.id}"] = comment
    return data


def test_a_service_user_scores_a_candidate_on_the_faces(app, world, client):
    panel = make_panel(world)
    db.session.commit()
    login(client, world.people["service_user"])
    candidate = panel.candidates[0]
    page = client.get(f"/recruitment/candidates/{candidate.id}/score").get_data(as_text=True)
    assert "Very good" in page and 'class="face face-5"' in page
    response = client.post(f"/recruitment/candidates/{candidate.id}/score",
                           data=_form(panel, 4, "Kind to me"), follow_redirects=True)
    assert "Your scores are sent" in response.get_data(as_text=True)
    sheet = db.session.scalar(select(ScoreSheet))
    assert sheet.submitted_at is not None
    assert [(s.value, s.normalised, s.comment) for s in sheet.scores] == [(4, 75, "Kind to me")] * 2


def test_the_simple_scale_is_stored_normalised(app, world, client):
    panel = make_panel(world, simple_for={0})
    db.session.commit()
    login(client, world.people["service_user"])
    page = client.get(f"/recruitment/candidates/{panel.candidates[0].id}/score").get_data(
        as_text=True)
    assert "Not so good" not in page and "Good" in page
    client.post(f"/recruitment/candidates/{panel.candidates[0].id}/score", data=_form(panel, 2))
    assert {(s.scale.value, s.value, s.normalised) for s in
            db.session.scalars(select(AnswerScore))} == {("three", 2, 50)}


def test_saving_for_later_keeps_the_sheet_open(app, world, client):
    panel = make_panel(world)
    db.session.commit()
    login(client, world.people["service_user"])
    data = _form(panel, 3, action="save")
    data[f"score_{panel.questions[1].id}"] = ""
    client.post(f"/recruitment/candidates/{panel.candidates[0].id}/score", data=data)
    sheet = db.session.scalar(select(ScoreSheet))
    assert sheet.submitted_at is None and len(sheet.scores) == 1
    # Sending with a question unscored is refused with a plain message.
    data["action"] = "submit"
    response = client.post(f"/recruitment/candidates/{panel.candidates[0].id}/score", data=data,
                           follow_redirects=True)
    page = response.get_data(as_text=True)
    # It says which question, and marks it on the sheet.
    assert ("Please score every question before you send your scores. Not scored yet: "
            "question 2 (What would you do if question 2?).") in page
    assert page.count("Please choose a face for this question.") >= 1
    assert f'class="card score-question has-error" id="score_{panel.questions[1].id}"' in page
    db.session.refresh(sheet)
    assert sheet.submitted_at is None


@pytest.mark.parametrize("value", ["6", "0", "-1", "five"])
def test_a_score_outside_the_scale_is_refused(app, world, client, value):
    panel = make_panel(world)
    db.session.commit()
    login(client, world.people["service_user"])
    response = client.post(f"/recruitment/candidates/{panel.candidates[0].id}/score",
                           data=_form(panel, value))
    assert response.status_code == 200
    assert "Scores go from 1 to 5. Please choose one of the faces." in \
        response.get_data(as_text=True)
    assert _count(ScoreSheet) == 0 and _count(AnswerScore) == 0


def test_four_on_the_three_point_scale_is_refused(app, world, client):
    panel = make_panel(world, simple_for={0})
    db.session.commit()
    login(client, world.people["service_user"])
    response = client.post(f"/recruitment/candidates/{panel.candidates[0].id}/score",
                           data=_form(panel, 4))
    assert "Scores go from 1 to 3." in response.get_data(as_text=True)
    assert _count(AnswerScore) == 0
    # The service refuses it too, whoever calls it.
    with pytest.raises(services.ScoringError, match="from 1 to 3"):
        score_all(panel, world.people["service_user"], panel.candidates[0], 4)


def test_the_database_refuses_a_score_off_the_scale(app, world):
    panel = make_panel(world)
    sheet = score_all(panel, world.people["service_user"], panel.candidates[0], 3, submit=False)
    db.session.commit()
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        db.session.execute(AnswerScore.__table__.update().where(
            AnswerScore.sheet_id == sheet.id).values(value=9))
        db.session.flush()
    db.session.rollback()


def test_scoring_a_candidate_not_on_your_panel_is_refused(app, world, client):
    mine = make_panel(world)
    other = make_panel(world, first_user=world.ambassador, service_users=3)
    db.session.commit()
    login(client, world.people["service_user"])  # on "mine" only
    url = f"/recruitment/candidates/{other.candidates[0].id}/score"
    assert client.get(url).status_code == 403
    response = client.post(url, data=_form(other, 4))
    assert response.status_code == 403
    assert "You cannot see this page" in response.get_data(as_text=True)
    assert _count(ScoreSheet) == 0
    with pytest.raises(services.NotOnPanel, match="not on the panel"):
        score_all(other, world.people["service_user"], other.candidates[0], 4)
    assert mine.vacancy.id != other.vacancy.id


def test_changing_a_submitted_sheet_is_refused_and_changes_nothing(app, world, client):
    panel = make_panel(world)
    db.session.commit()
    login(client, world.people["service_user"])
    url = f"/recruitment/candidates/{panel.candidates[0].id}/score"
    client.post(url, data=_form(panel, 4, "First"))
    response = client.post(url, data=_form(panel, 1, "Changed my mind"), follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "They are locked and cannot be changed" in page
    assert {(s.value, s.comment) for s in db.session.scalars(select(AnswerScore))} == \
        {(4, "First")}
    with pytest.raises(services.SheetLocked):
        score_all(panel, world.people["service_user"], panel.candidates[0], 2)


def test_the_lock_holds_below_the_service(app, world):
    panel = make_panel(world)
    sheet = score_all(panel, world.people["service_user"], panel.candidates[0], 4)
    db.session.commit()
    sheet.scores[0].value = 1
    with pytest.raises(LockedSheetChanged):
        db.session.flush()
    db.session.rollback()
    sheet = db.session.get(ScoreSheet, sheet.id)
    sheet.submitted_at = None
    with pytest.raises(LockedSheetChanged):
        db.session.flush()
    db.session.rollback()
    assert {s.value for s in db.session.scalars(select(AnswerScore))} == {4}


def test_a_non_panel_member_cannot_open_a_sheet(app, world, client):
    panel = make_panel(world)
    db.session.commit()
    url = f"/recruitment/candidates/{panel.candidates[0].id}/score"
    member = panel.member(world.people["service_user"])
    for outsider in (world.ambassador, world.people["family"], world.people["manager"],
                     world.outsiders["service_user"]):
        login(client, outsider)
        assert client.get(url).status_code == 403
        assert client.post(url, data=_form(panel, 3)).status_code == 403
        sheet_url = f"/recruitment/members/{member.id}/sheet"
        assert client.get(sheet_url).status_code == (200 if outsider is world.people["manager"]
                                                     else 403)
    assert _count(ScoreSheet) == 0


def test_others_scores_are_seen_only_after_sending_your_own(app, world, client):
    panel = make_panel(world)
    candidate = panel.candidates[0]
    score_all(panel, world.people["staff"], candidate, 2)
    db.session.commit()
    login(client, world.people["service_user"])
    url = f"/recruitment/candidates/{candidate.id}/score"
    page = client.get(url).get_data(as_text=True)
    assert world.people["staff"].full_name not in page
    assert "What the others on the panel gave" not in page
    client.post(url, data=_form(panel, 5))
    page = client.get(url).get_data(as_text=True)
    assert "What the others on the panel gave" in page
    assert world.people["staff"].full_name in page and "Not so good (2 of 5)" in page


def test_the_chair_sees_staff_and_service_users_side_by_side(app, world, client):
    panel = make_panel(world)
    candidate = panel.candidates[0]
    for person in panel.service_users:
        score_all(panel, person, candidate, 5)
    services.save_scores(candidate, by=world.people["staff"], submit=True, answers={
        panel.questions[0].id: (1, ""), panel.questions[1].id: (4, "")})
    # A draft is not counted.
    score_all(panel, world.people["staff"], panel.candidates[1], 1, submit=False)
    db.session.commit()
    login(client, world.people["staff"])
    page = client.get(f"/recruitment/vacancies/{panel.vacancy.id}/compare").get_data(as_text=True)
    assert "Sam (candidate A): 4 sheet(s) sent" in page
    assert "Alex (candidate B): 0 sheet(s) sent" in page
    # The key above the tables, and question 1 (staff 1, service users 5).
    assert page.count("Talk about this</span>") == 2
    from involve.recruitment.queries import compare

    rows = compare(panel.vacancy)[0].rows
    assert (rows[0].staff, rows[0].service_users, rows[0].difference, rows[0].differs) == \
        (1.0, 5.0, 4.0, True)
    assert rows[1].differs is False


def test_compare_marks_every_row_past_the_threshold_not_only_the_widest(app, world, client):
    panel = make_panel(world, questions=3)
    candidate = panel.candidates[0]
    q1, q2, q3 = panel.questions
    for person in panel.service_users:
        services.save_scores(candidate, by=person, submit=True, answers={
            q1.id: (5, ""), q2.id: (4, ""), q3.id: (3, "")})
    # Staff: 4 points apart on question 1, 2 on question 2 (past 1.6), 1 on question 3.
    services.save_scores(candidate, by=world.people["staff"], submit=True, answers={
        q1.id: (1, ""), q2.id: (2, ""), q3.id: (2, "")})
    db.session.commit()
    from involve.recruitment.queries import compare

    rows = compare(panel.vacancy)[0].rows
    assert [(r.difference, r.differs) for r in rows] == [(4.0, True), (2.0, True), (1.0, False)]
    login(client, world.people["staff"])
    page = client.get(f"/recruitment/vacancies/{panel.vacancy.id}/compare").get_data(as_text=True)
    assert "1.6 points or more apart" in page
    assert page.count('<tr class="differs">') == 2


def test_scoring_waits_for_the_candidate_to_be_told(app, world):
    panel = make_panel(world)
    candidate = panel.candidates[0]
    candidate.told_about_panel_on = None
    with pytest.raises(services.ScoringError, match="not yet been told"):
        score_all(panel, world.people["service_user"], candidate, 3)


def test_scoring_waits_for_the_panel_to_be_confirmed(app, world):
    panel = make_panel(world, confirm=False)
    with pytest.raises(services.ScoringError, match="only while the panel is interviewing"):
        score_all(panel, world.people["service_user"], panel.candidates[0], 3)


def test_the_chair_sees_every_members_sent_scores_but_no_drafts(app, world, client):
    panel = make_panel(world)
    candidate = panel.candidates[0]
    first, second = panel.service_users[:2]
    services.save_scores(candidate, by=first, submit=True, answers={
        panel.questions[0].id: (5, "Smiled at me"), panel.questions[1].id: (2, "")})
    services.save_scores(candidate, by=second, submit=False, answers={
        panel.questions[0].id: (1, "Draft thought")})
    db.session.commit()
    # The chair has not scored yet, and still sees everything that was sent.
    login(client, panel.chair)
    page = client.get(f"/recruitment/vacancies/{panel.vacancy.id}/compare").get_data(
        as_text=True)
    assert "Each panel member's scores for Sam (candidate A)" in page
    assert first.full_name in page and "Very good (5 of 5)" in page
    assert "Not so good (2 of 5)" in page and "Smiled at me" in page
    sent_table = page.split("Each panel member's scores for Sam (candidate A)")[1].split(
        "Alex (candidate B)")[0]
    assert "Draft thought" not in page and second.full_name not in sent_table
    # Whose sheets are missing is said, drafts or not.
    assert f"<strong>Not sent yet:</strong> {second.full_name}" in page
    # A service user on the panel does not get the chair's view.
    login(client, first)
    assert client.get(f"/recruitment/vacancies/{panel.vacancy.id}/compare").status_code == 403


def test_scoring_waits_until_the_candidate_has_been_interviewed(app, world, client):
    from datetime import timedelta

    from involve.extensions import utcnow

    panel = make_panel(world)
    candidate = panel.candidates[0]
    candidate.interview_at = utcnow() + timedelta(hours=2)
    db.session.commit()
    login(client, world.people["service_user"])
    url = f"/recruitment/candidates/{candidate.id}/score"
    assert "Score the answers after the candidate leaves" in client.get(url).get_data(
        as_text=True)
    response = client.post(url, data=_form(panel, 4, "Too soon"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "has not happened yet. Score the answers after the candidate leaves" in page
    assert "Too soon" in page  # the comment typed is still there
    assert _count(ScoreSheet) == 0
    candidate.interview_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    response = client.post(url, data=_form(panel, 4), follow_redirects=True)
    assert "Your scores are sent" in response.get_data(as_text=True)


def test_the_faces_are_inline_in_colour_each_unlike_the_others_and_labelled_in_words(
        app, world, client):
    import re

    panel = make_panel(world)
    db.session.commit()
    login(client, world.people["service_user"])
    page = client.get(f"/recruitment/candidates/{panel.candidates[0].id}/score").get_data(
        as_text=True)
    sheet = page.split('class="faces faces-5"')[1].split("</div>")[0]
    faces = re.findall(r"<svg .*?</svg>", sheet, re.S)
    assert len(faces) == 5 and len(set(faces)) == 5
    fills = [re.search(r'<circle cx="32" cy="32" r="29" fill="(#[0-9a-f]{6})"', f)[1]
             for f in faces]
    assert len(set(fills)) == 5
    # Each face's drawing (mouth, eyes, brows) differs too, not only its colour.
    shapes = [re.sub(r'fill="#[0-9a-f]{6}"', "", f) for f in faces]
    assert len(set(shapes)) == 5
    words = re.findall(r"</svg>\s*<span>([^<]+)</span>", sheet)
    assert words == ["Poor", "Not so good", "OK", "Good", "Very good"]
    assert all('aria-hidden="true"' in f for f in faces)  # the word beside it is the label
    assert "<img" not in sheet and "http" not in sheet
