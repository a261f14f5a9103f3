"""Background work: sending issues in batches, and publishing scheduled issues on time."""

from __future__ import annotations

from huey import crontab

from involve.extensions import db, huey, with_app_context


@huey.task()
@with_app_context
def send_issue(issue_id: int) -> None:
    """Send an issue's queued copies; come back later for copies waiting to be retried."""
    from involve.newsletters import delivery

    outcome = delivery.run(issue_id)
    if outcome.retry_in is not None and not huey.immediate:
        send_issue.schedule((issue_id,), delay=outcome.retry_in.total_seconds())


@huey.periodic_task(crontab(minute="*"))
@with_app_context
def publish_scheduled_issues() -> None:
    """Publish the issues whose time has come, and start emailing those that asked for it."""
    from involve.newsletters.models import IssueStatus
    from involve.newsletters.services import publish_due_issues

    published = publish_due_issues()
    db.session.commit()
    for issue in published:
        if issue.status == IssueStatus.sending:
            send_issue(issue.id)


@huey.periodic_task(crontab(minute="*/5"))
@with_app_context
def carry_on_sending() -> None:
    """Restart sends that a worker restart left behind, so nobody is forgotten."""
    from involve.newsletters.delivery import stalled_sends

    for issue_id in stalled_sends():
        send_issue(issue_id)
