"""Meetings: series, agendas people shape, attendance, minutes and "you said, we did".

See views.py for the pages and services.py for every state change.
"""

from __future__ import annotations

from flask import Blueprint

from involve.kernel.domains import Domain, NavLink, home_panel

bp = Blueprint("meetings", __name__, url_prefix="/meetings")

NAV = [NavLink("Meetings", "meetings.index", "meetings.list", 30)]


from involve.meetings import blocks, policy, queries, views  # noqa: E402,F401

DOMAIN = Domain("meetings", bp, order=40, nav=NAV,
                home_panel=home_panel("meetings/_home_panel.html", queries.home_panel_items),
                newsletter_blocks=blocks.BLOCKS)
