"""The newsletter block feedback offers: what ambassadors asked the board, and its answers."""

from __future__ import annotations

from involve.feedback import queries
from involve.feedback.models import AmbassadorFeedback
from involve.kernel.domains import NewsletterBlock, one_line


def _lines(feedback: AmbassadorFeedback) -> list[str]:
    return [f"- **You said:** {one_line(feedback.what_was_said)}  ",
            f"  **The board answered:** {one_line(feedback.answer)}"]


BLOCKS = (NewsletterBlock("board_answers", "The board's answers to ambassadors",
                          "You asked the board", queries.answered_feedback, _lines, order=50),)
