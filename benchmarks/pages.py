"""Key pages under load (placeholder: filled in below)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


@dataclass(frozen=True)
class Page:
    """A key page: its name, its path, and who is signed in to see it (None: nobody)."""

    name: str
    path: str
    sign_in: str | None


def discover_pages(app) -> list[Page]:
    """The key pages of the demo organisation, found in its database."""
    from sqlalchemy import select

    from involve.elections.models import Election, Status
    from involve.extensions import db
    from involve.meetings.models import Meeting
    from involve.newsletters.models import Issue, IssueStatus
    from involve.people.models import Organisation, Service

    with app.app_context():
        org = db.session.scalar(select(Organisation).where(Organisation.name == "Brookfield Care"))
        rose = db.session.scalar(select(Service).where(Service.slug == "rose-court"))
        meeting = db.session.scalar(select(Meeting).where(Meeting.service_id == rose.id)
                                    .order_by(Meeting.starts_at.desc()))
        ballot = db.session.scalar(select(Election).where(
            Election.organisation_id == org.id, Election.service_id.is_(None),
            Election.status == Status.voting_open))
        issue = db.session.scalar(select(Issue).where(
            Issue.organisation_id == org.id, Issue.status == IssueStatus.published,
            Issue.audiences.contains("families")).order_by(Issue.id))
        org_id, meeting_id, ballot_id, issue_id = org.id, meeting.id, ballot.id, issue.id
    roles = [("admin", "admin@brookfield.example"), ("manager", "manager@brookfield.example"),
             ("staff", "staff@brookfield.example"), ("board", "board@brookfield.example"),
             ("family", "family@brookfield.example"), ("partner", "partner@brookfield.example"),
             ("ada", "ada")]
    pages = [Page(f"home ({role})", "/", who) for role, who in roles]
    pages += [
        Page("a meeting", f"/meetings/{meeting_id}", "manager@brookfield.example"),
        Page("a ballot", f"/elections/{ballot_id}/ballot", "ada"),
        Page("a newsletter issue", f"/newsletters/issues/{issue_id}", "family@brookfield.example"),
        Page("board feedback queue", "/feedback/board", "board@brookfield.example"),
        Page("people list", "/people", "admin@brookfield.example"),
        Page("election roll", f"/elections/{ballot_id}/roll", "admin@brookfield.example"),
        Page("public archive", f"/newsletters/organisations/{org_id}", None),
    ]
    return pages
