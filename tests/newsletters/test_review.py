"""Who reads and receives what across scopes and organisations; re-subscribing; restarts;
the feed's required elements; and the bad-input paths of the writing and sending pages."""

from __future__ import annotations

import re
from datetime import timedelta
from xml.etree import ElementTree as ET

import pytest
from sqlalchemy import func, select

from involve.extensions import db, utcnow
from involve.newsletters import delivery, queries, services
from involve.newsletters.models import (
    Delivery,
    DeliveryStatus,
    Issue,
    IssueStatus,
    Subscriber,
    Suppression,
    SuppressionReason,
)
from involve.newsletters.tasks import carry_on_sending
from involve.people.models import Role
from involve.scheduling import ScheduledRun
from tests.conftest import login
from tests.factories import link_family, make_org, make_person, make_service
from tests.newsletters.helpers import make_issue, make_subscriber

ATOM = {"a": "http://www.w3.org/2005/Atom"}


def _status(app, person, path: str) -> int:
    client = app.test_client()
    login(client, person)
    return client.get(path).status_code


def test_organisation_issue_is_read_by_everyone_it_is_emailed_to(app, world):
    cousin = make_person(world.org, "Cousin Nolink", email="cousin@test.example")
    link_family(cousin, world.people["service_user"], "Cousin")  # a relative by link alone
    other_org = make_org("Elsewhere Care")
    stranger = make_person(other_org, "Board Elsewhere", email="board@elsewhere.example",
                           roles=[(Role.board, None), (Role.family, None)])
    issue = make_issue(world, service=None, title="Organisation news",
                       audiences=["families"], status=IssueStatus.published)
    db.session.commit()
    emailed = {r.email for r in queries.recipients(issue)}
    assert emailed >= {world.people["family"].user.email, world.outsiders["family"].user.email,
                       "cousin@test.example"}
    assert "board@elsewhere.example" not in emailed
    path = f"/newsletters/issues/{issue.id}"
    for reader in (world.people["family"], world.outsiders["family"], cousin):
        assert _status(app, reader, path) == 200, reader.full_name
    assert _status(app, world.people["staff"], path) == 403
    assert _status(app, stranger, path) == 404  # another organisation's board and families
    page = app.test_client()
    login(page, cousin)
    assert b"Organisation news" in page.get(
        f"/newsletters/organisations/{world.org.id}").data


def test_a_relative_by_link_reads_the_service_issue_but_not_another_services(app, world):
    cousin = make_person(world.org, "Cousin Nolink", email="cousin@test.example")
    link_family(cousin, world.people["service_user"], "Cousin")
    home = make_issue(world, audiences=["families"], status=IssueStatus.published)
    away = make_issue(world, service="away", audiences=["families"],
                      status=IssueStatus.published)
    db.session.commit()
    assert _status(app, cousin, f"/newsletters/issues/{home.id}") == 200
    assert _status(app, cousin, f"/newsletters/issues/{away.id}") == 403


def test_another_organisations_admin_cannot_manage_or_read_our_issues(app, world):
    other_org = make_org("Elsewhere Care")
    admin = make_person(other_org, "Admin Elsewhere", email="admin@elsewhere.example",
                        roles=[(Role.admin, None)])
    draft = make_issue(world, service=None, title="Organisation draft", audiences=["board"])
    db.session.commit()
    assert _status(app, admin, f"/newsletters/issues/{draft.id}/edit") == 404
    assert _status(app, admin, f"/newsletters/issues/{draft.id}") == 404
    ours = make_person(world.org, "Admin Here", email="admin@here.example",
                       roles=[(Role.admin, None)])
    assert _status(app, ours, f"/newsletters/issues/{draft.id}/edit") == 200


def test_organisation_public_issue_goes_to_our_services_subscribers_only(world):
    other_org = make_org("Elsewhere Care")
    make_subscriber(world.home, "friend@example.org")
    make_subscriber(make_service(other_org, "Far Away"), "stranger@example.org")
    issue = make_issue(world, service=None, audiences=["public"], status=IssueStatus.published)
    assert {r.email for r in queries.recipients(issue)} == {"friend@example.org"}


def test_unsubscribed_subscriber_can_subscribe_again_with_a_new_confirmation(client, world,
                                                                              outbox):
    make_subscriber(world.home, "friend@example.org")
    services.unsubscribe(world.org.id, "friend@example.org")
    db.session.commit()
    response = client.post(f"/newsletters/services/{world.home.slug}/subscribe",
                           data={"email": "friend@example.org"})
    assert response.status_code == 200 and b"Check your email" in response.data
    assert len(outbox) == 1
    # nothing changes until confirmed
    assert queries.is_suppressed(world.org.id, "friend@example.org")
    link = outbox[0].get_body(("plain",)).get_content().split("http://localhost")[1].split()[0]
    client.post(link)
    assert not queries.is_suppressed(world.org.id, "friend@example.org")
    issue = make_issue(world, audiences=["public"], status=IssueStatus.published)
    assert [r.email for r in queries.recipients(issue)] == ["friend@example.org"]


