"""Background work: sending issues, carrying on sends a dead worker left, and publishing
scheduled issues on time."""

from __future__ import annotations

from datetime import timedelta

from involve.extensions import db, huey, utcnow, with_app_context
from involve.kernel.clock import crontab
from involve.scheduling import periodic_task


@huey.task()
@with_app_context
def send_issue(issue_id: int) -> None:
    """Send an issue's queued copies; come back later for copies waiting to be retried."""
    from involve.newsletters import delivery

    outcome = delivery.run(issue_id)
    if huey.immediate:
        return
    if outcome.interrupted:
        send_issue(issue_id)  # the worker is stopping: the next one carries on at once
    elif outcome.retry_in is not None:
        send_issue.schedule((issue_id,), delay=outcome.retry_in.total_seconds())


@huey.task()
@with_app_context
def recover_sends() -> None:
    """Carry on sends that a dead worker left, once its claims have expired."""
    carry_on()


def carry_on() -> list[int]:
    """Start a run for every send that needs one; look again when live claims would expire."""
    from involve.newsletters.delivery import sends_to_carry_on

    due, look_again = sends_to_carry_on()
    for issue_id in due:
        send_issue(issue_id)
    if look_again is not None and not huey.immediate:
        delay = max(look_again - utcnow(), timedelta(0)) + timedelta(seconds=1)
        recover_sends.schedule(delay=delay.total_seconds())
    return due


@periodic_task(crontab(minute="*"))
def publish_scheduled_issues() -> None:
    """Publish the issues whose time has come, and start emailing those that asked for it."""
    from involve.newsletters.models import IssueStatus
    from involve.newsletters.services import publish_due_issues

    published = publish_due_issues()
    db.session.commit()
    for issue in published:
        if issue.status == IssueStatus.sending:
            send_issue(issue.id)


@periodic_task(crontab(minute="*"))
def carry_on_sending() -> None:
    """Every minute: restart sends that a worker's death or restart left behind."""
    carry_on()


@periodic_task(crontab(minute="*/5"))
def read_bounces() -> None:
    """Every five minutes: read the bounce mailbox, where one is set, and suppress the
    addresses that bounced for good."""
    from flask import current_app

    from involve.newsletters.bounces import read_mailbox

    if current_app.config.get("NEWSLETTER_BOUNCE_MAILBOX"):
        read_mailbox()
