"""Elections: see views.py for the pages and services.py for every state change."""

from __future__ import annotations

from flask import Blueprint

from involve.kernel.domains import Domain, NavLink, home_panel

bp = Blueprint("elections", __name__, url_prefix="/elections")

NAV = [NavLink("Elections", "elections.index", "elections.view", 20)]


from involve.elections import blocks, policy, queries, views  # noqa: E402,F401

DOMAIN = Domain("elections", bp, order=30, nav=NAV,
                home_panel=home_panel("elections/_home_panel.html", queries.home_elections),
                newsletter_blocks=blocks.BLOCKS)
