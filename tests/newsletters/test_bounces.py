"""Bounces: copies carry a return path Involve can read; reports read from a real POP3
mailbox on loopback suppress hard-bounced addresses for their organisation only."""

from __future__ import annotations

import hmac
import threading

import pytest
from sqlalchemy import func, select

from involve.extensions import db
from involve.newsletters import bounces, delivery, queries, services
from involve.newsletters.models import Delivery, DeliveryStatus, IssueStatus, Suppression
from involve.newsletters.tasks import read_bounces
from involve.people.models import Role
from tests.conftest import login, loopback_smtp
from tests.factories import make_org, make_person, make_service
from tests.newsletters.helpers import make_issue, make_subscriber
from tests.newsletters.imap_server import IMAPServer, postfix_report
from tests.newsletters.pop3_server import Mailbox, POP3Server

DOMAIN = "bounce.example.org"


@pytest.fixture
def smtp(app):
    with loopback_smtp(app, NEWSLETTER_BOUNCE_DOMAIN=DOMAIN,
                       NEWSLETTER_BOUNCE_MAILBOX="") as sink:
        yield sink


@pytest.fixture
def pop3(app):
    mailbox = Mailbox()
    server = POP3Server(mailbox)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config["NEWSLETTER_BOUNCE_MAILBOX"] = server.url
    try:
        yield mailbox
    finally:
        app.config["NEWSLETTER_BOUNCE_MAILBOX"] = ""
        server.shutdown()
        server.server_close()


def report(to: str, recipient: str, *, status: str = "5.1.1", action: str = "failed",
           quoted_headers: str = "") -> bytes:
    """A delivery status notification (RFC 3464) as a receiving server sends it."""
    return (
        f"From: MAILER-DAEMON@mx.example.net\r\nTo: {to}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.net\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: {action}\r\nStatus: {status}\r\n"
        f"Diagnostic-Code: smtp; 550 {status} mailbox unknown\r\n\r\n"
        f"--b\r\nContent-Type: text/rfc822-headers\r\n\r\n{quoted_headers}"
        "Subject: Spring news\r\n\r\n--b--\r\n").encode()


def _send(world, issue) -> None:
    services.start_sending(issue, by=None)
    db.session.commit()
    delivery.run(issue.id)


def test_a_hard_bounce_read_from_the_mailbox_suppresses_the_address(client, world, smtp,
                                                                    pop3):
    relatives = [make_person(world.org, f"Relative {i}", email=f"rel{i}@test.example",
                             roles=[(Role.family, world.home)]) for i in range(2)]
    issue = make_issue(world, status=IssueStatus.published)
    _send(world, issue)
    rows = {d.email: d for d in db.session.scalars(select(Delivery))}
    gone = rows["rel0@test.example"]
    # Each copy's envelope sender names it (VERP) on the bounce domain.
    return_path = next(s for s in smtp.senders if s.startswith(f"bounces+{gone.id}-"))
    assert return_path.endswith("@" + DOMAIN)
    assert all(s.startswith("bounces+") for s in smtp.senders)
    message = next(m for m in smtp.messages if "<rel0@test.example>" in m["To"])
    assert message["X-Involve-Delivery"] == return_path[len("bounces+"):].split("@")[0]
    pop3.messages.append(report(return_path, "rel0@test.example"))
    pop3.messages.append(b"From: a@b.org\r\nTo: " + return_path.encode()
                         + b"\r\nSubject: I am on holiday\r\n\r\nBack on Monday.\r\n")
    read_bounces.call_local()
    db.session.expire_all()
    assert pop3.messages == []  # read, dealt with, deleted
    suppression = db.session.scalar(select(Suppression))
    assert (suppression.organisation_id, suppression.email, suppression.reason.value) == \
        (world.org.id, "rel0@test.example", "hard_bounce")
    assert "mailbox unknown" in suppression.detail
    assert db.session.get(Delivery, gone.id).status == DeliveryStatus.failed
    assert db.session.get(Delivery, rows["rel1@test.example"].id).status == \
        DeliveryStatus.sent
    # The manager sees it on the sending page, and the print list offers paper instead.
    login(client, world.people["manager"])
    page = client.get(f"/newsletters/issues/{issue.id}/progress").data.decode()
    assert "rel0@test.example" in page and "came back" in page
    copies = {c.person.full_name: c.reasons for c in queries.print_list(issue)}
    assert copies[relatives[0].full_name] == ("Email could not be delivered",)
    # The next issue is not sent to it.
    assert "rel0@test.example" not in {r.email for r in queries.recipients(
        make_issue(world, title="Summer", status=IssueStatus.published))}


