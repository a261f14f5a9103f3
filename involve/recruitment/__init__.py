"""Recruitment: vacancies, interview panels with service users on them, questions and scoring."""

from __future__ import annotations

from flask import Blueprint
from markupsafe import Markup

from involve import NavLink

bp = Blueprint("recruitment", __name__, url_prefix="/recruitment")

NAV = [NavLink("Interview panels", "recruitment.index", "recruitment.index", 40)]


def home_panel(actor) -> Markup | None:
    """Panels the person sits on, and the outcome of those recently decided."""
    if not actor.signed_in:
        return None
    from flask import render_template

    from involve.recruitment import queries

    memberships = queries.home_memberships(actor.person_id)
    if not memberships:
        return None
    # A reminded member sees which candidates still need their scores, email or not.
    waiting = {m.id: queries.missing_sheets(m.vacancy).get(m, []) for m in memberships
               if m.reminder is not None and m.vacancy.status.value == "interviewing"}
    return Markup(render_template("recruitment/_home_panel.html", memberships=memberships,
                                  waiting=waiting))


from involve.recruitment import policy, views  # noqa: E402,F401
