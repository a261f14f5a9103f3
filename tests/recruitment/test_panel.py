"""Building a panel: the pool, staff, three or four service users and a chair; candidates."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from involve.extensions import db
from involve.people.models import Role
from involve.recruitment import services
from involve.recruitment.models import (
    JobCandidate,
    MemberKind,
    PanelMember,
    Scale,
    Vacancy,
    VacancyStatus,
)
from tests.conftest import login
from tests.factories import make_person
from tests.recruitment.helpers import make_panel, ready_pool_member


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_manager_opens_a_vacancy_and_builds_a_panel_through_the_pages(app, world, client):
    manager = world.people["manager"]
    login(client, manager)
    response = client.post("/recruitment/vacancies/new", data={
        "service_id": world.home.id, "role_title": "Night care worker", "description": "Nights",
        "closing_date": "2026-12-01", "interview_dates": "Monday"}, follow_redirects=True)
    assert "Now build its panel" in response.get_data(as_text=True)
    vacancy = db.session.scalar(select(Vacancy))
    assert vacancy.service_id == world.home.id and vacancy.status is VacancyStatus.open

    users = [world.people["service_user"]] + [
        make_person(world.org, f"User {i}", roles=[(Role.service_user, world.home)])
        for i in range(2)]
    for person in users:
        ready_pool_member(world.home, person, manager, simple=person is users[0])
    db.session.commit()
    for person in users + [world.people["staff"]]:
        response = client.post(f"/recruitment/vacancies/{vacancy.id}/members",
                               data={"person_id": person.id, "shortlists": "y",
                                     "interviews": "y"}, follow_redirects=True)
        assert "is on the panel" in response.get_data(as_text=True)
    # The member who prefers it scores on the simple scale.
    assert vacancy.member_for(users[0]).scale is Scale.three
    assert vacancy.member_for(world.people["staff"]).kind is MemberKind.staff

    response = client.post(f"/recruitment/vacancies/{vacancy.id}/confirm", follow_redirects=True)
    assert "Choose a chair before confirming" in response.get_data(as_text=True)
    client.post(f"/recruitment/vacancies/{vacancy.id}/chair",
                data={"chair_id": world.people["staff"].id})
    response = client.post(f"/recruitment/vacancies/{vacancy.id}/confirm", follow_redirects=True)
    assert "The panel is confirmed" in response.get_data(as_text=True)
    db.session.refresh(vacancy)
    assert vacancy.status is VacancyStatus.interviewing
    assert vacancy.chair_id == world.people["staff"].id


def test_confirming_with_two_service_users_is_refused_and_changes_nothing(app, world, client):
    panel = make_panel(world, service_users=2, confirm=False)
    db.session.commit()
    login(client, world.people["manager"])
    response = client.post(f"/recruitment/vacancies/{panel.vacancy.id}/confirm",
                           follow_redirects=True)
    assert "A panel needs three or four service users; this one has 2." in \
        response.get_data(as_text=True)
    db.session.refresh(panel.vacancy)
    assert panel.vacancy.status is VacancyStatus.open
    assert panel.vacancy.panel_confirmed_at is None


def test_a_fifth_service_user_is_refused(app, world):
    panel = make_panel(world, service_users=4, confirm=False)
    extra = make_person(world.org, "Fifth", roles=[(Role.service_user, world.home)])
    ready_pool_member(world.home, extra, world.people["manager"])
    with pytest.raises(services.PanelError, match="at most 4 service users"):
        services.add_panel_member(panel.vacancy, extra, by=world.people["manager"])
    assert len(panel.vacancy.service_user_members) == 4


def test_a_service_user_without_training_cannot_join(app, world, client):
    panel = make_panel(world, confirm=False)
    person = make_person(world.org, "Not Trained", roles=[(Role.service_user, world.home)])
    services.add_pool_member(service=world.home, person=person, training_completed_on=None,
                             confidentiality_signed_on=date.today(), support_needs="",
                             advocate=None, prefers_simple_scale=False, by=world.people["manager"])
    db.session.commit()
    before = _count(PanelMember)
    with pytest.raises(services.PanelError, match="finish the training"):
        services.add_panel_member(panel.vacancy, person, by=world.people["manager"])
    db.session.rollback()
    login(client, world.people["manager"])
    # Not offered on the page, and refused when posted anyway.
    response = client.post(f"/recruitment/vacancies/{panel.vacancy.id}/members",
                           data={"person_id": person.id}, follow_redirects=True)
    assert "Please choose someone from the list" in response.get_data(as_text=True)
    assert _count(PanelMember) == before


def test_people_outside_the_service_cannot_join(app, world):
    panel = make_panel(world, confirm=False)
    with pytest.raises(services.PanelError, match="neither staff"):
        services.add_panel_member(panel.vacancy, world.outsiders["staff"],
                                  by=world.people["manager"])
    with pytest.raises(services.PanelError, match="neither staff"):
        services.add_panel_member(panel.vacancy, world.people["family"],
                                  by=world.people["manager"])


def test_the_chair_must_be_staff_on_the_panel(app, world):
    panel = make_panel(world, confirm=False)
    with pytest.raises(services.PanelError, match="member of staff who sits on this panel"):
        services.set_chair(panel.vacancy, world.people["service_user"],
                           by=world.people["manager"])
    assert panel.vacancy.chair_id == world.people["staff"].id


def test_the_panel_cannot_change_once_confirmed(app, world, client):
    panel = make_panel(world)
    db.session.commit()
    login(client, world.people["manager"])
    member = panel.member(panel.service_users[1])
    response = client.post(f"/recruitment/members/{member.id}/remove", follow_redirects=True)
    assert "already confirmed" in response.get_data(as_text=True)
    assert db.session.get(PanelMember, member.id) is not None


def test_removing_a_member_before_confirming(app, world, client):
    panel = make_panel(world, confirm=False)
    db.session.commit()
    login(client, world.people["manager"])
    member_id = panel.member(panel.service_users[1]).id
    client.post(f"/recruitment/members/{member_id}/remove")
    assert db.session.get(PanelMember, member_id) is None


def test_candidates_get_codes_and_their_told_date_and_slot(app, world, client):
    panel = make_panel(world, candidates=0)
    db.session.commit()
    login(client, world.people["manager"])
    client.post(f"/recruitment/vacancies/{panel.vacancy.id}/candidates", data={
        "first_name": "Robin", "last_name": "Hood", "email": "robin@example.org",
        "told_about_panel_on": date.today().isoformat(), "interview_at": "2026-12-01T10:30"})
    candidate = db.session.scalar(select(JobCandidate))
    assert candidate.code == "A"
    assert candidate.told_about_panel_on == date.today()
    # 10:30 in London in December is 10:30 UTC.
    assert candidate.interview_at == datetime(2026, 12, 1, 10, 30, tzinfo=UTC)
    # The same slot for another candidate is refused, and nothing is added.
    response = client.post(f"/recruitment/vacancies/{panel.vacancy.id}/candidates", data={
        "first_name": "Marian", "interview_at": "2026-12-01T10:30"}, follow_redirects=True)
    assert "already has that interview time" in response.get_data(as_text=True)
    assert _count(JobCandidate) == 1


def test_a_bad_candidate_email_is_refused(app, world, client):
    panel = make_panel(world, candidates=0)
    db.session.commit()
    login(client, world.people["manager"])
    response = client.post(f"/recruitment/vacancies/{panel.vacancy.id}/candidates",
                           data={"first_name": "X", "email": "not-an-email"},
                           follow_redirects=True)
    assert "That email address does not look right." in response.get_data(as_text=True)
    assert _count(JobCandidate) == 0


def test_recording_when_a_candidate_was_told(app, world, client):
    panel = make_panel(world, candidates=0)
    candidate = services.add_candidate(panel.vacancy, first_name="Lee", last_name="", email=None,
                                       phone=None, told_about_panel_on=None, interview_at=None,
                                       by=world.people["manager"])
    db.session.commit()
    login(client, world.people["manager"])
    future = (date.today() + timedelta(days=2)).isoformat()
    response = client.post(f"/recruitment/candidates/{candidate.id}",
                           data={"told_about_panel_on": future}, follow_redirects=True)
    assert "cannot be in the future" in response.get_data(as_text=True)
    db.session.refresh(candidate)
    assert candidate.told_about_panel_on is None
    client.post(f"/recruitment/candidates/{candidate.id}",
                data={"told_about_panel_on": date.today().isoformat()})
    db.session.refresh(candidate)
    assert candidate.told_about_panel_on == date.today()


def test_pool_page_adds_a_service_user(app, world, client):
    login(client, world.people["manager"])
    person = world.people["service_user"]
    response = client.post("/recruitment/pool", data={
        "person_id": person.id, "training_completed_on": "2026-01-10",
        "confidentiality_signed_on": "2026-01-10", "support_needs": "Hearing loop",
        "advocate_id": world.people["partner"].id, "prefers_simple_scale": "y"},
        follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "is in the panel pool" in page and "Hearing loop" in page
    assert world.people["partner"].full_name in page
    # A service user of another service is not offered.
    response = client.post("/recruitment/pool", data={
        "person_id": world.outsiders["service_user"].id, "advocate_id": 0})
    assert response.status_code == 200
    assert "Choose one of the options in the list." in response.get_data(as_text=True)


def test_a_refused_candidate_keeps_what_the_manager_typed(app, world, client):
    panel = make_panel(world, candidates=1)
    services.update_candidate(panel.candidates[0], email=None, phone=None,
                              told_about_panel_on=date.today(),
                              interview_at=datetime(2026, 12, 1, 10, 30, tzinfo=UTC),
                              by=world.people["manager"])
    db.session.commit()
    login(client, world.people["manager"])
    typed = {"first_name": "Marian", "last_name": "Fitzwalter", "email": "marian@example.org",
             "phone": "07700 900123", "told_about_panel_on": date.today().isoformat(),
             "interview_at": "2026-12-01T10:30"}
    for data, message in [
            (typed, "already has that interview time"),
            ({**typed, "email": "marian-at-example"}, "That email address does not look right.")]:
        response = client.post(f"/recruitment/vacancies/{panel.vacancy.id}/candidates",
                               data=data)
        page = response.get_data(as_text=True)
        assert response.status_code == 200 and message in page
        # Everything typed is still in the form, ready to correct and send again.
        for value in ("Fitzwalter", data["email"], "07700 900123", "2026-12-01T10:30"):
            assert f'value="{value}"' in page, value
        assert _count(JobCandidate) == 1


def test_a_new_vacancy_without_a_closing_date_is_refused_and_nothing_is_lost(app, world,
                                                                              client):
    login(client, world.people["manager"])
    response = client.post("/recruitment/vacancies/new", data={
        "service_id": world.home.id, "role_title": "Cook", "description": "Breakfasts",
        "closing_date": "", "interview_dates": "Friday"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Please give the closing date." in page
    assert 'value="Cook"' in page and "Breakfasts" in page and 'value="Friday"' in page
    assert _count(Vacancy) == 0


def test_the_manager_corrects_a_vacancy(app, world, client):
    from involve.audit import AuditEvent

    panel = make_panel(world)
    db.session.commit()
    url = f"/recruitment/vacancies/{panel.vacancy.id}/edit"
    login(client, world.people["manager"])
    assert "Change the vacancy" in client.get(
        f"/recruitment/vacancies/{panel.vacancy.id}").get_data(as_text=True)
    form = client.get(url).get_data(as_text=True)
    assert 'value="Senior care worker"' in form and "Days and some nights." in form
    # Bad input changes nothing, and what was typed stays in the form.
    response = client.post(url, data={"role_title": "  ", "description": "Nights only",
                                      "closing_date": "2026-12-24"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Please give the job a title." in page
    assert "Nights only" in page
    db.session.refresh(panel.vacancy)
    assert panel.vacancy.description == "Days and some nights."
    response = client.post(url, data={"role_title": "Senior carer (nights)",
                                      "description": "Nights only",
                                      "closing_date": "2026-12-24",
                                      "interview_dates": "Monday 4 January"},
                           follow_redirects=True)
    assert "The vacancy is changed." in response.get_data(as_text=True)
    db.session.refresh(panel.vacancy)
    assert (panel.vacancy.role_title, panel.vacancy.closing_date,
            panel.vacancy.service_id) == ("Senior carer (nights)", date(2026, 12, 24),
                                          world.home.id)
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "recruitment.vacancy_updated")) is not None


def test_a_closed_vacancy_cannot_be_changed(app, world):
    panel = make_panel(world)
    services.record_decision(panel.vacancy, appointed=None, reasons="None suitable",
                             service_user_views="They agreed", by=world.people["staff"])
    with pytest.raises(services.RecruitmentError, match="closed"):
        services.update_vacancy(panel.vacancy, role_title="x", description="",
                                closing_date=date.today(), interview_dates="",
                                by=world.people["manager"])
