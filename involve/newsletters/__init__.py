"""Newsletters: see views.py for the pages and services.py for every state change."""

from __future__ import annotations

from flask import Blueprint
from markupsafe import Markup

from involve import NavLink

bp = Blueprint("newsletters", __name__, url_prefix="/newsletters")

NAV = [NavLink("Newsletters", "newsletters.index", "newsletters.browse", 60)]


def home_panel(actor) -> Markup | None:
    """Paused sends and drafts for managers; the latest issues for every reader."""
    from flask import render_template
    from sqlalchemy import select
    from sqlalchemy.orm import joinedload

    from involve.extensions import db
    from involve.newsletters import queries
    from involve.newsletters.models import Issue, IssueStatus
    from involve.people.models import Role
    from involve.permissions import can, first_allowed

    if not actor.signed_in:
        return None
    paused, drafts = [], []
    if can("newsletters.manage", None, actor):
        service_ids = actor.service_ids([Role.manager, Role.admin])
        organisation = actor.has_role([Role.admin, Role.board], None)
        paused = queries.paused_issues(actor.organisation_id, service_ids, organisation)
        drafts = db.session.scalars(queries.manager_issues_query(actor.organisation_id,
                                                                 service_ids, organisation)
                                    .where(Issue.status == IssueStatus.draft).limit(5)).all()
    recent = (select(Issue).where(Issue.organisation_id == actor.organisation_id,
                                  Issue.status.in_(queries.PUBLISHED))
              .options(joinedload(Issue.service))  # each shows its scope's name
              .order_by(Issue.published_at.desc(), Issue.id.desc()))
    readable = first_allowed(recent, lambda issue: can("newsletters.read", issue, actor), 3)
    if not (paused or drafts or readable):
        return None
    return Markup(render_template("newsletters/_home_panel.html", paused=paused, drafts=drafts,
                                  recent=readable))


from involve.newsletters import policy, views  # noqa: E402,F401
