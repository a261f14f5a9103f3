"""Factories for feedback tests: real rows made through the services."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from involve.extensions import db
from involve.feedback import services
from involve.feedback.models import AmbassadorFeedback, Briefing, Submission, Theme
from tests.factories import World


def theme(world: World, name: str = "Food") -> Theme:
    themes = {t.name: t for t in services.ensure_default_themes(world.org)}
    return themes[name]


def make_feedback(world: World, *, service=None, theme_name: str = "Food",
                  said: str = "People would like fish on Fridays.", **extra) -> AmbassadorFeedback:
    extra.setdefault("ambassador", world.ambassador)
    extra.setdefault("by", extra["ambassador"])
    item = services.record_feedback(service=service or world.home, theme=theme(world, theme_name),
                                    kind=extra.pop("kind", "suggestion"), what_was_said=said,
                                    **extra)
    db.session.flush()
    return item


def make_briefing(world: World, *, service="home", title: str = "New visiting times",
                  body: str = "Visits from 10am to 8pm.") -> Briefing:
    scope = world.home if service == "home" else service
    return services.post_briefing(org=world.org, service=scope, title=title, body=body,
                                  by=world.people["board"])


def make_submission(world: World, *, kind: str = "complaint", body: str = "Dinner was cold.",
                    days_ago: int = 0, **extra) -> Submission:
    submission = services.submit(service=extra.pop("service", world.home), kind=kind, body=body,
                                 **extra)
    if days_ago:
        from involve.feedback import procedure

        submission.received_at = datetime.now(UTC) - timedelta(days=days_ago)
        if submission.acknowledge_by:
            submission.acknowledge_by, submission.answer_by = procedure.deadlines(
                submission.received_at.date())
    db.session.flush()
    return submission