def test_a_report_quoting_only_the_header_is_read_too(world, smtp, pop3):
    make_subscriber(world.home, "friend@example.org")
    issue = make_issue(world, audiences=["public"], status=IssueStatus.published)
    _send(world, issue)
    (message,) = smtp.messages
    pop3.messages.append(report("involve@localhost", "friend@example.org",
                                quoted_headers=f"X-Involve-Delivery: "
                                               f"{message['X-Involve-Delivery']}\r\n"))
    assert bounces.read_mailbox() == (1, 1)
    assert queries.is_suppressed(world.org.id, "friend@example.org")


def test_soft_forged_and_foreign_reports_change_nothing(world, smtp, pop3):
    make_subscriber(world.home, "friend@example.org")
    issue = make_issue(world, audiences=["public"], status=IssueStatus.published)
    _send(world, issue)
    row = db.session.scalar(select(Delivery))
    token = delivery.compose(issue).bounce_token(row.id)
    forged = f"{row.id}-{'0' * 16}"
    pop3.messages.extend([
        report(f"bounces+{token}@{DOMAIN}", "friend@example.org", status="4.2.2",
               action="delayed"),
        report(f"bounces+{forged}@{DOMAIN}", "friend@example.org"),
        report(f"bounces+{row.id + 999}-{'a' * 16}@{DOMAIN}", "x@example.org"),
        b"not an email at all",
    ])
    assert bounces.read_mailbox() == (4, 0)
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Suppression.id))) == 0
    assert db.session.get(Delivery, row.id).status == DeliveryStatus.sent


def test_a_bounce_stops_only_the_organisation_that_sent_the_copy(world, smtp, pop3):
    other = make_org("Elmfield Trust")
    make_subscriber(make_service(other, "Elm Lodge"), "shared@example.org")
    make_subscriber(world.home, "shared@example.org")
    issue = make_issue(world, audiences=["public"], status=IssueStatus.published)
    _send(world, issue)
    (message,) = smtp.messages
    pop3.messages.append(report(f"bounces+{message['X-Involve-Delivery']}@{DOMAIN}",
                                "shared@example.org"))
    bounces.read_mailbox()
    assert queries.is_suppressed(world.org.id, "shared@example.org")
    assert not queries.is_suppressed(other.id, "shared@example.org")


def test_a_wrong_password_or_scheme_is_said_plainly(app, world, pop3):
    import poplib

    url = app.config["NEWSLETTER_BOUNCE_MAILBOX"].replace(":secret@", ":wrong@")
    pop3.messages.append(b"Subject: kept\r\n\r\nx\r\n")
    with pytest.raises(poplib.error_proto):
        bounces.read_mailbox(url)
    with pytest.raises(ValueError, match="must start pop3://"):
        bounces.read_mailbox("ftp://x@127.0.0.1")
    assert len(pop3.messages) == 1


# --- over IMAP -----------------------------------------------------------------------------

@pytest.fixture
def imap(app):
    mailbox = Mailbox()
    server = IMAPServer(mailbox)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config["NEWSLETTER_BOUNCE_MAILBOX"] = server.url
    try:
        yield mailbox
    finally:
        app.config["NEWSLETTER_BOUNCE_MAILBOX"] = ""
        server.shutdown()
        server.server_close()


