"""Sending: recipients, delivery rows, real SMTP, refusals, a server that disappears, pauses."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from involve.extensions import db
from involve.newsletters import delivery, queries, services
from involve.newsletters.models import (
    Delivery,
    DeliveryStatus,
    IssueStatus,
    Suppression,
    SuppressionReason,
)
from involve.people.models import Role
from tests.conftest import login
from tests.factories import link_family, make_person
from tests.newsletters.helpers import make_issue, make_subscriber


def _deliveries(issue) -> dict[str, Delivery]:
    return {d.email: d for d in db.session.scalars(
        select(Delivery).where(Delivery.issue_id == issue.id))}


def _family(world, n: int) -> list:
    people = []
    for i in range(n):
        relative = make_person(world.org, f"Relative {i:02d}", email=f"rel{i:02d}@test.example",
                               roles=[(Role.family, world.home)])
        people.append(relative)
    return people


def test_recipients_follow_the_audiences_and_the_suppression_list(world):
    resident = world.people["service_user"]
    cousin = make_person(world.org, "Cousin Nolink", email="cousin@test.example")
    link_family(cousin, resident, "Cousin")  # a relative by link alone, without a role
    make_person(world.org, "Relative Away", email="away@test.example",
                roles=[(Role.family, world.away)])
    board = make_person(world.org, "Board Org", email="board@test.example",
                        roles=[(Role.board, None)])
    make_subscriber(world.home, "friend@example.org")
    make_subscriber(world.home, "unconfirmed@example.org", confirmed=False)
    issue = make_issue(world, audiences=["families", "board"])
    emails = {r.email for r in queries.recipients(issue)}
    assert world.people["family"].user.email in emails and "cousin@test.example" in emails
    assert board.user.email in emails and "away@test.example" not in emails
    assert world.people["staff"].user.email not in emails
    assert "friend@example.org" not in emails  # only issues for the public go to subscribers
    issue.audiences = ["public"]
    emails = {r.email for r in queries.recipients(issue)}
    assert emails == {"friend@example.org"}
    delivery.suppress("friend@example.org", SuppressionReason.unsubscribed)
    assert queries.recipients(issue) == []


def test_print_list_has_needs_and_people_without_email(world):
    make_person(world.org, "Olive Paper", account=False, roles=[(Role.family, world.home)])
    make_person(world.org, "Percy Print", email="percy@test.example", needs=["large_print"],
                roles=[(Role.family, world.home)])
    make_person(world.org, "Email Only", email="only@test.example",
                roles=[(Role.family, world.home)])
    issue = make_issue(world, audiences=["families"])
    copies = {c.person.full_name: c.reasons for c in queries.print_list(issue)}
    assert copies["Olive Paper"] == ("No email address",)
    assert copies["Percy Print"] == ("Large print",)
    assert "Email Only" not in copies


def test_sending_over_real_smtp_builds_the_right_email(client, world, smtp_server):
    _family(world, 3)
    issue = make_issue(world, status=IssueStatus.published, audiences=["families"],
                       body="## Garden\n\nThe **tulips** are out. [Photos](https://example.org)"
                            "\n\n![Tulips](/newsletters/images/7.jpg)\n")
    login(client, world.people["manager"])
    response = client.post(f"/newsletters/issues/{issue.id}/send", follow_redirects=True)
    assert b"Sending to 4 people" in response.data
    messages = smtp_server.wait_for(4)
    assert len(messages) == 4
    db.session.refresh(issue)
    assert issue.status == IssueStatus.sent and issue.sent_at is not None
    rows = _deliveries(issue)
    assert {r.status for r in rows.values()} == {DeliveryStatus.sent}
    assert {r.attempts for r in rows.values()} == {1}
    message = next(m for m in messages if "rel00@test.example" in m["To"])
    assert message.get_content_type() == "multipart/alternative"
    text, html = (p.get_payload(decode=True).decode() for p in message.get_payload())
    assert "Dear Relative," in text and "The tulips are out. Photos (https://example.org)" in text
    assert "GARDEN" in text and "**" not in text
    assert "Read it on the web: http://localhost/newsletters/issues/" in text
    assert "<strong>tulips</strong>" in html and "Dear Relative," in html
    # Mail clients cannot sign in: the picture's signed address, the same for every reader.
    assert f'src="http://localhost/newsletters/mail-images/{services.image_token(7)}.jpg"' \
        in html
    assert len(re.findall(r"<img ", html)) == 1  # no tracking pixels
    assert re.search(r"font-size: ?(1[6-9]|2\d)px", html)
    unsubscribe = message["List-Unsubscribe"]
    assert re.match(r"<http://localhost/newsletters/unsubscribe/[^>]+>, <mailto:[^>]+"
                    r"\?subject=unsubscribe>", unsubscribe)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe[1:].split(">")[0] in text


def test_sending_twice_is_refused_and_mails_nobody_again(client, world, outbox):
    issue = make_issue(world, status=IssueStatus.published)
    login(client, world.people["manager"])
    client.post(f"/newsletters/issues/{issue.id}/send")
    assert len(outbox) == 1
    response = client.post(f"/newsletters/issues/{issue.id}/send", follow_redirects=True)
    assert b"already been sent" in response.data
    assert len(outbox) == 1
    assert db.session.scalar(select(func.count(Delivery.id))) == 1


def test_sending_a_draft_is_refused(client, world, outbox):
    issue = make_issue(world)
    login(client, world.people["manager"])
    response = client.post(f"/newsletters/issues/{issue.id}/send", follow_redirects=True)
    assert b"Publish the issue before sending it." in response.data
    assert outbox == [] and db.session.scalar(select(func.count(Delivery.id))) == 0


def test_queueing_again_adds_nobody_twice_and_claims_do_not_overlap(world):
    _family(world, 5)
    issue = make_issue(world, status=IssueStatus.published)
    services.start_sending(issue, by=None)
    db.session.commit()
    assert delivery.queue_deliveries(issue) == 0
    late = make_person(world.org, "Late Relative", email="late@test.example",
                       roles=[(Role.family, world.home)])
    assert delivery.queue_deliveries(issue) == 1
    db.session.commit()
    first = delivery.claim_batch(issue.id, 4)
    second = delivery.claim_batch(issue.id, 4)
    assert len(first) == 4 and len(second) == 3
    assert not {r.id for r in first} & {r.id for r in second}
    assert late.user.email in {r.email for r in first + second}


def test_a_refused_address_fails_with_its_reason_and_is_suppressed(client, world, smtp_server):
    _family(world, 3)
    smtp_server.refuse.add("rel01@test.example")
    issue = make_issue(world, status=IssueStatus.published)
    login(client, world.people["manager"])
    client.post(f"/newsletters/issues/{issue.id}/send")
    smtp_server.wait_for(3)
    rows = _deliveries(issue)
    assert rows["rel01@test.example"].status == DeliveryStatus.failed
    assert "550" in rows["rel01@test.example"].error
    assert sum(r.status == DeliveryStatus.sent for r in rows.values()) == 3
    suppression = db.session.scalar(select(Suppression))
    assert suppression.email == "rel01@test.example"
    assert suppression.reason == SuppressionReason.hard_bounce
    db.session.refresh(issue)
    assert issue.status == IssueStatus.sent
    page = client.get(f"/newsletters/issues/{issue.id}/progress").data
    assert b"rel01@test.example" in page and b"550" in page
    assert b"the address cannot take mail" in page
    # A later issue never mails the bounced address.
    later = make_issue(world, title="Later", status=IssueStatus.published)
    assert "rel01@test.example" not in {r.email for r in queries.recipients(later)}


def test_server_that_disappears_mid_run_pauses_then_resumes_without_doubles(
        client, world, vanishing_smtp):
    _family(world, 14)  # 15 with the world's family member
    issue = make_issue(world, status=IssueStatus.published)
    vanishing_smtp.start(accept=4)
    login(client, world.people["manager"])
    client.post(f"/newsletters/issues/{issue.id}/send")
    db.session.refresh(issue)
    assert issue.status == IssueStatus.paused
    assert "could not be sent" in issue.paused_reason
    counts = queries.delivery_counts(issue.id)
    assert counts["sent"] == 4 and counts["queued"] == 11 and counts["sending"] == 0
    page = client.get(f"/newsletters/issues/{issue.id}/progress").data
    assert b"Sending is paused" in page and b"Resume sending" in page
    assert b"is paused" in client.get("/").data  # the manager's home page says so too
    # A second "send" is refused while paused; nothing changes.
    response = client.post(f"/newsletters/issues/{issue.id}/send", follow_redirects=True)
    assert "Choose “Resume sending”".encode() in response.data
    assert queries.delivery_counts(issue.id)["queued"] == 11
    vanishing_smtp.start()  # the server is back
    client.post(f"/newsletters/issues/{issue.id}/resume")
    messages = vanishing_smtp.wait_for(15)
    db.session.refresh(issue)
    assert issue.status == IssueStatus.sent
    received = sorted(m["To"] for m in messages)
    assert len(received) == 15 and len(set(received)) == 15  # nobody twice, nobody forgotten
    assert queries.delivery_counts(issue.id)["sent"] == 15


def test_temporary_failures_are_retried_with_backoff(world, vanishing_smtp):
    issue = make_issue(world, status=IssueStatus.published)
    services.start_sending(issue, by=None)
    db.session.commit()
    # No server at all: the one copy fails for now and waits to be tried again.
    outcome = delivery.run(issue.id)
    row = db.session.scalar(select(Delivery))
    assert row.status == DeliveryStatus.queued and row.attempts == 1 and row.error
    assert row.next_attempt_at is not None and outcome.retry_in is not None
    assert delivery.run(issue.id).sent == 0  # not due yet
    vanishing_smtp.start()
    row.next_attempt_at = None
    db.session.commit()
    assert delivery.run(issue.id).finished
    db.session.refresh(row)
    assert row.status == DeliveryStatus.sent and row.attempts == 2
    assert len(vanishing_smtp.messages) == 1


def test_a_dead_workers_claims_are_taken_back_on_resume(world, outbox):
    from datetime import timedelta

    from involve.extensions import utcnow

    _family(world, 2)
    issue = make_issue(world, status=IssueStatus.published)
    services.start_sending(issue, by=None)
    db.session.commit()
    claimed = delivery.claim_batch(issue.id, 2)  # ... and the worker dies here
    db.session.execute(Delivery.__table__.update().values(
        claimed_at=utcnow() - timedelta(hours=1)).where(Delivery.status == "sending"))
    delivery.pause(issue, "The worker stopped.")
    db.session.commit()
    services.resume_sending(issue, by=world.people["manager"])
    db.session.commit()
    delivery.run(issue.id)
    assert len(claimed) == 2 and queries.delivery_counts(issue.id)["sent"] == 3


def test_progress_page_refreshes_while_sending_and_shows_counts(client, world):
    _family(world, 2)
    issue = make_issue(world, status=IssueStatus.published)
    services.start_sending(issue, by=None)
    db.session.commit()
    login(client, world.people["manager"])
    page = client.get(f"/newsletters/issues/{issue.id}/progress").data.decode()
    assert '<meta http-equiv="refresh" content="5">' in page
    assert "<td>3</td><td>0</td><td>0</td><td>0</td><td>3</td>" in page


def test_pausing_tells_the_author_by_email(world, outbox):
    issue = make_issue(world, status=IssueStatus.published)
    services.start_sending(issue, by=None)
    delivery.pause(issue, "10 messages in a row could not be sent.")
    db.session.commit()
    assert issue.status == IssueStatus.paused
    assert len(outbox) == 1 and outbox[0]["To"] == world.people["manager"].user.email
    assert "Sending paused" in outbox[0]["Subject"]
    assert "/newsletters/issues/" in outbox[0].get_body(("plain",)).get_content()


def test_without_a_mail_server_copies_are_written_as_eml_files(app, world, tmp_path):
    from email import message_from_bytes, policy

    from involve.mail import FileTransport

    issue = make_issue(world, status=IssueStatus.published)
    services.start_sending(issue, by=None)
    db.session.commit()
    outcome = delivery.run(issue.id, mailer=delivery.Mailer(FileTransport(tmp_path)))
    assert outcome.finished and outcome.sent == 1
    (written,) = tmp_path.glob("*.eml")
    message = message_from_bytes(written.read_bytes(), policy=policy.default)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Dear Family," in message.get_body(("plain",)).get_content()
