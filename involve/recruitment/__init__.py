"""Recruitment: vacancies, interview panels with service users on them, questions and scoring."""

from __future__ import annotations

from flask import Blueprint

from involve.kernel.domains import Domain, NavLink, home_panel

bp = Blueprint("recruitment", __name__, url_prefix="/recruitment")

NAV = [NavLink("Interview panels", "recruitment.index", "recruitment.index", 40)]


from involve.recruitment import policy, queries, views  # noqa: E402,F401

DOMAIN = Domain("recruitment", bp, order=50, nav=NAV,
                home_panel=home_panel("recruitment/_home_panel.html", queries.home_panel_items))