def test_a_postfix_report_read_over_imap_suppresses_the_address(client, world, smtp, imap):
    make_person(world.org, "Relative", email="gone@test.example",
                roles=[(Role.family, world.home)])
    make_person(world.org, "Relative Two", email="here@test.example",
                roles=[(Role.family, world.home)])
    issue = make_issue(world, status=IssueStatus.published)
    _send(world, issue)
    rows = {d.email: d for d in db.session.scalars(select(Delivery))}
    gone = rows["gone@test.example"]
    return_path = next(s for s in smtp.senders if s.startswith(f"bounces+{gone.id}-"))
    original = next(m for m in smtp.messages if "gone@test.example" in m["To"])
    imap.messages.append(postfix_report(return_path, "gone@test.example",
                                        original.as_bytes()))
    imap.messages.append(b"From: a@b.org\r\nTo: " + return_path.encode()
                         + b"\r\nSubject: Out of office\r\n\r\nBack on Monday.\r\n")
    read_bounces.call_local()
    db.session.expire_all()
    assert imap.messages == []  # read, dealt with, expunged
    (suppression,) = db.session.scalars(select(Suppression))
    assert (suppression.organisation_id, suppression.email, suppression.reason.value) == \
        (world.org.id, "gone@test.example", "hard_bounce")
    assert "User unknown" in suppression.detail
    assert db.session.get(Delivery, gone.id).status == DeliveryStatus.failed
    assert db.session.get(Delivery, rows["here@test.example"].id).status == \
        DeliveryStatus.sent
    login(client, world.people["manager"])
    page = client.get(f"/newsletters/issues/{issue.id}/progress").text
    assert "gone@test.example" in page and "came back" in page
    assert "here@test.example" not in page


def test_a_wrong_imap_password_is_said_plainly_and_keeps_the_mail(app, world, imap):
    import imaplib

    url = app.config["NEWSLETTER_BOUNCE_MAILBOX"].replace(":secret@", ":wrong@")
    imap.messages.append(b"Subject: kept\r\n\r\nx\r\n")
    with pytest.raises(imaplib.IMAP4.error, match="wrong user name or password"):
        bounces.read_mailbox(url)
    assert bounces.read_mailbox() == (1, 0)  # with the right one, read (and not a bounce)
    assert imap.messages == []


def test_a_malformed_report_does_not_stop_the_rest_of_the_mailbox(world, smtp, imap):
    """A report whose server words hold a NUL (PostgreSQL refuses it, SQLite would keep it)
    is read like any other, and the reports after it are read too."""
    for n in (1, 2):
        make_person(world.org, f"Relative {n}", email=f"gone{n}@test.example",
                    roles=[(Role.family, world.home)])
    issue = make_issue(world, status=IssueStatus.published)
    _send(world, issue)
    rows = {d.email: d for d in db.session.scalars(select(Delivery))}
    paths = {email: next(s for s in smtp.senders if s.startswith(f"bounces+{row.id}-"))
             for email, row in rows.items()}
    poisoned = report(paths["gone1@test.example"], "gone1@test.example").replace(
        b"mailbox unknown", b"mailbox\x00unknown")
    # A copy's id no database column holds, under a good keyed hash: the database refuses
    # to look it up. It stays in the mailbox for the next run; the rest are read.
    huge = 2**70
    mac = hmac.new(delivery.bounce_key(), str(huge).encode(), "sha256").hexdigest()[:16]
    unreadable = report(f"bounces+{huge}-{mac}@{DOMAIN}", "who@example.org")
    imap.messages.extend([poisoned, unreadable, b"\xff\xfe\x00 not mail at all\r\n",
                          report(paths["gone2@test.example"], "gone2@test.example")])
    assert bounces.read_mailbox() == (3, 2)
    db.session.expire_all()
    assert imap.messages == [unreadable]
    assert queries.suppressed_addresses(world.org.id) == {"gone1@test.example",
                                                           "gone2@test.example"}
    for suppression in db.session.scalars(select(Suppression)):
        assert "\x00" not in suppression.detail
    for row in db.session.scalars(select(Delivery)):
        assert "\x00" not in row.error


# --- a provider's webhook ------------------------------------------------------------------

def _webhook(organisation_id: int) -> str:
    return f"/newsletters/bounces/webhook/{bounces.webhook_token(organisation_id)}"


def _rows() -> dict[str, int]:
    return {table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables}


