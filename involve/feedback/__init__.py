"""Feedback: ambassador feedback, comments, the board's answers, briefings, and feedback from
everyone. See views.py for the pages and services.py for every state change."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from markupsafe import Markup

from involve import NavLink

bp = Blueprint("feedback", __name__, url_prefix="/feedback")

NAV: list = [
    NavLink("Feedback", "feedback.index", "signed_in", 60),
]


def home_panel(actor: Any) -> Markup | None:
    """What needs the person's attention: safeguarding alerts, overdue complaints, the board's
    queue, briefings to share, and answers to what they told us."""
    if not actor.signed_in:
        return None
    from flask import render_template
    from sqlalchemy import func, select
    from sqlalchemy.orm import selectinload

    from involve.extensions import db
    from involve.feedback import queries
    from involve.feedback.models import AmbassadorFeedback, Submission, SubmissionStatus
    from involve.people.models import Role

    context: dict[str, Any] = {}
    managed = actor.service_ids([Role.manager])
    if managed is None or managed:
        context["safeguarding"] = list(db.session.scalars(
            select(AmbassadorFeedback).where(
                AmbassadorFeedback.safeguarding.is_(True),
                AmbassadorFeedback.status.in_(queries.OPEN),
                True if managed is None else AmbassadorFeedback.service_id.in_(managed))
            .options(selectinload(AmbassadorFeedback.service),
                     selectinload(AmbassadorFeedback.theme))
            .order_by(AmbassadorFeedback.received_at.desc()).limit(5)))
        context["overdue"] = queries.overdue_submissions(managed)
        context["to_acknowledge"] = db.session.scalar(
            select(func.count(Submission.id)).where(
                Submission.status == SubmissionStatus.received,
                True if managed is None else Submission.service_id.in_(managed)))
    board = actor.service_ids([Role.board])
    if board is None or board:
        context["board_open"] = db.session.scalar(
            select(func.count(AmbassadorFeedback.id)).where(
                AmbassadorFeedback.status.in_(queries.OPEN),
                True if board is None else AmbassadorFeedback.service_id.in_(board)))
    if actor.terms:
        context["briefings"] = queries.unshared_briefings(actor)[:3]
        context["answered"] = list(db.session.scalars(
            select(AmbassadorFeedback).where(AmbassadorFeedback.ambassador_id == actor.person_id,
                                             AmbassadorFeedback.answered_at.is_not(None))
            .options(selectinload(AmbassadorFeedback.theme))
            .order_by(AmbassadorFeedback.answered_at.desc()).limit(3)))
    context["mine"] = [s for s in queries.my_submissions(actor.person_id)
                       if s.status == SubmissionStatus.answered][:3]
    if not any(context.values()):
        return None
    return Markup(render_template("feedback/_home_panel.html", **context))


from involve.feedback import views  # noqa: E402,F401
