"""Feedback from everyone: the public form, anonymity, the complaints procedure, the summary."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError

from involve.audit import AuditEvent
from involve.extensions import db
from involve.feedback import procedure, services, tasks
from involve.feedback.models import (
    AnonymousDailyCount,
    ComplaintOutcome,
    FeedbackError,
    Submission,
    SubmissionKind,
    SubmissionStatus,
)
from tests.conftest import login
from tests.feedback.helpers import make_submission, theme


def _count() -> int:
    return db.session.scalar(select(func.count(Submission.id)))


def test_a_visitor_submits_without_signing_in(app, world, client):
    theme(world)
    db.session.commit()
    page = client.get(f"/feedback/give/{world.home.slug}").get_data(as_text=True)
    assert "Tell us what you think about Rose Court" in page
    assert "speak up" not in page.lower()  # only staff see the speak-up choice
    assert "If someone is in danger or being hurt now, tell a member of staff" in page
    response = client.post(f"/feedback/give/{world.home.slug}", data={
        "kind": "concern", "theme_id": "0", "body": "The lounge is cold in the evening.",
        "name": "Jo (visitor)", "contact": "jo@example.org"}, follow_redirects=True)
    submission = db.session.scalar(select(Submission))
    body = response.get_data(as_text=True)
    assert response.request.path == f"/feedback/give/{world.home.slug}/thanks"
    assert "Thank you" in body and submission.reference in body
    assert submission.submitter_id is None and submission.name == "Jo (visitor)"
    assert submission.acknowledge_by is None  # a concern is not a complaint
    # On a shared tablet the next person finds neither the words nor the code.
    assert "The lounge is cold" not in body and "/feedback/status/" not in body
    assert response.headers["Cache-Control"] == "no-store"
    again = client.get(f"/feedback/give/{world.home.slug}/thanks").get_data(as_text=True)
    assert submission.reference not in again and "The lounge is cold" not in again
    # Whoever has the code reads what they said and the answer.
    looked_up = client.post("/feedback/status", data={"reference": submission.reference},
                            follow_redirects=True)
    assert "The lounge is cold" in looked_up.get_data(as_text=True)
    assert looked_up.headers["Cache-Control"] == "no-store"


def test_a_complaint_is_told_its_deadlines_on_the_thank_you_page(app, world, client):
    response = client.post(f"/feedback/give/{world.home.slug}", data={
        "kind": "complaint", "theme_id": "0", "body": "Nobody answered the bell."},
        follow_redirects=True)
    submission = db.session.scalar(select(Submission))
    page = response.get_data(as_text=True)
    assert submission.reference in page
    assert f"{submission.acknowledge_by:%-d %B %Y}" in page
    assert f"{submission.answer_by:%-d %B %Y}" in page


def test_an_empty_submission_is_refused(app, world, client):
    response = client.post(f"/feedback/give/{world.home.slug}",
                           data={"kind": "complaint", "theme_id": "0", "body": "   "})
    assert response.status_code == 200
    assert "Please write what you want to tell us." in response.get_data(as_text=True)
    assert _count() == 0
    with pytest.raises(FeedbackError):
        services.submit(service=world.home, kind="complaint", body="")


def test_signed_in_submitter_sees_their_own_and_its_answer(app, world, client, outbox):
    family = world.people["family"]
    login(client, family)
    client.post(f"/feedback/give/{world.home.slug}",
                data={"kind": "suggestion", "theme_id": "0", "body": "A bird feeder, please."})
    submission = db.session.scalar(select(Submission))
    assert submission.submitter_id == family.id
    assert submission.reference in client.get("/feedback/mine").get_data(as_text=True)
    services.answer_submission(submission, answer="Done: it is up.", by=world.people["manager"])
    db.session.commit()
    assert "Done: it is up." in client.get(f"/feedback/submissions/{submission.id}").get_data(
        as_text=True)
    # Another family member, a partner and a service user cannot read it: it may hold health
    # details.
    for other in (world.outsiders["family"], world.people["partner"],
                  world.people["service_user"], world.people["staff"]):
        login(client, other)
        assert client.get(f"/feedback/submissions/{submission.id}").status_code == 403


def test_staff_record_for_someone(app, world, client):
    staff = world.people["staff"]
    login(client, staff)
    client.post(f"/feedback/give/{world.home.slug}", data={
        "kind": "compliment", "theme_id": "0", "body": "Lovely lunch.", "name": "Mrs Evans",
        "on_behalf": "y"})
    submission = db.session.scalar(select(Submission))
    assert submission.recorded_by_id == staff.id and submission.submitter_id is None
    assert submission.name == "Mrs Evans"
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "feedback.submission_received"))
    assert event.actor_id == staff.id and event.details["on_behalf"] is True


def test_a_speak_up_concern_is_always_staffs_own(app, world, client):
    staff = world.people["staff"]
    login(client, staff)
    response = client.post(f"/feedback/give/{world.home.slug}", data={
        "kind": "speak_up", "theme_id": "0", "body": "Handovers are rushed.",
        "on_behalf": "y"})
    assert response.status_code == 302
    submission = db.session.scalar(select(Submission))
    assert submission.submitter_id == staff.id and submission.recorded_by_id is None
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "feedback.submission_received"))
    assert event.actor_id == staff.id and event.details["on_behalf"] is False


def test_anonymous_speak_up_keeps_no_path_back(app, world, client):
    staff = world.people["staff"]
    login(client, staff)
    assert "Freedom to speak up" in client.get(f"/feedback/give/{world.home.slug}").get_data(
        as_text=True)
    response = client.post(f"/feedback/give/{world.home.slug}", data={
        "kind": "speak_up", "theme_id": "0", "body": "Night shifts are short-staffed.",
        "anonymous": "y", "name": "Should be dropped", "contact": "me@example.org",
        "on_behalf": "y"}, environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert response.status_code == 302
    client.get(response.location)  # the thank-you page with the reference code
    submission = db.session.scalar(select(Submission))
    assert submission.kind == SubmissionKind.speak_up and submission.anonymous
    # The row: every column, read straight from the database, holds nothing of the person.
    row = db.session.execute(select(Submission.__table__).where(
        Submission.id == submission.id)).mappings().one()
    identifying = {str(staff.id), staff.full_name, staff.user.email, str(staff.user.id),
                   "10.9.8.7", "Should be dropped", "me@example.org"}
    for column, value in row.items():
        if column in {"id", "service_id", "theme_id"}:
            continue
        assert value is None or str(value) not in identifying, column
    assert row["submitter_id"] is None and row["recorded_by_id"] is None
    assert row["name"] == "" and row["contact"] == ""
    assert row["received_at"].time() == datetime.min.time()  # a day, not a moment
    # No audit event sits among other people's: the day's count says a concern came in.
    assert not db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "Submission")).all()
    [counted] = db.session.scalars(select(AnonymousDailyCount)).all()
    assert (counted.service_id, counted.day, counted.kind, counted.count) == (
        submission.service_id, row["received_at"].date(), SubmissionKind.speak_up, 1)
    assert not db.session.scalar(select(func.count(AuditEvent.id)).where(
        (AuditEvent.actor_id == staff.id) | (AuditEvent.ip_address == "10.9.8.7")))
    # Nobody can find it as theirs, but the reference works.
    assert submission.reference not in client.get("/feedback/mine").get_data(as_text=True)
    assert client.get(f"/feedback/submissions/{submission.id}").status_code == 403
    login(client, world.people["manager"])
    page = client.get(f"/feedback/submissions/{submission.id}").get_data(as_text=True)
    assert "Anonymous" in page and staff.full_name not in page


def test_the_database_refuses_a_link_on_an_anonymous_row(app, world):
    submission = make_submission(world, kind="concern", anonymous=True)
    db.session.commit()
    for column, value in (("submitter_id", world.people["staff"].id),
                          ("recorded_by_id", world.people["staff"].id),
                          ("name", "Sam"), ("contact", "sam@example.org")):
        with pytest.raises(IntegrityError):
            db.session.execute(update(Submission).where(Submission.id == submission.id)
                               .values({column: value}))
            db.session.flush()
        db.session.rollback()


def test_status_by_reference_and_signed_link(app, world, client):
    submission = make_submission(world, kind="complaint", anonymous=True)
    db.session.commit()
    response = client.post("/feedback/status",
                           data={"reference": submission.reference.lower().replace("-", "")})
    assert response.status_code == 302
    assert "Dinner was cold." in client.get(response.location).get_data(as_text=True)
    bad = client.post("/feedback/status", data={"reference": "ZZZZ-9999"})
    assert "We cannot find that reference code" in bad.get_data(as_text=True)
    forged = client.get("/feedback/status/" + services.status_token(submission)[:-2] + "xx")
    assert forged.status_code == 404 and "That link is not right" in forged.get_data(
        as_text=True)


def test_complaint_deadlines_in_working_days(app, world):
    submission = make_submission(world)
    received = submission.received_at.date()
    assert submission.acknowledge_by == procedure.add_working_days(received, 3)
    assert submission.answer_by == procedure.add_working_days(received, 20)
    assert submission.acknowledge_by.weekday() < 5 and submission.answer_by.weekday() < 5


def test_complaint_answered_before_acknowledged_is_refused(app, world, client, outbox):
    submission = make_submission(world, submitter=world.people["family"])
    db.session.commit()
    login(client, world.people["manager"])
    page = client.get(f"/feedback/submissions/{submission.id}").get_data(as_text=True)
    assert "asks for an acknowledgement first" in page
    assert f"/feedback/submissions/{submission.id}/answer" not in page
    response = client.post(f"/feedback/submissions/{submission.id}/answer", data={
        "answer": "We are sorry the dinner was cold.", "outcome": "upheld", "learning": "",
        "escalation_route": ""})
    page = response.get_data(as_text=True)
    assert "Acknowledge this complaint before answering it" in page
    assert "We are sorry the dinner was cold." in page  # what they wrote is not lost
    db.session.expire_all()
    submission = db.session.get(Submission, submission.id)
    assert submission.status == SubmissionStatus.received and submission.answer == ""
    assert outbox == []


def test_a_visitor_who_left_an_email_is_told_with_their_own_link(app, world, client, outbox):
    visitor = make_submission(world, name="Jo", contact=" jo@example.org ")
    by_phone = make_submission(world, name="Sam", contact="01632 960 123")
    anonymous = make_submission(world, anonymous=True)
    db.session.commit()
    login(client, world.people["manager"])
    for submission in (visitor, by_phone, anonymous):
        client.post(f"/feedback/submissions/{submission.id}/acknowledge")
        client.post(f"/feedback/submissions/{submission.id}/answer", data={
            "answer": "We have fixed the trolley.", "outcome": "upheld"})
    assert [(m["To"], m["Subject"]) for m in outbox] == [
        ("jo@example.org", "We have your feedback"),
        ("jo@example.org", "We have answered your feedback")]
    text = outbox[1].get_body(("plain",)).get_content()
    assert text.startswith("Hello Jo,") and "Dinner was cold" not in text
    link = text.split("Read the answer: ")[1].split()[0]
    client.post("/sign-out")
    assert "We have fixed the trolley." in client.get(link).get_data(as_text=True)


def test_complaint_procedure_end_to_end(app, world, client, outbox):
    submission = make_submission(world, submitter=world.people["family"])
    db.session.commit()
    login(client, world.people["manager"])
    client.post(f"/feedback/submissions/{submission.id}/acknowledge")
    again = client.post(f"/feedback/submissions/{submission.id}/acknowledge",
                        follow_redirects=True)
    assert "already acknowledged" in again.get_data(as_text=True)
    no_outcome = client.post(f"/feedback/submissions/{submission.id}/answer", data={
        "answer": "We are sorry.", "outcome": ""})
    assert "Choose the outcome of the complaint." in no_outcome.get_data(as_text=True)
    client.post(f"/feedback/submissions/{submission.id}/answer", data={
        "answer": "We are sorry.", "outcome": "upheld", "learning": "Check the trolley.",
        "escalation_route": "The Local Government and Social Care Ombudsman"})
    db.session.expire_all()
    submission = db.session.get(Submission, submission.id)
    assert submission.status == SubmissionStatus.answered
    assert submission.outcome == ComplaintOutcome.upheld
    assert submission.learning == "Check the trolley."
    assert "Ombudsman" in submission.escalation_route
    assert submission.days_to_acknowledge == 0 and submission.days_to_answer == 0
    family_email = world.people["family"].user.email
    assert [(m["To"], m["Subject"]) for m in outbox] == [
        (family_email, "We have your feedback"), (family_email, "We have answered your feedback")]
    acknowledgement = outbox[0].get_body(("plain",)).get_content()
    assert submission.reference in acknowledgement
    assert f"{submission.answer_by:%-d %B %Y}" in acknowledgement
    assert "Dinner was cold" not in acknowledgement  # a link only: the words stay in Involve
    actions = db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_type == "Submission").order_by(AuditEvent.id)).all()
    assert actions == ["feedback.submission_received", "feedback.submission_acknowledged",
                       "feedback.submission_answered"]


def test_overdue_complaints_are_flagged_to_managers(app, world, client, smtp_server):
    late = make_submission(world, days_ago=10, body="Late one")
    make_submission(world, body="Fresh one")
    make_submission(world, service=world.away, days_ago=10, body="Elsewhere")
    db.session.commit()
    assert late.overdue() == "acknowledge"
    login(client, world.people["manager"])
    home = client.get("/").get_data(as_text=True)
    assert "1 complaint past a deadline" in home
    sent = tasks.overdue_reminders()
    assert sent == 2  # the manager at home, the manager away
    messages = smtp_server.wait_for(2)
    to_home = [m for m in messages if m["To"] == world.people["manager"].user.email]
    assert late.reference in to_home[0].as_string()
    assert "Late one" not in to_home[0].as_string()


def test_the_periodic_task_runs(app, world, outbox):
    make_submission(world, days_ago=30)
    db.session.commit()
    assert tasks.remind_overdue_complaints.call_local() == 1
    assert len(outbox) == 1


def test_summary_page_and_csv(app, world, client):
    food = theme(world, "Food")
    answered = make_submission(world, theme=food, days_ago=12)
    services.acknowledge(answered, by=world.people["manager"])
    answered.acknowledged_at = answered.received_at + timedelta(days=1)
    services.answer_submission(answered, answer="Sorry", outcome="partly_upheld",
                               by=world.people["manager"])
    answered.answered_at = answered.received_at + timedelta(days=6)
    make_submission(world, days_ago=20)  # overdue
    make_submission(world, kind="compliment", body="Thank you")
    make_submission(world, service=world.away)  # not this manager's
    old = make_submission(world, kind="compliment", body="Long ago")
    old.received_at = datetime(2020, 1, 1, tzinfo=UTC)
    db.session.commit()
    login(client, world.people["manager"])
    start = (date.today() - timedelta(days=60)).isoformat()
    end = date.today().isoformat()
    page = client.get(f"/feedback/complaints/summary?start={start}&end={end}").get_data(
        as_text=True)
    assert "3 received, 2 of them complaints" in page
    response = client.get(f"/feedback/complaints/summary.csv?start={start}&end={end}")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    figures = {r[0]: r[1] for r in rows if len(r) == 2}
    assert figures["received"] == "3" and figures["complaints"] == "2"
    assert figures["type: Complaint"] == "2" and figures["type: Compliment"] == "1"
    assert figures["outcome: Partly upheld"] == "1" and figures["theme: Food"] == "1"
    assert figures["average days to acknowledge"] == "1.0"
    assert figures["average days to answer"] == "6.0"
    assert figures["overdue now"] == "1"
    assert "Dinner was cold." not in response.get_data(as_text=True)  # no one's words


def test_summary_cells_cannot_become_formulas(app, world, client):
    from involve.feedback.models import Theme

    bad = Theme(organisation_id=world.org.id, name="=HYPERLINK(\"x\")", position=9)
    db.session.add(bad)
    make_submission(world, theme=bad)
    db.session.commit()
    login(client, world.people["board"])
    body = client.get("/feedback/complaints/summary.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in body and "\n=HYPERLINK" not in body and ",=HYPERLINK" not in body


def test_sqlite_or_postgres_checks_exist(app):
    # The anonymity rule lives in the schema, not only in Python.
    if db.engine.dialect.name == "sqlite":
        sql = db.session.scalar(text(
            "SELECT sql FROM sqlite_master WHERE name = 'feedback_submission'"))
        assert "anonymous_has_no_link" in sql


def test_the_public_form_is_rate_limited(app, world, database_url, tmp_path):
    from involve.extensions import limiter
    from tests.conftest import make_test_app

    limited = make_test_app(database_url, str(tmp_path), RATELIMIT_ENABLED=True)
    client = limited.test_client()
    url = f"/feedback/give/{world.home.slug}"
    try:
        statuses = [client.post(url, data={"kind": "concern", "body": ""}).status_code
                    for _ in range(11)]
    finally:
        # The limiter is one object shared by every app; put back the session app's settings.
        limiter.reset()
        limiter.init_app(app)
    assert statuses[:10] == [200] * 10 and statuses[10] == 429
    assert _count() == 0



def test_an_anonymous_concern_cannot_be_placed_among_other_peoples_actions(app, world):
    """As someone reading the database would try: ids, times, audit order, daily counts."""
    from involve.feedback import services as feedback

    staff = world.people["staff"]
    named, anonymous = [], []
    for n in range(6):
        named.append(feedback.submit(service=world.home, kind="concern", body=f"Named {n}",
                                     submitter=world.people["family"]))
        db.session.flush()
        anonymous.append(feedback.submit(service=world.home, kind="speak_up",
                                         body=f"Quiet {n}", anonymous=True, recorded_by=staff))
        db.session.flush()
    db.session.commit()
    ids = [s.id for s in sorted(named + anonymous, key=lambda s: s.received_at)]
    # Ids are random: they do not rise with the order things were sent in.
    submitted = [s.id for pair in zip(named, anonymous, strict=True) for s in pair]
    assert submitted != sorted(submitted) and len(set(ids)) == 12
    for item in anonymous:
        assert item.received_at.time() == datetime.min.time()
        assert not db.session.scalar(select(func.count(AuditEvent.id)).where(
            AuditEvent.object_id == item.id, AuditEvent.object_type == "Submission"))
    assert db.session.scalar(select(AnonymousDailyCount.count)) == 6


def test_the_mix_leaves_an_anonymous_concern_no_place_among_other_writes(app, world):
    """On PostgreSQL a row's transaction id (xmin) rises with everyone's writes: before the
    mix it places an anonymous concern between the named ones around it; after, it does not."""
    postgres = db.engine.dialect.name == "postgresql"

    def xmin(submission) -> int:
        return int(db.session.scalar(text("SELECT xmin::text FROM feedback_submission "
                                          "WHERE id = :id"), {"id": submission.id}))

    staff = world.people["staff"]
    named, anonymous = [], []
    for n in range(3):
        named.append(services.submit(service=world.home, kind="concern", body=f"Named {n}",
                                     submitter=world.people["family"]))
        db.session.commit()
        anonymous.append(services.submit(service=world.home, kind="speak_up",
                                         body=f"Quiet {n}", anonymous=True, recorded_by=staff))
        db.session.commit()
    last = services.submit(service=world.home, kind="concern", body="Named last",
                           submitter=world.people["family"])
    db.session.commit()
    named.append(last)
    if postgres:
        assert xmin(named[0]) < xmin(anonymous[0]) < xmin(named[1])  # the attack works...
    assert tasks.mix_anonymous_submissions.call_local() == 3
    db.session.expire_all()
    assert sorted(s.body for s in anonymous) == ["Quiet 0", "Quiet 1", "Quiet 2"]
    assert all(s.anonymous for s in anonymous) and all(not s.anonymous for s in named)
    assert db.session.scalar(select(AnonymousDailyCount.count)) == 3
    if postgres:  # ...and no longer: every anonymous one was last written after all of them
        assert len({xmin(s) for s in anonymous}) == 1
        assert xmin(anonymous[0]) > max(xmin(s) for s in named)


def test_the_access_log_keeps_no_line_for_sending_feedback():
    import logging

    from involve.logs import LeaveOutPrivateRequests

    def line(method, path):
        record = logging.LogRecord("gunicorn.access", logging.INFO, "", 0, "%(h)s", None, None)
        record.args = {"h": "10.0.0.9", "m": method, "U": path, "s": "302"}
        return LeaveOutPrivateRequests().filter(record)

    assert not line("POST", "/feedback/give/rose-court")
    assert line("GET", "/feedback/give/rose-court") and line("POST", "/sign-in")


def _plain(message) -> str:
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")


def test_a_receipt_with_the_reference_goes_to_an_address_given(app, world, client,
                                                                smtp_server):
    page = client.get(f"/feedback/give/{world.home.slug}").get_data(as_text=True)
    before_send = page[:page.index(">Send</button>")]
    assert "working days" in before_send and "bank holidays" in before_send
    assert "Your privacy:" in before_send and "managers and the board of Rose Court" in \
        before_send.replace(world.home.name, "Rose Court")
    client.post(f"/feedback/give/{world.home.slug}", data={
        "kind": "complaint", "theme_id": "0", "body": "Nobody answered the bell.",
        "name": "Jo", "contact": "jo@example.org"})
    client.post(f"/feedback/give/{world.home.slug}", data={
        "kind": "concern", "theme_id": "0", "body": "By phone", "contact": "01632 960 123"})
    client.post(f"/feedback/give/{world.home.slug}", data={
        "kind": "concern", "theme_id": "0", "body": "Anonymous", "anonymous": "y"})
    [receipt] = smtp_server.wait_for(1)
    complaint = db.session.scalar(select(Submission).where(Submission.name == "Jo"))
    assert receipt["To"] == "jo@example.org"
    assert complaint.reference in receipt["Subject"]
    text = _plain(receipt)
    assert complaint.reference in text and f"{complaint.answer_by:%-d %B %Y}" in text
    assert "Nobody answered the bell" not in text
    assert len(smtp_server.messages) == 1  # nobody to write to for the phone or the anonymous


def test_the_ombudsman_route_is_set_once_per_organisation(app, world, client):
    submission = make_submission(world)
    services.acknowledge(submission, by=world.people["manager"])
    db.session.commit()
    login(client, world.people["manager"])
    page = client.get(f"/feedback/submissions/{submission.id}/answer").get_data(as_text=True)
    assert "Local Government and Social Care Ombudsman" in page
    assert client.get("/feedback/settings").status_code == 403  # the board or admin sets it
    login(client, world.people["admin"])
    refused = client.post("/feedback/settings", data={"escalation_route": "  "})
    assert "Say where people can go" in refused.get_data(as_text=True)
    assert services.settings_for(world.org.id) is None
    client.post("/feedback/settings", data={
        "escalation_route": "Write to our chair, then the Ombudsman: www.lgo.org.uk."})
    assert "Write to our chair" in services.escalation_route_for(world.org.id)
    login(client, world.people["manager"])
    page = client.get(f"/feedback/submissions/{submission.id}/answer").get_data(as_text=True)
    assert "Write to our chair" in page
    # Another organisation still has the default.
    from tests.factories import make_strangers

    strangers = make_strangers(world)
    other_org = next(iter(strangers.values())).organisation_id
    assert other_org != world.org.id
    assert "Local Government" in services.escalation_route_for(other_org)
