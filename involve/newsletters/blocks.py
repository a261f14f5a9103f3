"""Blocks an editor can insert: the platform's own news, written out as a Markdown section.

Each block reads another domain through its agreed query functions, imported inside the
function: while a domain does not exist yet (or lacks the query), the block says "nothing yet"
instead of breaking the editor.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app

from involve.extensions import utcnow
from involve.newsletters.models import Issue

DEFAULT_LOOKBACK = timedelta(days=90)
UPCOMING = timedelta(days=60)
NOTHING_YET = "Nothing yet."


def since_last_issue(issue: Issue) -> datetime:
    """When the previous issue of the same scope came out (or 90 days ago)."""
    from involve.newsletters.queries import last_published

    previous = last_published(issue)
    if previous is not None and previous.published_at is not None:
        return previous.published_at
    return utcnow() - DEFAULT_LOOKBACK


def _when(value: datetime | None) -> str:
    if value is None:
        return ""
    zone = ZoneInfo(current_app.config["ORGANISATION_TIMEZONE"])
    return value.astimezone(zone).strftime("%A %-d %B %Y, %-I:%M%p").replace(
        "AM", "am").replace("PM", "pm")


def _day(value: datetime | None) -> str:
    if value is None:
        return ""
    zone = ZoneInfo(current_app.config["ORGANISATION_TIMEZONE"])
    return value.astimezone(zone).strftime("%-d %B %Y")


def _one_line(text: str | None) -> str:
    # Keep each point on its own list line whatever the source text holds.
    return " ".join((text or "").split())


def _fetch(loader: Callable[[], list]) -> list:
    try:
        return list(loader())
    except (ModuleNotFoundError, ImportError, AttributeError):
        return []


def you_said_we_did(issue: Issue) -> str:
    """Actions done since the last issue: what people said and what was done."""
    def load() -> list:
        from involve.meetings.queries import done_actions

        return done_actions(issue.service_id, since_last_issue(issue),
                            organisation_id=issue.organisation_id)

    actions = _fetch(load)
    lines = ["## You said, we did", ""]
    if not actions:
        return "\n".join([*lines, NOTHING_YET, ""])
    for action in actions:
        lines.append(f"- **You said:** {_one_line(action.you_said)}  ")
        lines.append(f"  **We did:** {_one_line(action.we_did or action.we_will)}")
    return "\n".join([*lines, ""])


def recent_minutes(issue: Issue) -> str:
    """Short summaries of the minutes published since the last issue."""
    def load() -> list:
        from involve.meetings.queries import recent_published_minutes

        return recent_published_minutes(issue.service_id, since_last_issue(issue),
                                        organisation_id=issue.organisation_id)

    meetings = _fetch(load)
    lines = ["## From the minutes", ""]
    if not meetings:
        return "\n".join([*lines, NOTHING_YET, ""])
    for meeting in meetings:
        title = getattr(meeting, "title", "Meeting")
        summary = _one_line(getattr(meeting, "easy_read_summary", "")) or \
            "The minutes are ready to read."
        lines.append(f"- **{title}, {_day(getattr(meeting, 'starts_at', None))}:** {summary}")
    return "\n".join([*lines, ""])


def election_results(issue: Issue) -> str:
    """Results of elections published since the last issue."""
    def load() -> list:
        from involve.elections.queries import published_results

        return published_results(issue.service_id, since_last_issue(issue),
                                 organisation_id=issue.organisation_id)

    elections = _fetch(load)
    lines = ["## Election results", ""]
    if not elections:
        return "\n".join([*lines, NOTHING_YET, ""])
    for election in elections:
        names = ", ".join(p.full_name for p in election.elected_people) or "nobody yet"
        turnout = election.turnout_percent
        turnout_text = f" ({turnout:.0f}% voted)" if turnout is not None else ""
        lines.append(f"- **{_one_line(election.title)}:** elected {names}{turnout_text}.")
    return "\n".join([*lines, ""])


def upcoming(issue: Issue) -> str:
    """Meetings coming up in the next two months."""
    def load() -> list:
        from involve.meetings.queries import upcoming_meetings

        return upcoming_meetings(issue.service_id, utcnow() + UPCOMING,
                                 organisation_id=issue.organisation_id)

    meetings = _fetch(load)
    lines = ["## Coming up", ""]
    if not meetings:
        return "\n".join([*lines, NOTHING_YET, ""])
    for meeting in meetings:
        room = getattr(meeting, "room", "")
        where = f", {room}" if room else ""
        lines.append(f"- **{getattr(meeting, 'title', 'Meeting')}:** "
                     f"{_when(getattr(meeting, 'starts_at', None))}{where}")
    return "\n".join([*lines, ""])


def board_answers(issue: Issue) -> str:
    """What ambassadors carried to the board since the last issue, and the board's answers."""
    def load() -> list:
        from involve.feedback.queries import answered_feedback

        return answered_feedback(issue.service_id, since_last_issue(issue),
                                 organisation_id=issue.organisation_id)

    answered = _fetch(load)
    lines = ["## You asked the board", ""]
    if not answered:
        return "\n".join([*lines, NOTHING_YET, ""])
    for feedback in answered:
        lines.append(f"- **You said:** {_one_line(feedback.what_was_said)}  ")
        lines.append(f"  **The board answered:** {_one_line(feedback.answer)}")
    return "\n".join([*lines, ""])


BLOCKS: dict[str, tuple[str, Callable[[Issue], str]]] = {
    "you_said_we_did": ("You said, we did (actions done since the last issue)", you_said_we_did),
    "minutes": ("Summaries of recent minutes", recent_minutes),
    "elections": ("Election results", election_results),
    "meetings": ("Meetings coming up", upcoming),
    "board_answers": ("The board's answers to ambassadors", board_answers),
}


def render_block(issue: Issue, kind: str) -> str:
    """The Markdown section for one kind of block."""
    return BLOCKS[kind][1](issue)
