"""The newsletter blocks meetings offer: "you said, we did", recent minutes, coming meetings."""

from __future__ import annotations

from datetime import timedelta

from involve.kernel import clock
from involve.kernel.domains import NewsletterBlock, one_line
from involve.meetings import queries
from involve.meetings.models import Action, Meeting


def _action_lines(action: Action) -> list[str]:
    return [f"- **You said:** {one_line(action.you_said)}  ",
            f"  **We did:** {one_line(action.we_did or action.we_will)}"]


def _minutes_lines(meeting: Meeting) -> list[str]:
    summary = one_line(meeting.easy_read_summary) or "The minutes are ready to read."
    return [f"- **{meeting.title}, {clock.format_local(meeting.starts_at, '%-d %B %Y')}:** "
            f"{summary}"]


def _coming_lines(meeting: Meeting) -> list[str]:
    where = f", {meeting.room}" if meeting.room else ""
    return [f"- **{meeting.title}:** {clock.format_local(meeting.starts_at)}{where}"]


BLOCKS = (
    NewsletterBlock("you_said_we_did", "You said, we did (actions done since the last issue)",
                    "You said, we did", queries.done_actions, _action_lines, order=10),
    NewsletterBlock("minutes", "Summaries of recent minutes", "From the minutes",
                    queries.recent_published_minutes, _minutes_lines, order=20),
    NewsletterBlock("meetings", "Meetings coming up", "Coming up", queries.upcoming_meetings,
                    _coming_lines, order=40, ahead=timedelta(days=60)),
)
