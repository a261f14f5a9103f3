"""Newsletters: see views.py for the pages and services.py for every state change."""

from __future__ import annotations

from flask import Blueprint

from involve.kernel.domains import Domain, NavLink, home_panel

bp = Blueprint("newsletters", __name__, url_prefix="/newsletters")

NAV = [NavLink("Newsletters", "newsletters.index", "newsletters.browse", 60)]


from involve.newsletters import policy, queries, views  # noqa: E402,F401

DOMAIN = Domain("newsletters", bp, order=60, nav=NAV,
                home_panel=home_panel("newsletters/_home_panel.html", queries.home_panel_items))
