"""Permission matrix for the recruitment endpoints."""

import pytest

from involve.extensions import db
from tests.permission_matrix import Case, check_case
from tests.recruitment.helpers import make_panel


def panel(world):
    built = make_panel(world)
    db.session.commit()
    return built


def vid(w, c):
    return c.vacancy.id


PANEL = {"manager", "staff", "service_user"}
RUNS = {"manager", "staff"}  # the staff member chairs

CASES = [
    Case("recruitment.index", lambda w, c: "/recruitment/", {"manager", "staff"}, away="allow"),
    Case("recruitment.new_vacancy", lambda w, c: "/recruitment/vacancies/new", {"manager"},
         away="allow"),
    Case("recruitment.vacancy", lambda w, c: f"/recruitment/vacancies/{vid(w, c)}", PANEL,
         setup=panel),
    Case("recruitment.edit_vacancy", lambda w, c: f"/recruitment/vacancies/{vid(w, c)}/edit",
         {"manager"}, setup=panel),
    Case("recruitment.add_member", lambda w, c: f"/recruitment/vacancies/{vid(w, c)}/members",
         {"manager"}, method="POST", setup=panel,
         data=lambda w, c: {"person_id": w.people["manager"].id}),
    Case("recruitment.remove_member",
         lambda w, c: f"/recruitment/members/{c.member(c.service_users[1]).id}/remove",
         {"manager"}, method="POST", setup=panel),
    Case("recruitment.set_chair", lambda w, c: f"/recruitment/vacancies/{vid(w, c)}/chair",
         {"manager"}, method="POST", setup=panel,
         data=lambda w, c: {"chair_id": w.people["staff"].id}),
    Case("recruitment.confirm_panel", lambda w, c: f"/recruitment/vacancies/{vid(w, c)}/confirm",
         {"manager"}, method="POST", setup=panel),
    Case("recruitment.add_candidate",
         lambda w, c: f"/recruitment/vacancies/{vid(w, c)}/candidates", {"manager"},
         method="POST", setup=panel, data={"first_name": "Lee"}),
    Case("recruitment.edit_candidate",
         lambda w, c: f"/recruitment/candidates/{c.candidates[0].id}", {"manager"}, setup=panel),
    Case("recruitment.questions",
         lambda w, c: f"/recruitment/services/{w.home.id}/questions", PANEL, setup=panel),
    Case("recruitment.choose_question",
         lambda w, c: f"/recruitment/vacancies/{vid(w, c)}/questions", RUNS, method="POST",
         setup=panel, data={"question_id": "0"}),
    Case("recruitment.agree_answers",
         lambda w, c: f"/recruitment/interview-questions/{c.questions[0].id}", RUNS,
         setup=panel),
    Case("recruitment.score",
         lambda w, c: f"/recruitment/candidates/{c.candidates[0].id}/score",
         {"staff", "service_user"}, setup=panel),
    Case("recruitment.enter_paper_sheet",
         lambda w, c: f"/recruitment/candidates/{c.candidates[0].id}/paper"
                      f"?member={c.member(c.service_users[1]).id}", RUNS, setup=panel),
    Case("recruitment.replace_member",
         lambda w, c: f"/recruitment/vacancies/{vid(w, c)}/replace", {"manager"}, method="POST",
         setup=panel, data={"leaving_id": "0", "replacement_id": "0"}),
    Case("recruitment.remind", lambda w, c: f"/recruitment/vacancies/{vid(w, c)}/remind", RUNS,
         method="POST", setup=panel),
    Case("recruitment.interview_sheet",
         lambda w, c: f"/recruitment/members/{c.member(w.people['service_user']).id}/sheet",
         PANEL, setup=panel),
    Case("recruitment.compare", lambda w, c: f"/recruitment/vacancies/{vid(w, c)}/compare", RUNS,
         setup=panel),
    Case("recruitment.decision", lambda w, c: f"/recruitment/vacancies/{vid(w, c)}/decision",
         RUNS, setup=panel),
    Case("recruitment.pool", lambda w, c: "/recruitment/pool", {"manager"}, away="allow"),
    Case("recruitment.recognition",
         lambda w, c: f"/recruitment/people/{w.people['service_user'].id}/recognition",
         {"manager", "service_user"}),
    Case("recruitment.add_recognition",
         lambda w, c: f"/recruitment/people/{w.people['service_user'].id}/recognition",
         {"manager"}, method="POST", data={"hours": "0"}),
    Case("recruitment.statistics", lambda w, c: "/recruitment/statistics", {"manager", "board"},
         away="allow"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.endpoint)
def test_matrix(app, world, case):
    check_case(app.test_client, world, case)