def test_a_subscribed_address_that_still_gets_the_newsletter_is_told_so(client, world, outbox):
    make_subscriber(world.home, "friend@example.org")
    db.session.commit()
    response = client.post(f"/newsletters/services/{world.home.slug}/subscribe",
                           data={"email": "friend@example.org"})
    assert response.status_code == 400 and b"already subscribed" in response.data
    assert outbox == []


def test_a_send_left_behind_by_a_restart_is_picked_up_by_the_periodic_task(world, outbox):
    for i in range(3):
        make_person(world.org, f"Relative {i}", email=f"rel{i}@test.example",
                    roles=[(Role.family, world.home)])
    issue = make_issue(world, status=IssueStatus.published)
    services.start_sending(issue, by=None)
    db.session.commit()
    (first,) = delivery.claim_batch(issue.id, 1)
    delivery.hand_over(first.id, db.session.get(Delivery, first.id).claim)  # went out
    outbox.clear()
    delivery.claim_batch(issue.id, 1)  # ... and the worker dies holding this one
    an_hour_ago = utcnow() - timedelta(hours=1)
    db.session.execute(Delivery.__table__.update().values(claimed_at=an_hour_ago,
                                                          created_at=an_hour_ago))
    db.session.commit()
    carry_on_sending.call_local()
    db.session.refresh(issue)
    assert issue.status == IssueStatus.sent
    assert queries.delivery_counts(issue.id)["sent"] == 4 and len(outbox) == 3
    db.session.execute(ScheduledRun.__table__.delete())  # a minute later
    db.session.commit()
    carry_on_sending.call_local()  # nothing left: nobody mailed twice
    assert len(outbox) == 3


