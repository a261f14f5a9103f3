"""The newsletter block elections offer: results published since the last issue."""

from __future__ import annotations

from involve.elections import queries
from involve.elections.models import Election
from involve.kernel.domains import NewsletterBlock, one_line


def _lines(election: Election) -> list[str]:
    names = ", ".join(p.full_name for p in election.elected_people) or "nobody yet"
    turnout = election.turnout_percent
    turnout_text = f" ({turnout:.0f}% voted)" if turnout is not None else ""
    return [f"- **{one_line(election.title)}:** elected {names}{turnout_text}."]


BLOCKS = (NewsletterBlock("elections", "Election results", "Election results",
                          queries.published_results, _lines, order=30),)
