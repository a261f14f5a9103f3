"""People: the organisation, its services, people, role grants, family links and needs."""

from __future__ import annotations

from flask import Blueprint

from involve.kernel.domains import Domain, NavLink, home_panel

bp = Blueprint("people", __name__)

NAV = [
    NavLink("People", "people.people_list", "people.view", 80),
    NavLink("Services", "people.services", "services.manage", 85),
    NavLink("Audit log", "people.audit_log", "audit.view", 90),
]


from involve.people import policy, queries, views  # noqa: E402,F401

DOMAIN = Domain("people", bp, order=10, nav=NAV,
                home_panel=home_panel("people/_home_panel.html", queries.home_panel_items))
