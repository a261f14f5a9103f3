"""Background work for meetings: reminders about minutes and overdue actions."""

from __future__ import annotations

from involve.extensions import db
from involve.kernel.clock import crontab
from involve.scheduling import periodic_task, record_then_send


@periodic_task(crontab(hour="8", minute="0"))
def remind_chairs_about_minutes() -> int:
    """Each morning, remind chairs whose held meetings still have no drafted minutes."""
    from involve.meetings import services

    sent = services.remind_minutes(send=record_then_send)
    db.session.commit()
    return sent


@periodic_task(crontab(hour="8", minute="15"))
def remind_owners_about_overdue_actions() -> int:
    """Each morning, email owners of overdue actions (each owner at most once a week)."""
    from involve.meetings import services

    sent = services.remind_overdue_actions(send=record_then_send)
    db.session.commit()
    return sent