def test_a_provider_reports_hard_bounces_by_webhook(app, client, world, smtp, monkeypatch):
    make_person(world.org, "Relative", email="gone@test.example",
                roles=[(Role.family, world.home)])
    make_subscriber(world.home, "friend@example.org")
    issue = make_issue(world, audiences=["families", "public"], status=IssueStatus.published)
    _send(world, issue)
    # A provider holds no form key: the signed token in the address stands in for it.
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    response = client.post(_webhook(world.org.id), json=[
        "Gone@Test.example", {"email": "friend@example.org", "reason": "550 5.1.1 no such user"},
        "nobody-we-know@example.net"])
    assert response.status_code == 200
    assert response.json == {"read": 3, "suppressed": 2}
    db.session.expire_all()
    assert queries.suppressed_addresses(world.org.id) == {"gone@test.example",
                                                           "friend@example.org"}
    friend = db.session.scalar(select(Suppression).where(
        Suppression.email == "friend@example.org"))
    assert friend.reason.value == "hard_bounce" and "no such user" in friend.detail
    # Reported again: nothing new.
    assert client.post(_webhook(world.org.id), json=["gone@test.example"]).json == \
        {"read": 1, "suppressed": 0}
    # The manager sees both on the issue's sending page.
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)
    login(client, world.people["manager"])
    page = client.get(f"/newsletters/issues/{issue.id}/progress").text
    assert "gone@test.example" in page and "friend@example.org" in page
    assert "came back" in page


@pytest.mark.parametrize("body, kind, said", [
    ("not json", "text/plain", "Send a JSON list of hard bounces"),
    ('{"email": "gone@test.example"}', "application/json", "Send a JSON list"),
    ("[", "application/json", "Send a JSON list"),
    ('["gone@test.example", "not an address"]', "application/json",
     "Bounce 2 is not an email address"),
    ('["gone@test.example", 42]', "application/json", "Bounce 2 must be an address"),
    ('[{"reason": "550"}]', "application/json", "Bounce 1 must be an address"),
    ('[{"email": "gone@test.example", "reason": 550}]', "application/json",
     "Bounce 1 must be an address"),
    ('["gone@test.example"' + ', "a@example.org"' * 1000
     + "]", "application/json", "at most 1000 bounces"),
    # Nested deeper than Python's JSON parser goes (it raised RecursionError: a 500).
    ("[" * 100000 + "]" * 100000, "application/json", "Send a JSON list"),
    ('{"a":' * 50000 + "1" + "}" * 50000, "application/json", "Send a JSON list"),
    ('["gone@test.example"]', "application/x-www-form-urlencoded", "Send a JSON list"),
])
def test_a_bad_webhook_report_changes_nothing(client, world, body, kind, said):
    make_person(world.org, "Relative", email="gone@test.example",
                roles=[(Role.family, world.home)])
    db.session.commit()
    before = _rows()
    response = client.post(_webhook(world.org.id), data=body, content_type=kind)
    assert response.status_code == 400
    assert said in response.json["error"]
    db.session.expire_all()
    assert _rows() == before


def test_a_webhook_token_reaches_its_own_organisation_only(client, world):
    other = make_org("Elmfield Trust")
    make_subscriber(make_service(other, "Elm Lodge"), "shared@example.org")
    make_subscriber(make_service(other, "Elm Court"), "theirs@example.org")
    make_subscriber(world.home, "shared@example.org")
    db.session.commit()
    before = _rows()
    # Our token, their address: it is not ours to stop.
    assert client.post(_webhook(world.org.id), json=["theirs@example.org"]).json == \
        {"read": 1, "suppressed": 0}
    # Made-up, tampered and other organisations' ids under our signature: not found.
    ours = bounces.webhook_token(world.org.id)
    for token in ("nothing", f"{other.id}.{ours.split('.', 1)[1]}", ours + "x",
                  bounces.webhook_token(other.id + 99)):
        response = client.post(f"/newsletters/bounces/webhook/{token}",
                               json=["shared@example.org"])
        assert response.status_code == 404, token
    db.session.expire_all()
    assert _rows() == before
    # A shared address stops only for the organisation whose token reported it.
    client.post(_webhook(world.org.id), json=["shared@example.org"])
    assert queries.is_suppressed(world.org.id, "shared@example.org")
    assert not queries.is_suppressed(other.id, "shared@example.org")


