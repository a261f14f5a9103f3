"""Background work: telling panels the outcome, and deleting candidates' data on time."""

from __future__ import annotations

from involve.extensions import db, huey, with_app_context
from involve.kernel.clock import crontab
from involve.scheduling import periodic_task


@huey.task()
@with_app_context
def tell_panel_outcome(vacancy_id: int) -> int:
    """Email the service users on a panel the outcome, where they have an email address.

    Everyone on the panel also sees the outcome on their home page. Returns the number sent.
    """
    from involve import mail
    from involve.recruitment.models import Vacancy

    vacancy = db.session.get(Vacancy, vacancy_id)
    if vacancy is None or vacancy.decision is None:
        return 0
    messages = []
    for member in vacancy.service_user_members:
        user = member.person.user
        if user is None or not user.email:
            continue
        messages.append(mail.render_message(
            "recruitment/mail/outcome", to=user.email,
            subject=f"Interviews for {vacancy.role_title}: the outcome",
            member=member, vacancy=vacancy, decision=vacancy.decision))
    if messages:
        mail.send(messages)
    return len(messages)


@huey.task()
@with_app_context
def send_score_reminders(reminder_ids: list[int]) -> int:
    """Email the members reminded by email which candidates still need their scores.

    The reminder rows were committed first, so a reminder is never sent twice. Returns the
    number of emails sent.
    """
    from flask import current_app
    from sqlalchemy import select

    from involve import mail
    from involve.recruitment.models import ReminderChannel, ScoreReminder
    from involve.recruitment.queries import missing_sheets

    reminders = db.session.scalars(select(ScoreReminder).where(
        ScoreReminder.id.in_(reminder_ids),
        ScoreReminder.channel == ReminderChannel.email)).all()
    base = current_app.config["BASE_URL"].rstrip("/")
    messages = []
    for reminder in reminders:
        member, vacancy = reminder.member, reminder.member.vacancy
        candidates = missing_sheets(vacancy).get(member)
        user = member.person.user
        if not candidates or user is None or not user.email:
            continue
        messages.append(mail.render_message(
            "recruitment/mail/reminder", to=user.email,
            subject=f"Interviews for {vacancy.role_title}: please send your scores",
            member=member, vacancy=vacancy, candidates=candidates,
            link=f"{base}/recruitment/vacancies/{vacancy.id}#candidates"))
    if messages:
        mail.send(messages)
    return len(messages)


@periodic_task(crontab(hour="3", minute="20"))
def purge_candidate_data() -> int:
    """Every night: delete candidates' personal data whose retention time has passed."""
    from involve.recruitment.services import purge_expired_candidates

    cleared = purge_expired_candidates()
    db.session.commit()
    return cleared
