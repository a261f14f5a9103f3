"""People: the organisation, its services, people, role grants, family links and needs."""

from flask import Blueprint

from involve import NavLink

bp = Blueprint("people", __name__)

NAV = [
    NavLink("People", "people.people_list", "people.view", 80),
    NavLink("Services", "people.services", "services.manage", 85),
    NavLink("Audit log", "people.audit_log", "audit.view", 90),
]

from involve.people import views  # noqa: E402,F401
