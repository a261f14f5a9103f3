"""Meetings: series, agendas people shape, attendance, minutes and "you said, we did".

See views.py for the pages and services.py for every state change.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from markupsafe import Markup

from involve import NavLink

bp = Blueprint("meetings", __name__, url_prefix="/meetings")

NAV = [NavLink("Meetings", "meetings.index", "meetings.list", 30)]


def home_panel(actor: Any) -> Markup | None:
    """Coming meetings, minutes to write, suggestions to decide and overdue actions."""
    from flask import render_template

    from involve.meetings import queries
    from involve.people.models import Role

    if not actor.signed_in:
        return None
    person_id = actor.person_id
    managed = actor.service_ids([Role.manager, Role.admin])
    everywhere = managed is None
    context = {
        "upcoming": queries.my_upcoming(person_id),
        "to_draft": queries.minutes_to_draft(person_id),
        "waiting": queries.suggestions_waiting(person_id, managed,
                                               organisation_id=actor.organisation_id)
        if (everywhere or managed or actor.has_role([Role.staff])) else [],
        "my_overdue": queries.overdue_actions(owner_id=person_id),
        "team_overdue": [a for a in queries.overdue_actions(
            service_ids=managed or set(),
            everywhere_in=actor.organisation_id if everywhere else None)
            if a.owner_id != person_id]
        if (everywhere or managed) else [],
        "my_suggestions": queries.my_suggestions(person_id),
    }
    if not any(context.values()):
        return None
    return Markup(render_template("meetings/_home_panel.html", **context))


from involve.meetings import policy, views  # noqa: E402,F401