def test_a_send_in_progress_is_left_to_its_worker(world, outbox):
    issue = make_issue(world, status=IssueStatus.published)
    services.start_sending(issue, by=None)
    db.session.commit()
    delivery.claim_batch(issue.id, 1)  # a live worker holds the only copy
    db.session.execute(Delivery.__table__.update().values(
        created_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    carry_on_sending.call_local()
    assert outbox == []
    assert queries.delivery_counts(issue.id)["sending"] == 1


def test_atom_feed_has_the_required_elements(app, world):
    make_issue(world, title="Open day", audiences=["public"], status=IssueStatus.sent)
    db.session.commit()
    response = app.test_client().get(f"/newsletters/services/{world.home.slug}/feed.atom?x=1")
    root = ET.fromstring(response.data)
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"
    for name in ("id", "title", "updated", "author/a:name"):
        assert root.find(f"a:{name}", ATOM) is not None, name
    assert root.find("a:id", ATOM).text == \
        f"http://localhost/newsletters/services/{world.home.slug}/feed.atom"
    assert root.find("a:link[@rel='self']", ATOM).get("href") == root.find("a:id", ATOM).text
    (entry,) = root.findall("a:entry", ATOM)
    for name in ("id", "title", "updated", "link[@rel='alternate']", "content"):
        assert entry.find(f"a:{name}", ATOM) is not None, name
    assert entry.find("a:updated", ATOM).text.endswith("Z")
    empty = app.test_client().get(f"/newsletters/services/{world.away.slug}/feed.atom")
    assert ET.fromstring(empty.data).find("a:updated", ATOM) is not None


def test_print_list_counts_addresses_that_bounce_as_no_email(world):
    relative = make_person(world.org, "Bounce Relative", email="gone@test.example",
                           roles=[(Role.family, world.home)])
    delivery.suppress(world.org.id, "gone@test.example", SuppressionReason.hard_bounce, "550")
    issue = make_issue(world, audiences=["families"])
    copies = {c.person.full_name: c.reasons for c in queries.print_list(issue)}
    assert copies[relative.full_name] == ("Email could not be delivered",)


def test_preferences_offer_a_printed_copy_only_to_people_we_can_post_to(client, world):
    token = services.recipient_token(world.org.id, 'x@example.org')
    address = world.people["family"].user.email
    family = services.recipient_token(world.org.id, address)
    db.session.commit()
    page = client.get(f"/newsletters/preferences/{token}")
    assert b"Email me these newsletters" in page.data and b"printed copy" not in page.data
    page = client.get(f"/newsletters/preferences/{family}")
    assert b"printed copy" in page.data


def test_email_headers_and_plain_text_are_tidy(world):
    issue = make_issue(world, body="- **You said:** more tea  \n  **We did:** tea at four\n")
    raw = delivery.compose(issue).personal(1, "a@example.org", "Ann")
    message = delivery.parse(raw)
    assert message["Date"].endswith("+0000")
    text = message.get_body(("plain",)).get_content()
    assert all(line == line.rstrip() for line in text.splitlines())


# --- bad input on the writing and sending pages: a clear message, nothing changed ---------

def _snapshot(issue: Issue) -> tuple:
    db.session.expire_all()
    fresh = db.session.get(Issue, issue.id)
    return (fresh.title, fresh.body, fresh.status, fresh.publish_at, fresh.audiences,
            db.session.scalar(select(func.count(Delivery.id))))


@pytest.mark.parametrize("status, path, data, words", [
    (IssueStatus.draft, "edit", {"title": "", "audiences": ["families"], "body": "x"},
     "Give the issue a title."),
    (IssueStatus.draft, "edit", {"title": "T", "body": "x"},
     "Choose at least one group of readers."),
    (IssueStatus.draft, "publish", {"publish_at": "next Tuesday"},
     "Please give the time as a date and time"),
    (IssueStatus.draft, "unschedule", {}, "not scheduled, so there is nothing to cancel"),
    (IssueStatus.published, "resume", {}, "nothing to resume"),
    (IssueStatus.published, "publish", {}, "already published"),
])
def test_bad_input_is_refused_and_changes_nothing(client, world, status, path, data, words):
    issue = make_issue(world, status=status)
    db.session.commit()
    before = _snapshot(issue)
    login(client, world.people["manager"])
    response = client.post(f"/newsletters/issues/{issue.id}/{path}", data=data,
                           follow_redirects=True)
    assert words.encode() in response.data
    assert _snapshot(issue) == before


def test_test_email_refused_by_the_server_says_so(client, world, smtp_server):
    smtp_server.refuse.add(world.people["manager"].user.email)
    issue = make_issue(world)
    login(client, world.people["manager"])
    response = client.post(f"/newsletters/issues/{issue.id}/test-email",
                           data={"email": world.people["manager"].user.email},
                           follow_redirects=True)
    assert b"The test email could not be sent" in response.data
    assert smtp_server.messages == []
    db.session.refresh(issue)
    assert issue.status == IssueStatus.draft


def test_nothing_is_sent_to_suppressed_or_unconfirmed_addresses(world, outbox):
    make_subscriber(world.home, "waiting@example.org", confirmed=False)
    make_subscriber(world.home, "gone@example.org")
    db.session.add(Suppression(organisation_id=world.org.id, email="gone@example.org",
                               reason=SuppressionReason.unsubscribed))
    issue = make_issue(world, audiences=["public"], status=IssueStatus.published)
    services.start_sending(issue, by=None)
    db.session.commit()
    delivery.run(issue.id)
    assert outbox == [] and db.session.scalar(select(func.count(Delivery.id))) == 0
    assert db.session.scalar(select(func.count(Subscriber.id))) == 2
    db.session.refresh(issue)
    assert issue.status == IssueStatus.sent
    assert not db.session.scalars(select(Delivery).where(
        Delivery.status != DeliveryStatus.sent)).all()


def test_without_mail_settings_the_real_path_writes_eml_files_to_the_instance_folder(
        app, client, world, monkeypatch):
    from pathlib import Path

    from involve.audit import AuditEvent

    monkeypatch.setitem(app.config, "MAIL_TRANSPORT", None)
    monkeypatch.setitem(app.config, "MAIL_SERVER", None)
    folder = Path(app.instance_path) / "mail"
    before = set(folder.glob("*.eml")) if folder.exists() else set()
    issue = make_issue(world, status=IssueStatus.published)
    login(client, world.people["manager"])
    client.post(f"/newsletters/issues/{issue.id}/send")
    written = set(folder.glob("*.eml")) - before
    try:
        assert len(written) == 1
        message = delivery.parse(written.pop().read_bytes())
        assert message["To"].addresses[0].addr_spec == world.people["family"].user.email
        assert message.get_content_type() == "multipart/alternative"
    finally:
        for path in set(folder.glob("*.eml")) - before:
            path.unlink()
    db.session.refresh(issue)
    assert issue.status == IssueStatus.sent
    trail = list(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.action.like("newsletter.sen%")).order_by(AuditEvent.id)))
    assert trail == ["newsletter.send_started", "newsletter.sent"]


