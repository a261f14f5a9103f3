"""Background work for meetings: reminders about minutes and overdue actions."""

from __future__ import annotations

from huey import crontab

from involve.extensions import db, huey, with_app_context


@huey.periodic_task(crontab(hour="8", minute="0"))
@with_app_context
def remind_chairs_about_minutes() -> int:
    """Each morning, remind chairs whose held meetings still have no drafted minutes."""
    from involve.meetings import services

    sent = services.remind_minutes()
    db.session.commit()
    return sent


@huey.periodic_task(crontab(hour="8", minute="15"))
@with_app_context
def remind_owners_about_overdue_actions() -> int:
    """Each morning, email owners of overdue actions (each owner at most once a week)."""
    from involve.meetings import services

    sent = services.remind_overdue_actions()
    db.session.commit()
    return sent
