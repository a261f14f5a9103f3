"""Feedback: ambassador feedback, comments, the board's answers, briefings, and feedback from
everyone. See views.py for the pages and services.py for every state change."""

from __future__ import annotations

from flask import Blueprint

from involve.kernel.domains import Domain, NavLink, home_panel

bp = Blueprint("feedback", __name__, url_prefix="/feedback")

NAV: list = [
    NavLink("Feedback", "feedback.index", "signed_in", 60),
]


from involve.feedback import blocks, policy, queries, views  # noqa: E402,F401

DOMAIN = Domain("feedback", bp, order=70, nav=NAV,
                home_panel=home_panel("feedback/_home_panel.html", queries.home_panel_items),
                newsletter_blocks=blocks.BLOCKS)