def test_the_webhook_address_comes_from_a_command(app, world):
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["newsletters", "bounce-webhook-url", world.org.name])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith(_webhook(world.org.id))
    assert runner.invoke(args=["newsletters", "bounce-webhook-url", str(world.org.id)]) \
        .output == result.output
    missing = runner.invoke(args=["newsletters", "bounce-webhook-url", "No Such Trust"])
    assert missing.exit_code != 0 and "no organisation called 'No Such Trust'" in missing.output


@pytest.mark.parametrize("body", [
    '["gone\\u0000@test.example"]',
    '[{"email": "gone@test.example", "reason": "550\\u0000 no such user"}]',
    '["gone@test.example"]\x00',
    # A lone surrogate is valid JSON but no UTF-8: neither database can take it (a 500).
    '[{"email": "gone@test.example", "reason": "550 \\ud800"}]',
])
def test_a_webhook_report_with_a_nul_character_changes_nothing(client, world, body):
    """SQLite would keep a NUL and PostgreSQL refuses one: refused the same on both (and a
    character no database can keep, too)."""
    make_person(world.org, "Relative", email="gone@test.example",
                roles=[(Role.family, world.home)])
    db.session.commit()
    before = _rows()
    response = client.post(_webhook(world.org.id), data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.is_json and response.json["error"]
    db.session.expire_all()
    assert _rows() == before


def test_a_webhook_body_too_big_or_an_old_token_changes_nothing(app, client, world,
                                                                monkeypatch):
    make_person(world.org, "Relative", email="gone@test.example",
                roles=[(Role.family, world.home)])
    db.session.commit()
    before = _rows()
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1000)
    huge = '["gone@test.example", "' + "x" * 2000 + '@example.org"]'
    assert client.post(_webhook(world.org.id), data=huge,
                       content_type="application/json").status_code == 413
    # A token signed with a secret key the site no longer uses is not found.
    monkeypatch.setitem(app.config, "SECRET_KEY", "the-old-secret")
    old = _webhook(world.org.id)
    monkeypatch.setitem(app.config, "SECRET_KEY", "test-secret-key")
    assert client.post(old, json=["gone@test.example"]).status_code == 404
    db.session.expire_all()
    assert _rows() == before


def test_the_bounce_webhook_is_rate_limited(app, world, database_url):
    from involve.extensions import limiter
    from tests.conftest import make_test_app

    make_person(world.org, "Relative", email="gone@test.example",
                roles=[(Role.family, world.home)])
    db.session.commit()
    limited = make_test_app(database_url, app.instance_path, RATELIMIT_ENABLED=True,
                            BOUNCE_WEBHOOK_LIMIT="2 per minute")
    try:
        client = limited.test_client()
        with limited.app_context():
            url = _webhook(world.org.id)
        codes = [client.post(url, json=["nobody@example.net"]).status_code for _ in range(3)]
        # A flood of made-up tokens is held back too.
        made_up = [client.post(f"/newsletters/bounces/webhook/x{i}", json=[]).status_code
                   for i in range(3)]
    finally:
        limiter.reset()
        limiter.enabled = False
    assert codes == [200, 200, 429]
    assert made_up[-1] == 429


def test_the_access_log_never_keeps_a_webhook_token(app, world):
    """The token never expires and stops an organisation's mail: a log line is no place for
    it (the path is logged, so the token is left out of it)."""
    import json
    import logging

    from involve.logs import JSONFormatter

    path = _webhook(world.org.id)
    record = logging.LogRecord("gunicorn.access", logging.INFO, "", 0, "%(h)s", None, None)
    record.args = {"h": "10.0.0.9", "m": "POST", "U": path, "s": "200"}
    line = json.loads(JSONFormatter().format(record))
    token = path.rsplit("/", 1)[1]
    assert token not in json.dumps(line)
    assert line["path"].startswith("/newsletters/bounces/webhook/")
