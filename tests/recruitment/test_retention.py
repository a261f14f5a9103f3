"""Candidates' personal data is deleted a set time after the vacancy closes; scores stay."""

from datetime import timedelta

from sqlalchemy import select

from involve.audit import AuditEvent
from involve.extensions import db, utcnow
from involve.recruitment import services
from involve.recruitment.models import AnswerScore, JobCandidate
from involve.recruitment.queries import statistics
from involve.recruitment.tasks import purge_candidate_data
from tests.conftest import login
from tests.recruitment.helpers import make_panel, score_all


def _closed(world, days_ago):
    panel = make_panel(world)
    for person in panel.service_users:
        score_all(panel, person, panel.candidates[0], 5)
    services.save_scores(panel.candidates[0], by=world.people["staff"], submit=True,
                         answers={q.id: (4, "Spoke about Sam's last job") for q in panel.questions})
    services.record_decision(panel.vacancy, appointed=panel.candidates[0], reasons="Best",
                             service_user_views="Counted fully", by=world.people["staff"])
    panel.vacancy.closed_at = utcnow() - timedelta(days=days_ago)
    db.session.commit()
    return panel


def test_the_command_deletes_personal_data_after_180_days(app, world):
    old = _closed(world, 181)
    recent = _closed(world, 10)
    result = app.test_cli_runner().invoke(args=["recruitment", "purge"])
    assert result.exit_code == 0, result.output
    assert "Deleted the personal data of 2 candidate(s)" in result.output
    db.session.expire_all()
    for candidate in old.vacancy.candidates:
        assert (candidate.first_name, candidate.last_name, candidate.email, candidate.phone) == \
            ("", "", None, None)
        assert candidate.personal_data_deleted_at is not None
        assert candidate.panel_name == f"Candidate {candidate.code}"
    assert recent.candidates[0].email == "candidate0@applicant.example"
    # Scores stay, without comments that could name someone; the statistics still work.
    scores = db.session.scalars(select(AnswerScore).join(AnswerScore.sheet).where(
        AnswerScore.sheet.has(candidate_id=old.candidates[0].id))).all()
    assert scores and {s.comment for s in scores} == {""}
    assert statistics(_board_actor(world.org))[0].choice_appointed == 2
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "recruitment.candidate_data_deleted")).all()
    assert sorted(e.object_id for e in events) == sorted(c.id for c in old.candidates)
    # Running again deletes nothing more.
    result = app.test_cli_runner().invoke(args=["recruitment", "purge"])
    assert "Deleted the personal data of 0 candidate(s)" in result.output


def test_the_retention_time_comes_from_the_configuration(app, world):
    panel = _closed(world, 40)
    app.config["RECRUITMENT_RETENTION_DAYS"] = 30
    try:
        purge_candidate_data()  # the periodic task, run at once in tests
    finally:
        app.config.pop("RECRUITMENT_RETENTION_DAYS")
    db.session.expire_all()
    assert db.session.get(JobCandidate, panel.candidates[0].id).email is None


def test_open_vacancies_are_never_purged(app, world):
    panel = make_panel(world)
    db.session.commit()
    assert services.purge_expired_candidates(days=0) == 0
    assert panel.candidates[0].first_name == "Sam"


def _board_actor(org):
    """An organisation-wide board member's view, for the statistics."""
    from involve.people.models import Role
    from involve.permissions import load_actor
    from tests.factories import make_person

    return load_actor(make_person(org, "Board Statistics", roles=[(Role.board, None)],
                                  account=False))


def test_the_purge_blanks_the_decisions_free_text_that_may_name_candidates(app, world, client):
    old = _closed(world, 181)
    old.vacancy.decision.reasons = "Sam Applicant answered best"
    old.vacancy.decision.service_user_views = "Everyone liked Sam"
    recent = _closed(world, 10)
    db.session.commit()
    services.purge_expired_candidates()
    db.session.commit()
    db.session.expire_all()
    assert (old.vacancy.decision.reasons, old.vacancy.decision.service_user_views) == ("", "")
    assert old.vacancy.decision.service_users_choice_appointed is True  # the statistics stay
    assert recent.vacancy.decision.reasons == "Best"
    login(client, world.people["service_user"])
    page = client.get(f"/recruitment/vacancies/{old.vacancy.id}").get_data(as_text=True)
    assert "Sam" not in page and "Deleted with the candidates' personal data on" in page
