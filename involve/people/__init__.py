"""People: the organisation, its services, people, role grants, family links and needs."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from markupsafe import Markup

from involve import NavLink

bp = Blueprint("people", __name__)

NAV = [
    NavLink("People", "people.people_list", "people.view", 80),
    NavLink("Services", "people.services", "services.manage", 85),
    NavLink("Audit log", "people.audit_log", "audit.view", 90),
]


def home_panel(actor: Any) -> Markup | None:
    """For admins and managers: how many people hold each role, and invitations not yet used."""
    from involve.people import queries
    from involve.people.models import ROLE_LABELS, Role

    roles = [Role.admin, Role.manager]
    if not actor.signed_in or not actor.has_role(roles):
        return None
    service_ids = actor.service_ids(roles)  # one service when the switcher chose it
    counts = queries.people_counts(actor.organisation_id, service_ids)
    return Markup(render_template(
        "people/_home_panel.html", counts=[(ROLE_LABELS[r], counts.get(r.value, 0))
                                           for r in Role if counts.get(r.value)],
        pending=queries.pending_invitations(actor.organisation_id, service_ids)))


from involve.people import policy, views  # noqa: E402,F401