def test_pictures_in_the_email_open_without_signing_in_by_their_signed_address(app, world):
    from involve.newsletters.models import IssueImage

    issue = make_issue(world, audiences=["families"], status=IssueStatus.published)
    picture = IssueImage(issue_id=issue.id, alt_text="Tulips", data=b"\xff\xd8jpeg")
    db.session.add(picture)
    db.session.flush()
    issue.body += f"\n{picture.markdown}\n"
    db.session.commit()
    composed = delivery.compose(issue)
    htmls = [delivery.parse(composed.personal(n, f"r{n}@example.org", "R"))
             .get_body(("html",)).get_content() for n in (1, 2)]
    src = re.search(r'<img[^>]* src="http://localhost([^"]+)"', htmls[0]).group(1)
    assert src in htmls[1]  # the same address for everyone: it tracks nobody
    anonymous = app.test_client()
    response = anonymous.get(src)
    assert response.status_code == 200 and response.data == b"\xff\xd8jpeg"
    assert anonymous.get(src.replace(".jpg", "x.jpg")).status_code == 404
    assert anonymous.get(f"/newsletters/mail-images/{picture.id}.jpg").status_code == 404
    assert anonymous.get(picture.path).status_code == 302  # the web address still needs sign-in


def test_an_address_that_unsubscribes_while_a_send_is_paused_is_not_mailed(world, outbox):
    for i in range(2):
        make_person(world.org, f"Relative {i}", email=f"rel{i}@test.example",
                    roles=[(Role.family, world.home)])
    issue = make_issue(world, status=IssueStatus.published)
    services.start_sending(issue, by=None)
    db.session.commit()
    services.unsubscribe(world.org.id, "rel1@test.example")  # between queueing and sending
    db.session.commit()
    outcome = delivery.run(issue.id)
    assert outcome.finished and outcome.sent == 2
    assert "rel1@test.example" not in {m["To"].addresses[0].addr_spec for m in outbox}
    row = db.session.scalar(select(Delivery).where(Delivery.email == "rel1@test.example"))
    assert row.status == DeliveryStatus.failed and "unsubscribed" in row.error
    assert row.attempts == 0


def test_a_server_refusing_our_sender_holds_the_send_up_and_loses_nobody(
        client, world, vanishing_smtp):
    # A 5xx about the server's own settings (sender, sign-in) is not the reader's fault:
    # the copies wait, the send is held up, and once the settings are right everyone is mailed.
    for i in range(11):
        make_person(world.org, f"Relative {i:02d}", email=f"rel{i:02d}@test.example",
                    roles=[(Role.family, world.home)])
    issue = make_issue(world, status=IssueStatus.published)
    vanishing_smtp.start(refuse_sender=True)
    login(client, world.people["manager"])
    client.post(f"/newsletters/issues/{issue.id}/send")
    db.session.refresh(issue)
    assert issue.status == IssueStatus.sending and "553" in issue.held_up_reason
    counts = queries.delivery_counts(issue.id)
    assert counts["failed"] == 0 and counts["queued"] == 12
    assert db.session.scalar(select(func.count(Suppression.id))) == 0
    vanishing_smtp.start()
    issue.next_try_at = None
    db.session.commit()
    delivery.run(issue.id)
    assert len(vanishing_smtp.wait_for(12)) == 12
    db.session.refresh(issue)
    assert issue.status == IssueStatus.sent


def test_progress_page_explains_each_failure_in_plain_words(client, world):
    issue = make_issue(world, status=IssueStatus.sending)
    for email, attempts, error in (("a@test.example", 5, "421 4.3.2 Try later"),
                                   ("b@test.example", 0, delivery.STOPPED)):
        db.session.add(Delivery(issue_id=issue.id, email=email, status=DeliveryStatus.failed,
                                attempts=attempts, error=error))
    db.session.commit()
    login(client, world.people["manager"])
    page = client.get(f"/newsletters/issues/{issue.id}/progress").data.decode()
    assert "Tried 5 times; the mail server kept failing." in page
    assert "The person stopped the emails" in page


def test_the_unsubscribe_link_of_a_stopped_address_offers_a_way_back(client, world):
    address = world.people["family"].user.email
    services.unsubscribe(world.org.id, address)
    db.session.commit()
    token = services.recipient_token(world.org.id, address)
    db.session.commit()
    page = client.get(f"/newsletters/unsubscribe/{token}").data.decode()
    assert "are not emailed to" in page and f"/newsletters/preferences/{token}" in page


def test_a_subscriber_without_a_name_is_greeted_plainly(world):
    issue = make_issue(world, audiences=["public"], status=IssueStatus.published)
    composed = delivery.compose(issue)
    unnamed = delivery.parse(composed.personal(1, "friend@example.org", ""))
    named = delivery.parse(composed.personal(2, "may@example.org", "May <b>"))
    assert "Hello," in unnamed.get_body(("plain",)).get_content().splitlines()
    assert "<p>Hello,</p>" in unnamed.get_body(("html",)).get_content()
    assert "Dear May <b>," in named.get_body(("plain",)).get_content()
    assert "Dear May &lt;b&gt;," in named.get_body(("html",)).get_content()
