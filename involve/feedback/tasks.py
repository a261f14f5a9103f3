"""Background work for feedback: alerts and notices by email, and the daily overdue reminder.

Emails carry a link, never the words of the feedback: they may hold health details.
"""

from __future__ import annotations

import re
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, date, datetime
from typing import Any

from flask import current_app, has_request_context

from involve import mail
from involve.extensions import db, huey, with_app_context
from involve.kernel import clock
from involve.kernel.clock import crontab
from involve.people.models import Person, Role
from involve.scheduling import claim, periodic_task, unclaim


def _link(path: str) -> str:
    return current_app.config["BASE_URL"].rstrip("/") + path


def _request_context() -> AbstractContextManager:
    if has_request_context():
        return nullcontext()
    # In the worker there is no request; templates' context processors expect one.
    return current_app.test_request_context(base_url=current_app.config["BASE_URL"])


def _notice(person: Person, subject: str, paragraphs: list[str], link: str, label: str):
    email = person.user.email if person.user else None
    if not email:
        return None  # people without email see it on their home page
    return _message(email, person.display_name, subject, paragraphs, link, label)


def _message(email: str, name: str, subject: str, paragraphs: list[str], link: str, label: str):
    with _request_context():
        return mail.render_message("feedback/mail/notice", to=email, subject=subject,
                                   name=name, paragraphs=paragraphs, link=link,
                                   link_label=label)


def _tell(person: Person, subject: str, paragraphs: list[str], link: str, label: str) -> int:
    """Send one person a notice; returns how many messages went (0 when they have no email)."""
    message = _notice(person, subject, paragraphs, link, label)
    if message is None:
        return 0
    mail.send(message)
    return 1


def _managers(service_id: int) -> list[Person]:
    from involve.people.queries import people_with_role

    return people_with_role(Role.manager, service_id, include_organisation=False)


@huey.task()
@with_app_context
def alert_safeguarding(feedback_id: int) -> int:
    """Tell the service's managers at once that feedback may be a safeguarding matter."""
    from involve.feedback.models import AmbassadorFeedback

    item = db.session.get(AmbassadorFeedback, feedback_id)
    if item is None:
        return 0
    messages = [m for m in (
        _notice(manager, f"Safeguarding: ambassador feedback at {item.service.name}",
                [f"An ambassador has recorded feedback at {item.service.name} that may be a "
                 "safeguarding matter.", "Please read it and act now, following the "
                 "safeguarding procedure."],
                _link(f"/feedback/ambassador/{item.id}"), "Read the feedback")
        for manager in _managers(item.service_id)) if m is not None]
    if messages:
        mail.send(messages)
    return len(messages)


@huey.task()
@with_app_context
def tell_ambassador_answered(feedback_id: int) -> int:
    """Tell the ambassador that the board has answered their feedback."""
    from involve.feedback.models import AmbassadorFeedback

    item = db.session.get(AmbassadorFeedback, feedback_id)
    if item is None:
        return 0
    return _tell(item.ambassador, "The board has answered your feedback",
                 [f"The board has answered the feedback you brought from "
                  f"{item.service.name} about {item.theme.name.lower()}."],
                 _link(f"/feedback/ambassador/{item.id}"), "Read the answer")


@huey.task()
@with_app_context
def tell_comment_hidden(comment_id: int) -> int:
    """Tell a comment's author that a manager has hidden it, and why."""
    from involve.feedback.models import FeedbackComment

    comment = db.session.get(FeedbackComment, comment_id)
    if comment is None or not comment.is_hidden:
        return 0
    return _tell(comment.author, "Your comment has been hidden",
                 ["A manager has hidden a comment you wrote on ambassador feedback.",
                  f"The reason given: {comment.hidden_reason}"],
                 _link(f"/feedback/ambassador/{comment.feedback_id}"), "See the discussion")


EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def reachable_by_email(submission: Any) -> bool:
    """True when whoever gave this feedback can be emailed about it."""
    if submission.anonymous:
        return False
    person = submission.submitter
    if person is not None and person.user and person.user.email:
        return True
    return bool(EMAIL.fullmatch(submission.contact.strip()))


def _tell_giver(submission: Any, subject: str, paragraphs: list[str], label: str) -> int:
    """Tell whoever gave feedback, by the account's email, or else by the email address they
    left for a reply (their link is then the signed status link). Anonymous: nobody to tell."""
    if submission.anonymous:
        return 0
    person = submission.submitter
    if person is not None and person.user and person.user.email:
        message = _message(person.user.email, person.display_name, subject, paragraphs,
                           _link(f"/feedback/submissions/{submission.id}"), label)
    elif EMAIL.fullmatch(submission.contact.strip()):
        from involve.feedback.services import status_token

        message = _message(submission.contact.strip(), submission.name, subject, paragraphs,
                           _link(f"/feedback/status/{status_token(submission)}"), label)
    else:
        return 0  # they see it on their home page, or with their reference code
    mail.send(message)
    return 1


