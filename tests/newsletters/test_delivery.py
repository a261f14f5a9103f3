"""Sending: recipients, delivery rows, real SMTP, refusals, a server that disappears, pauses."""

from __future__ import annotations

import re
import smtplib

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from involve import mail
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
    delivery.suppress(world.org.id, "friend@example.org", SuppressionReason.unsubscribed)
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


def test_a_message_refused_after_data_fails_once_and_its_address_is_suppressed(
        client, world, smtp_server):
    # The server reads the whole message, then answers its final dot with 554. Each
    # transaction carries one recipient, so this is a refusal of that address for good.
    _family(world, 2)
    smtp_server.refuse_data.add("rel01@test.example")
    issue = make_issue(world, status=IssueStatus.published)
    services.start_sending(issue, by=None)
    db.session.commit()
    outcome = delivery.run(issue.id)
    assert outcome.finished and outcome.sent == 2 and outcome.failed == 1
    row = _deliveries(issue)["rel01@test.example"]
    assert row.status == DeliveryStatus.failed and row.sent_at is None
    assert row.attempts == 1 and "554" in row.error  # recorded once, with its reason
    (suppression,) = db.session.scalars(select(Suppression)).all()
    assert suppression.email == "rel01@test.example"
    assert suppression.reason == SuppressionReason.hard_bounce
    # Nothing tries it again: the watch for left-behind sends, or a second run.
    from involve.newsletters.tasks import carry_on

    assert carry_on() == [] and delivery.run(issue.id).sent == 0
    assert smtp_server.refused == ["rel01@test.example"]
    received = smtp_server.wait_for(3, timeout=0.5)
    assert len(received) == 2 and not any("rel01" in m["To"] for m in received)
    login(client, world.people["manager"])
    page = client.get(f"/newsletters/issues/{issue.id}/progress").data
    assert b"rel01@test.example" in page and b"554" in page
    later = make_issue(world, title="Later", status=IssueStatus.published)
    assert "rel01@test.example" not in {r.email for r in queries.recipients(later)}


def _let_the_next_try_come(issue) -> None:
    # The send's next try is scheduled a few seconds on; make it due now.
    issue.next_try_at = None
    db.session.commit()


def test_a_server_that_disappears_holds_the_send_up_and_it_heals_by_itself(
        app, client, world, vanishing_smtp, outbox):
    _family(world, 14)  # 15 with the world's family member
    issue = make_issue(world, status=IssueStatus.published)
    vanishing_smtp.start(accept=4)
    login(client, world.people["manager"])
    client.post(f"/newsletters/issues/{issue.id}/send")
    db.session.refresh(issue)
    assert issue.status == IssueStatus.sending  # never paused: nobody has to press anything
    assert issue.held_up_since is not None and "421" in issue.held_up_reason
    assert issue.next_try_at is not None
    counts = queries.delivery_counts(issue.id)
    assert counts["sent"] == 4 and counts["queued"] == 11 and counts["sending"] == 0
    assert counts["failed"] == 0 and counts["retrying"] == 0  # an outage fails nobody
    page = client.get(f"/newsletters/issues/{issue.id}/progress").data.decode()
    assert "What happened:" in page and "What Involve is doing:" in page
    assert "What you can do:" in page and "Nobody will get two copies" in page
    assert "is held up" in client.get("/").data.decode()  # the manager's home page says so
    # Still down: the next try waits again, a little longer, and mails nobody.
    _let_the_next_try_come(issue)
    assert delivery.run(issue.id).held_up
    db.session.refresh(issue)
    assert issue.held_up_tries == 2
    vanishing_smtp.start()  # the server is back
    _let_the_next_try_come(issue)
    app.config["NEWSLETTER_HOLD_UP_NOTICE_SECONDS"] = 0
    try:
        assert delivery.run(issue.id).finished
    finally:
        app.config.pop("NEWSLETTER_HOLD_UP_NOTICE_SECONDS")
    messages = vanishing_smtp.wait_for(16)
    db.session.refresh(issue)
    assert issue.status == IssueStatus.sent and issue.held_up_since is None
    received = [m["To"] for m in messages if "going again" not in m["Subject"]]
    assert len(received) == 15 and len(set(received)) == 15  # nobody twice, nobody forgotten
    # The author is told by email once mail works again, through the server that is back.
    (notice,) = [m for m in messages if "going again" in m["Subject"]]
    assert notice["To"] == world.people["manager"].user.email
    assert "What happened:" in notice.as_string() and outbox == []
    page = client.get(f"/newsletters/issues/{issue.id}/progress").data.decode()
    assert "Finished. 15 people got it by email." in page


