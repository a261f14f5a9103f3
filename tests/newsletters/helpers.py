"""Factories for newsletter tests."""

from __future__ import annotations

from involve.extensions import db, utcnow
from involve.newsletters.models import Issue, IssueStatus, Subscriber


def make_issue(world, *, service="home", title="Spring news", audiences=("families",),
               body="## Garden\n\nThe tulips are out.\n", status=IssueStatus.draft,
               by=None) -> Issue:
    """An issue of the home service (or ``service=None`` for the organisation)."""
    scope = world.home if service == "home" else (world.away if service == "away" else None)
    issue = Issue(organisation_id=world.org.id, service_id=scope.id if scope else None,
                  title=title, body=body, audiences=list(audiences), status=status,
                  created_by_id=(by or world.people["manager"]).id)
    if status != IssueStatus.draft and status != IssueStatus.scheduled:
        issue.published_at = utcnow()
    db.session.add(issue)
    db.session.flush()
    return issue


def make_subscriber(service, email: str, confirmed: bool = True) -> Subscriber:
    sub = Subscriber(service_id=service.id, email=email, confirmed_at=utcnow() if confirmed
                     else None)
    db.session.add(sub)
    db.session.flush()
    return sub
