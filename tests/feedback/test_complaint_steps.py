"""Complaints reopened when the person is not satisfied, deadlines extended with a reason, and
"in time" figures that never count a complaint still inside its time as missed."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from involve.extensions import db
from involve.feedback import services
from involve.feedback.models import (
    StepKind,
    Submission,
    SubmissionStatus,
    SubmissionStep,
)
from involve.feedback.queries import complaints_summary
from tests.conftest import login
from tests.feedback.helpers import make_submission


def _plain(message) -> str:
    """The text part of a message as the SMTP server received it."""
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")


def _steps() -> int:
    return db.session.scalar(select(func.count(SubmissionStep.id)))


def _answered(world, **extra) -> Submission:
    submission = make_submission(world, **extra)
    services.acknowledge(submission, by=world.people["manager"])
    services.answer_submission(submission, answer="We are sorry.", outcome="not_upheld",
                               by=world.people["manager"])
    db.session.commit()
    return submission


def test_a_complaint_is_reopened_when_the_person_is_not_satisfied(app, world, client):
    submission = _answered(world, submitter=world.people["family"])
    login(client, world.people["manager"])
    page = client.get(f"/feedback/submissions/{submission.id}").get_data(as_text=True)
    assert "reopen" in page.lower()
    empty = client.post(f"/feedback/submissions/{submission.id}/reopen", data={"reason": " "},
                        follow_redirects=True)
    assert "Say why the complaint is reopened" in empty.get_data(as_text=True)
    assert _steps() == 0
    response = client.post(f"/feedback/submissions/{submission.id}/reopen", data={
        "reason": "Her daughter says the dinners are still cold."}, follow_redirects=True)
    assert "is reopened" in response.get_data(as_text=True)
    db.session.expire_all()
    submission = db.session.get(Submission, submission.id)
    assert submission.status == SubmissionStatus.acknowledged
    assert submission.answer == "" and submission.outcome is None
    [step] = submission.steps
    assert step.kind == StepKind.reopened and step.previous_answer == "We are sorry."
    assert step.previous_outcome == "not_upheld"
    assert submission.answer_by == step.answer_by_after > date.today()
    page = client.get(f"/feedback/submissions/{submission.id}").get_data(as_text=True)
    assert "still cold" in page and "The answer given before" in page
    # Answered again; a reopened complaint that is still open cannot be reopened twice.
    again = client.post(f"/feedback/submissions/{submission.id}/reopen", data={
        "reason": "Twice"}, follow_redirects=True)
    assert "still open" in again.get_data(as_text=True)
    assert _steps() == 1


def test_only_complaints_are_reopened(app, world, client):
    compliment = _answered(world, kind="compliment", body="Lovely staff.")
    login(client, world.people["manager"])
    response = client.post(f"/feedback/submissions/{compliment.id}/reopen",
                           data={"reason": "Why not"}, follow_redirects=True)
    assert "Only a complaint can be reopened." in response.get_data(as_text=True)
    assert _steps() == 0


def test_an_extension_tells_the_person_why(app, world, client, smtp_server):
    submission = make_submission(world, name="Jo", contact="jo@example.org")
    db.session.commit()
    before = submission.answer_by
    login(client, world.people["manager"])
    new_date = before + timedelta(days=14)
    for data, message in [
        ({"answer_by": new_date.isoformat(), "reason": ""}, "Say why more time is needed"),
        ({"answer_by": "", "reason": "Waiting"}, "Give the new date"),
        ({"answer_by": before.isoformat(), "reason": "Waiting"},
         "The new date must be after the current one"),
    ]:
        response = client.post(f"/feedback/submissions/{submission.id}/extend", data=data,
                               follow_redirects=True)
        assert message in response.get_data(as_text=True)
    assert _steps() == 0
    db.session.expire_all()
    assert db.session.get(Submission, submission.id).answer_by == before
    response = client.post(f"/feedback/submissions/{submission.id}/extend", data={
        "answer_by": new_date.isoformat(),
        "reason": "We are waiting for the night staff's statements."}, follow_redirects=True)
    assert "The person has been emailed the reason." in response.get_data(as_text=True)
    db.session.expire_all()
    submission = db.session.get(Submission, submission.id)
    assert submission.answer_by == new_date
    [message] = smtp_server.wait_for(1)
    assert message["To"] == "jo@example.org"
    assert message["Subject"] == "We need more time to answer your complaint"
    text = _plain(message)
    assert "night staff's statements" in text and f"{new_date:%-d %B %Y}" in text
    assert "Dinner was cold" not in text


def test_in_time_never_counts_a_complaint_inside_its_time_as_missed(app, world, client):
    make_submission(world)  # received today: inside its time for both deadlines
    late = make_submission(world, days_ago=20)  # past its acknowledgement deadline
    db.session.commit()
    figures = complaints_summary(None, date.today() - timedelta(days=30), date.today(),
                                 organisation_id=world.org.id)
    assert figures.complaints == 2
    assert figures.acknowledge_due == 1 and figures.acknowledged_in_time == 0
    assert figures.answer_due == 0
    assert late.overdue() == "acknowledge"
    login(client, world.people["manager"])
    page = client.get("/feedback/complaints/summary").get_data(as_text=True)
    assert "0 of 1 due (1 still within their time)" in page