def test_greylisted_addresses_are_tried_again_and_never_hold_the_send_up(world, vanishing_smtp):
    _family(world, 2)
    issue = make_issue(world, status=IssueStatus.published)
    services.start_sending(issue, by=None)
    db.session.commit()
    vanishing_smtp.start(greylist=True)
    outcome = delivery.run(issue.id)
    assert not outcome.held_up and outcome.retry_in is not None
    rows = _deliveries(issue)
    assert {r.status for r in rows.values()} == {DeliveryStatus.queued}
    assert {r.attempts for r in rows.values()} == {1}
    assert all(r.next_attempt_at is not None and "451" in r.error for r in rows.values())
    assert queries.delivery_counts(issue.id)["retrying"] == 3
    assert delivery.run(issue.id).sent == 0  # not due yet
    db.session.execute(Delivery.__table__.update().values(next_attempt_at=None))
    db.session.commit()
    assert delivery.run(issue.id).finished
    assert len(vanishing_smtp.messages) == 3
    assert {r.attempts for r in _deliveries(issue).values()} == {2}
    assert db.session.scalar(select(func.count(Suppression.id))) == 0


def test_no_server_at_all_fails_nobody(world, vanishing_smtp):
    issue = make_issue(world, status=IssueStatus.published)
    services.start_sending(issue, by=None)
    db.session.commit()
    outcome = delivery.run(issue.id)  # nothing listens on the port
    assert outcome.held_up and outcome.retry_in is not None
    row = db.session.scalar(select(Delivery))
    assert row.status == DeliveryStatus.queued and row.attempts == 0
    db.session.refresh(issue)
    assert "ConnectionRefusedError" in issue.held_up_reason


def test_a_dead_workers_claims_go_back_to_the_queue_once_their_lease_ends(world, outbox):
    from datetime import timedelta

    from involve.extensions import utcnow
    from involve.newsletters.tasks import carry_on

    _family(world, 2)
    issue = make_issue(world, status=IssueStatus.published)
    services.start_sending(issue, by=None)
    db.session.commit()
    claimed = delivery.claim_batch(issue.id, 2)  # ... and the worker dies here
    assert delivery.sends_to_carry_on() == ([], db.session.scalar(
        select(func.max(Delivery.claimed_at))) + delivery.claim_lease())  # still alive
    db.session.execute(Delivery.__table__.update().values(
        claimed_at=utcnow() - timedelta(seconds=41)).where(Delivery.status == "sending"))
    db.session.commit()
    assert carry_on() == [issue.id]  # immediate queue: the run happens here
    assert len(claimed) == 2 and queries.delivery_counts(issue.id)["sent"] == 3
    assert len(outbox) == 3


def test_a_run_whose_claim_was_taken_back_stops_before_the_final_dot(world, smtp_server):
    _family(world, 2)
    issue = make_issue(world, status=IssueStatus.published)
    services.start_sending(issue, by=None)
    db.session.commit()
    batch = delivery.claim_batch(issue.id, 3)
    token = db.session.scalar(select(Delivery.claim).where(Delivery.id == batch[0].id))
    db.session.execute(Delivery.__table__.update().values(claim="someone-else"))
    db.session.commit()
    import pytest

    mailer = delivery.Mailer()
    with pytest.raises(delivery.ClaimLost):
        mailer.send("involve@localhost", batch[0].email, b"Subject: x\r\n\r\nx\r\n",
                    lambda: delivery.hand_over(batch[0].id, token))
    mailer.close()
    assert smtp_server.wait_for(1, timeout=0.5) == []  # the server kept nothing
    assert queries.delivery_counts(issue.id)["sent"] == 0


def test_progress_page_updates_without_a_refresh_and_works_without_javascript(client, world):
    _family(world, 2)
    issue = make_issue(world, status=IssueStatus.published)
    services.start_sending(issue, by=None)
    db.session.commit()
    login(client, world.people["manager"])
    page = client.get(f"/newsletters/issues/{issue.id}/progress").data.decode()
    assert 'http-equiv="refresh"' not in page
    assert 'src="/static/js/send-progress.js"' in page and "<script>" not in page
    assert 'aria-live="polite"' in page and "Refresh the figures" in page
    assert (f'data-progress-url="/newsletters/issues/{issue.id}/progress.json"') in page
    assert '<td data-progress="counts.sent">0</td><td data-progress="counts.waiting">3</td>' \
        in page
    data = client.get(f"/newsletters/issues/{issue.id}/progress.json").get_json()
    assert data["counts"]["waiting"] == 3 and data["status"] == "sending"
    assert data["summary"] == "Sending. 0 people have it so far; 3 are waiting."
    assert data["held_up"] is None and data["done"] is False


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


@given(st.lists(st.sampled_from([b".", b"..", b"\r\n", b"\n", b"\r", b"a", b" "])).map(b"".join))
def test_dot_stuffing_doubles_a_dot_at_the_start_of_every_line_as_smtplib_does(raw):
    assert mail.dot_stuffed(raw) == smtplib._quote_periods(raw)
