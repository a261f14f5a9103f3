"""Background work: telling panels the outcome, and deleting candidates' data on time."""

from __future__ import annotations

from huey import crontab

from involve.extensions import db, huey, with_app_context
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


@periodic_task(crontab(hour="3", minute="20"))
def purge_candidate_data() -> int:
    """Every night: delete candidates' personal data whose retention time has passed."""
    from involve.recruitment.services import purge_expired_candidates

    cleared = purge_expired_candidates()
    db.session.commit()
    return cleared
