"""Elections: see views.py for the pages and services.py for every state change."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from markupsafe import Markup

from involve import NavLink

bp = Blueprint("elections", __name__, url_prefix="/elections")

NAV = [NavLink("Elections", "elections.index", "elections.view", 20)]


def home_panel(actor: Any) -> Markup | None:
    """Elections open to this person now, and results published lately."""
    if not actor.signed_in:
        return None
    from flask import render_template

    from involve.elections.queries import home_elections

    items = home_elections(actor)
    if not any(items.values()):
        return None
    return Markup(render_template("elections/_home_panel.html", **items))


from involve.elections import policy, views  # noqa: E402,F401
