"""Blocks an editor can insert: the platform's own news, written out as a Markdown section.

Each domain registers the blocks it offers (``newsletter_blocks`` on its
:class:`~involve.kernel.domains.Domain`); newsletters only choose the time since the last
issue and write the section. A block that fails raises: it is not hidden as "nothing yet".
"""

from __future__ import annotations

from datetime import datetime, timedelta

from involve.extensions import utcnow
from involve.kernel import domains
from involve.kernel.domains import BlockScope, NewsletterBlock
from involve.newsletters.models import Issue

DEFAULT_LOOKBACK = timedelta(days=90)


def since_last_issue(issue: Issue) -> datetime:
    """When the previous issue of the same scope came out (or 90 days ago)."""
    from involve.newsletters.queries import last_published

    previous = last_published(issue)
    if previous is not None and previous.published_at is not None:
        return previous.published_at
    return utcnow() - DEFAULT_LOOKBACK


def available() -> dict[str, NewsletterBlock]:
    """The blocks the domains offer, by key, in their order."""
    return domains.newsletter_blocks()


def render_block(issue: Issue, kind: str) -> str:
    """The Markdown section for one kind of block."""
    scope = BlockScope(service_id=issue.service_id, organisation_id=issue.organisation_id,
                       since=since_last_issue(issue), now=utcnow())
    return available()[kind].render(scope)
