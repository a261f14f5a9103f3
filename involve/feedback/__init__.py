"""Feedback: ambassador feedback, comments, the board's answers, briefings, and feedback from
everyone. See views.py for the pages and services.py for every state change."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from markupsafe import Markup

from involve import NavLink

bp = Blueprint("feedback", __name__, url_prefix="/feedback")

NAV: list = [
    NavLink("Feedback", "feedback.index", "signed_in", 60),
]


def home_panel(actor: Any) -> Markup | None:
    """What needs the person's attention: safeguarding alerts, overdue complaints, the board's
    queue, briefings to share, and answers to what they told us."""
    if not actor.signed_in:
        return None
    from flask import render_template

    from involve.feedback.queries import home_panel_items

    context = home_panel_items(actor)
    if not any(context.values()):
        return None
    return Markup(render_template("feedback/_home_panel.html", **context))


from involve.feedback import policy, views  # noqa: E402,F401
