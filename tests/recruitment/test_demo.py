"""The demo data loads, gives every page something to show, and adds nothing the second time."""

from sqlalchemy import func, select

from involve.extensions import db
from involve.people import demo as people_demo
from involve.people.models import User
from involve.recruitment import demo
from involve.recruitment.models import AnswerScore, AppointmentDecision, Vacancy, VacancyStatus
from involve.recruitment.queries import statistics
from tests.conftest import login


def _counts():
    return [db.session.scalar(select(func.count()).select_from(m))
            for m in (Vacancy, AnswerScore, AppointmentDecision)]


def test_demo_is_idempotent_and_ada_sits_on_the_senior_care_worker_panel(app, client):
    org = people_demo.seed()
    db.session.flush()
    demo.seed(org)
    db.session.commit()
    first = _counts()
    demo.seed(org)
    db.session.commit()
    assert _counts() == first and first[0] == 2 and first[2] == 1
    vacancy = db.session.scalar(select(Vacancy).where(Vacancy.role_title == "Senior care worker"))
    assert vacancy.status is VacancyStatus.interviewing and len(vacancy.candidates) == 2
    assert all(q.answers_agreed for q in vacancy.questions)
    ada = db.session.scalar(select(User).where(User.username == "ada")).person
    assert vacancy.member_for(ada) is not None
    assert statistics(_board_actor(org))[0].percent == 100
    login(client, ada)
    page = client.get("/").get_data(as_text=True)
    assert "Senior care worker" in page and "Chris (candidate A) was appointed." in page
    page = client.get(f"/recruitment/candidates/{vacancy.candidates[1].id}/score")
    assert page.status_code == 200


def _board_actor(org):
    """An organisation-wide board member's view, for the statistics."""
    from involve.people.models import Role
    from involve.permissions import load_actor
    from tests.factories import make_person

    return load_actor(make_person(org, "Board Statistics", roles=[(Role.board, None)],
                                  account=False))