@huey.task()
@with_app_context
def tell_guardian(submission_id: int) -> int:
    """Tell the Freedom to Speak Up guardian that a concern has been sent to them."""
    from involve.feedback.models import Submission

    submission = db.session.get(Submission, submission_id)
    if submission is None or submission.guardian is None:
        return 0
    return _tell(submission.guardian, "A freedom to speak up concern for you",
                 [f"A member of staff at {submission.service.name} has sent you a freedom to "
                  "speak up concern as the guardian. It may be about a manager, so the managers "
                  "do not see it.", f"Its reference is {submission.reference}."],
                 _link(f"/feedback/submissions/{submission.id}"), "Read the concern")


@huey.task()
@with_app_context
def send_receipt(submission_id: int) -> int:
    """A receipt with the reference code, for someone who gave an email address (or signed in
    with one): the code and a link, never the words."""
    from involve.feedback.models import Submission

    submission = db.session.get(Submission, submission_id)
    if submission is None:
        return 0
    paragraphs = [f"Thank you for your {submission.kind.noun} about "
                  f"{submission.service.name}.",
                  f"Your reference code is {submission.reference}. Keep it: with it you can "
                  "read our answer."]
    if submission.is_complaint and submission.acknowledge_by and submission.answer_by:
        paragraphs.append(f"We will acknowledge your complaint by "
                          f"{submission.acknowledge_by:%-d %B %Y} and answer it by "
                          f"{submission.answer_by:%-d %B %Y}.")
    return _tell_giver(submission, f"We have your feedback (reference {submission.reference})",
                       paragraphs, "See where it is")


@huey.task()
@with_app_context
def tell_submitter_acknowledged(submission_id: int) -> int:
    """Tell the person who gave feedback that we have it, and when they will hear back."""
    from involve.feedback.models import Submission

    submission = db.session.get(Submission, submission_id)
    if submission is None:
        return 0
    paragraphs = [f"Thank you for your {submission.kind.noun} about "
                  f"{submission.service.name} (reference {submission.reference}). "
                  "We have it and we are looking into it."]
    if submission.answer_by:
        paragraphs.append(f"We will answer by {submission.answer_by:%-d %B %Y}.")
    return _tell_giver(submission, "We have your feedback", paragraphs, "See where it is")


@huey.task()
@with_app_context
def tell_submitter_answered(submission_id: int) -> int:
    """Tell the person who gave feedback that it has been answered."""
    from involve.feedback.models import Submission

    submission = db.session.get(Submission, submission_id)
    if submission is None:
        return 0
    return _tell_giver(submission, "We have answered your feedback",
                       [f"We have answered what you told us at {submission.service.name} "
                        f"(reference {submission.reference})."], "Read the answer")


@huey.task()
@with_app_context
def tell_submitter_extended(submission_id: int) -> int:
    """Tell the person who complained that we need more time, why, and the new date."""
    from involve.feedback.models import StepKind, Submission

    submission = db.session.get(Submission, submission_id)
    if submission is None or not submission.steps:
        return 0
    step = submission.steps[-1]
    if step.kind != StepKind.extended:
        return 0
    return _tell_giver(submission, "We need more time to answer your complaint",
                       [f"We need more time to answer your complaint about "
                        f"{submission.service.name} (reference {submission.reference}).",
                        f"Why: {step.reason}",
                        f"We will answer by {submission.answer_by:%-d %B %Y}."],
                       "See where it is")


REMINDER = "feedback.overdue_complaint_reminder"
_NEEDS = {"acknowledge": "acknowledged", "answer": "answered", "": "answered"}


def overdue_reminders(today: date | None = None) -> int:
    """Email each service's managers the complaints past a deadline; returns messages sent."""
    from involve.feedback.queries import overdue_submissions

    by_service: dict[int, list] = {}
    for submission in overdue_submissions(None, today, organisation_id=None):
        by_service.setdefault(submission.service_id, []).append(submission)
    today = today or clock.today()
    sent = 0
    for service_id, items in by_service.items():
        service = items[0].service
        lines = [f"{s.reference}: {s.kind.noun} received {s.received_at:%-d %B}, "
                 f"needs to be {_NEEDS[s.overdue(today)]}" for s in items]
        for manager in _managers(service_id):
            count = (f"{len(items)} complaints at {service.name} are" if len(items) != 1
                     else f"1 complaint at {service.name} is")
            message = _notice(manager, f"Overdue complaints at {service.name}",
                              [f"{count} past a deadline of the complaints procedure:", *lines],
                              _link("/feedback/submissions?overdue=1"), "See them")
            if message is None:
                continue
            # Recorded before it goes: one reminder a day per manager and service, whoever
            # (and however many times) runs this.
            key = f"{today.isoformat()}:{service_id}:{manager.id}"
            if not claim(REMINDER, key):
                continue
            if mail.send_each([message]):
                sent += 1
            else:
                unclaim(REMINDER, key)  # not sent: a later run may try again
    return sent


@periodic_task(crontab(minute="*/10"))
def mix_anonymous_submissions() -> int:
    """Every ten minutes: rewrite the day's anonymous submissions so that nothing on disk
    places one among other people's actions (see ``services.mix_anonymous``)."""
    from involve.feedback import services

    mixed = services.mix_anonymous(datetime.now(UTC).date())
    db.session.commit()
    if mixed:
        services.clear_dead_rows()
    return mixed


@periodic_task(crontab(hour="7", minute="30"))
def remind_overdue_complaints() -> int:
    """Every morning: remind managers of complaints past a deadline."""
    return overdue_reminders()
