"""Reminders to send score sheets: once per member per vacancy, by email or on the home page."""

from sqlalchemy import func, select

from involve.audit import AuditEvent
from involve.extensions import db
from involve.people.models import Role
from involve.recruitment import services
from involve.recruitment.models import ReminderChannel, ScoreReminder
from tests.conftest import login
from tests.factories import make_person
from tests.recruitment.helpers import make_panel, ready_pool_member, score_all


def _panel(world):
    """Four service users: one without an account, one with a username only, one with email
    who has not scored, one who sent everything; the staff chair sent everything too."""
    manager = world.people["manager"]
    offline = make_person(world.org, "Edna Paper", roles=[(Role.service_user, world.home)],
                          account=False)
    panel = make_panel(world, first_user=offline, confirm=False)
    by_name = make_person(world.org, "Usha Name", roles=[(Role.service_user, world.home)],
                          username="usha")
    ready_pool_member(world.home, by_name, manager)
    services.add_panel_member(panel.vacancy, by_name, by=manager)
    services.confirm_panel(panel.vacancy, by=manager)
    emailed, done = panel.service_users[1], panel.service_users[2]
    for candidate in panel.candidates:
        score_all(panel, done, candidate, 4)
        score_all(panel, panel.chair, candidate, 3)
    score_all(panel, emailed, panel.candidates[0], 5)  # one of two sent
    db.session.commit()
    return panel, offline, by_name, emailed, done


def _reminders():
    return sorted((r.member.person.full_name, r.channel) for r in
                  db.session.scalars(select(ScoreReminder)))


def test_the_chair_reminds_those_who_have_not_sent_their_scores_once(app, world, client,
                                                                     smtp_server):
    panel, offline, by_name, emailed, done = _panel(world)
    login(client, panel.chair)
    url = f"/recruitment/vacancies/{panel.vacancy.id}"
    assert "Remind those who have not sent their scores" in client.get(url).get_data(
        as_text=True)
    response = client.post(f"{url}/remind", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Each person is reminded once." in page
    assert _reminders() == sorted([
        (offline.full_name, ReminderChannel.in_person),
        (by_name.full_name, ReminderChannel.home),
        (emailed.full_name, ReminderChannel.email)])
    # The one with an email address gets one, over real SMTP, naming the missing candidate only.
    messages = smtp_server.wait_for(1)
    assert [m["To"] for m in messages] == [emailed.user.email]
    body = next(part.get_payload(decode=True).decode() for part in messages[0].walk()
                if part.get_content_type() == "text/plain")
    assert "Alex (candidate B)" in body and "Sam (candidate A)" not in body
    assert f"/recruitment/vacancies/{panel.vacancy.id}#candidates" in body
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "recruitment.score_reminder_sent")) == 3

    # Asking again sends nothing more and records nothing more.
    page = client.post(f"{url}/remind", follow_redirects=True).get_data(as_text=True)
    assert "already been reminded once" in page
    assert len(smtp_server.wait_for(2, timeout=0.5)) == 1
    assert len(_reminders()) == 3

    # The member without email sees a note on their home page, with the candidates to score.
    login(client, by_name)
    home = client.get("/").get_data(as_text=True)
    assert "Please send your scores for:" in home
    assert "Score Sam (candidate A)" in home and "Score Alex (candidate B)" in home
    # Someone who sent everything is not reminded, and sees no note.
    login(client, done)
    assert "Please send your scores for:" not in client.get("/").get_data(as_text=True)


def test_the_database_refuses_a_second_reminder_to_the_same_member(app, world):
    import pytest
    from sqlalchemy.exc import IntegrityError

    panel, offline, *_ = _panel(world)
    member = panel.vacancy.member_for(offline)
    db.session.add(ScoreReminder(member=member, channel=ReminderChannel.in_person))
    db.session.commit()
    db.session.add(ScoreReminder(panel_member_id=member.id, channel=ReminderChannel.home))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_no_reminder_when_everyone_has_sent_or_the_panel_is_not_interviewing(app, world,
                                                                            client):
    panel = make_panel(world, confirm=False)
    db.session.commit()
    login(client, panel.chair)
    url = f"/recruitment/vacancies/{panel.vacancy.id}/remind"
    page = client.post(url, follow_redirects=True).get_data(as_text=True)
    assert "Reminders are for a panel that is interviewing." in page
    services.confirm_panel(panel.vacancy, by=world.people["manager"])
    for person in panel.service_users + [panel.chair]:
        for candidate in panel.candidates:
            score_all(panel, person, candidate, 3)
    db.session.commit()
    page = client.post(url, follow_redirects=True).get_data(as_text=True)
    assert "No one needs a reminder: everyone has sent their scores" in page
    assert _reminders() == []


def test_candidates_not_yet_interviewed_are_not_chased(app, world):
    from datetime import timedelta

    from involve.extensions import utcnow
    from involve.recruitment.queries import missing_sheets

    panel = make_panel(world)
    for candidate in panel.candidates:
        candidate.interview_at = utcnow() + timedelta(days=1)
    db.session.flush()
    assert missing_sheets(panel.vacancy) == {}
