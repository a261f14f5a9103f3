"""Sending an issue: one delivery row per recipient, each recorded as it is handed over.

Exactly once per recipient, through crashes, restarts, outages and refusals:

* every recipient gets exactly one :class:`Delivery` row, unique per issue and address, added
  with insert-if-missing, so queueing twice adds nobody twice and forgets nobody;
* a run *claims* a batch of queued rows (a durable commit, with a claim token) before sending
  any of them, so two workers never send the same row;
* each message's transaction goes as far as the server's 354 answer to DATA (a long message
  also goes up to its last 16 KiB); then its row is marked "sent" *on condition that it is
  still claimed by this run*, and committed; only then are the message (or its end) and the
  final dot written, in one write (see :meth:`involve.mail.SMTPTransport._two_step`). A
  server keeps nothing of a transaction cut off before the final dot.

So a row still "sending" was never handed over, and can be queued again without mailing
anyone twice: a worker killed (SIGKILL) at any moment leaves nothing accepted unrecorded.
The window is bounded to at most one message per killed worker, and it can only *lose* that
message, never send it twice: the few microseconds between the commit and the write of the
final dot (on PostgreSQL, between sending the COMMIT and writing the dot: see
:class:`_HandOvers`), and a reply after the dot that says "no" but arrives as the worker
dies. A database error in the commit (a lock held past the busy timeout) stops the message
before its dot; the run tries again two seconds later, and the copies it held go back in the
queue when its claim expires. A run whose claim was taken back (it was thought dead) finds
out in that conditional update, before its dot, and stops. A refusal answering the final dot,
or no answer at all (the connection ended: per RFC 5321 only the server's 250 makes the
message its own), turns the row back from "sent". A refusal for good (5xx), to RCPT, to DATA
or to the final dot, fails the copy once and suppresses the address: each transaction carries
one recipient, so it is that address the server refuses.

Claims are leases: every message handed over renews its claim's ``claimed_at``; a claim with
no sign of life for :func:`claim_lease` belongs to a dead worker and its rows go back in the
queue (:func:`release_dead_claims`, run every minute and soon after a worker starts).

The message is rendered once per issue (Markdown, template, CSS inlining) and personalised per
recipient by string substitution, then encoded by hand; the next recipient's message is built
while the server takes in the one before. This is what lets a send run close to the speed of
a bare SMTP loop (``benchmarks/newsletter_send.py``).
"""
from __future__ import annotations

import binascii
import hashlib
import hmac
import re
import smtplib
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.header import Header
from email.utils import format_datetime, formataddr, parseaddr
from functools import partial
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import current_app
from markupsafe import escape
from sqlalchemy import and_, bindparam, func, select, update
from sqlalchemy.exc import OperationalError

from involve import audit, mail
from involve.extensions import db, utcnow, worker_stopping
from involve.kernel import clock
from involve.newsletters.models import (
    Delivery,
    DeliveryStatus,
    Issue,
    IssueStatus,
    Suppression,
    SuppressionReason,
)
from involve.newsletters.queries import stopped_addresses
from involve.newsletters.services import link_keys
from involve.people.models import Organisation
from involve.text import markdown_to_text, render_markdown

BATCH_SIZE = 500
MAX_ATTEMPTS = 12  # for an address turned away for now: about a day and a half of tries
CLAIM_LEASE_SECONDS = 40
STOPPED = ("Not sent: the address unsubscribed or bounced after the sending began, so it is "
           "on the list of addresses we never email.")

_NAME = "@@involve-greeting@@"
_UNSUBSCRIBE = "@@involve-unsubscribe@@"
_PREFERENCES = "@@involve-preferences@@"


def absolute_url(endpoint: str, **values: object) -> str:
    """An address on the site, built without a request (the worker has none)."""
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return current_app.config["BASE_URL"].rstrip("/") + path


_IMAGE = re.compile(r"\]\(/newsletters/images/(\d+)\.jpg")


def _absolute_images(source: str) -> str:
    # Pictures in the body are site-relative and need a signed-in reader; a mail client has
    # neither, so the email points at each picture's signed address (one per picture, the same
    # for every reader: it tells nobody who opened what).
    from involve.newsletters.services import image_token

    return _IMAGE.sub(lambda m: "](" + absolute_url(
        "newsletters.mail_image", token=image_token(int(m.group(1)))), source)


@dataclass
class ComposedIssue:
    """An issue rendered once, ready to be personalised for each recipient."""

    issue_id: int
    organisation_id: int
    subject: str
    sender: str
    envelope_from: str
    text: str
    html: str
    web_url: str
    unsubscribe_mailto: str
    unsubscribe_prefix: str
    preferences_prefix: str
    list_id: str
    list_key: str
    zone: ZoneInfo
    bounce_domain: str = ""
    bounce_key: bytes = b""
    _subject_header: str = field(init=False)

    def __post_init__(self) -> None:
        # The headers are written by hand below, so they are checked here as build_message does.
        mail.header_value("From", self.sender)
        mail.header_value("Subject", self.subject)
        self._subject_header = Header(self.subject, "utf-8").encode() \
            if not self.subject.isascii() else self.subject
        # Work done once per issue rather than once per recipient: line endings, and the
        # escaped link prefixes (tokens are URL-safe base64, which needs no escaping).
        self._text = _crlf(self.text)
        self._html = _crlf(self.html)
        self._html_unsubscribe = str(escape(self.unsubscribe_prefix))
        self._html_preferences = str(escape(self.preferences_prefix))
        # The one-click link stops this newsletter (RFC 8058: the list the message is from).
        self._list_suffix = f"?list={self.list_key}"
        self._html_list_suffix = str(escape(self._list_suffix))
        # One MIME boundary per issue: "=-" never occurs in quoted-printable or base64 text
        # (RFC 2045, 6.7 and 6.8), so it need not differ from one message to the next.
        boundary = f"=-involve-{uuid.uuid4().hex}"
        self._content_type = f'Content-Type: multipart/alternative; boundary="{boundary}"'
        self._text_start = f"--{boundary}\r\n{_TEXT_HEADERS}".encode("ascii")
        self._html_start = f"--{boundary}\r\n{_HTML_HEADERS}".encode("ascii")
        self._end = f"--{boundary}--\r\n".encode("ascii")

    def personal(self, delivery_id: int, email: str, name: str,
                 date: str | None = None, key: str = "TEST") -> bytes:
        """The finished message for one recipient, as the bytes sent over SMTP.

        ``key`` is the address's link key (see :func:`services.link_keys`); previews and
        test emails keep the default, whose links do nothing.
        """
        name = " ".join(name.split())  # never a line break in a header
        token = key
        unsubscribe = self.unsubscribe_prefix + token + self._list_suffix
        # "Dear Grace," for someone we know by name; "Hello," for a subscriber who gave none.
        greeting = f"Dear {name}," if name else "Hello,"
        text = (self._text.replace(_NAME, greeting)
                .replace(_UNSUBSCRIBE, unsubscribe)
                .replace(_PREFERENCES, self.preferences_prefix + token))
        html = (self._html.replace(_NAME, str(escape(greeting)))
                .replace(_UNSUBSCRIBE, self._html_unsubscribe + token + self._html_list_suffix)
                .replace(_PREFERENCES, self._html_preferences + token))
        to = formataddr((name, email), charset="utf-8") if name else email
        head = (
            f"From: {self.sender}\r\n"
            f"To: {to}\r\n"
            f"Subject: {self._subject_header}\r\n"
            f"Date: {date or mail_date(self.zone)}\r\n"
            f"Message-ID: <newsletter-{self.issue_id}-"
            f"{delivery_id or 'test-' + uuid.uuid4().hex}@involve.local>\r\n"
            f"List-Id: {self.list_id}\r\n"
            f"X-Involve-Delivery: {self.bounce_token(delivery_id)}\r\n"
            f"List-Unsubscribe: <{unsubscribe}>, <{self.unsubscribe_mailto}>\r\n"
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
            "MIME-Version: 1.0\r\n"
            f"{self._content_type}\r\n\r\n"
        )
        # Quoted-printable keeps the short text part readable; the HTML part is base64,
        # which costs a fraction as much to encode for every recipient.
        encoded_text = binascii.b2a_qp(text.encode("utf-8"), istext=True)
        flat_html = binascii.b2a_base64(html.encode("utf-8"), newline=False)
        return b"".join((
            head.encode("utf-8"),
            self._text_start,
            encoded_text, b"" if encoded_text.endswith(b"\r\n") else b"\r\n",
            self._html_start,
            b"\r\n".join([flat_html[i:i + 76] for i in range(0, len(flat_html), 76)]),
            b"\r\n",
            self._end,
        ))

    def bounce_token(self, delivery_id: int) -> str:
        """The delivery's id with a short keyed hash, so a bounce names its copy and nobody
        can forge one that suppresses an address (see :mod:`involve.newsletters.bounces`)."""
        mac = hmac.digest(self.bounce_key, str(delivery_id).encode(), "sha256")
        return f"{delivery_id}-{mac[:8].hex()}"

    def return_path(self, delivery_id: int) -> str:
        """The envelope sender of one copy: VERP (bounces+<token>@domain) where a bounce
        domain is set, so a bounce names the copy it is about; else the From address."""
        if not self.bounce_domain:
            return self.envelope_from
        return f"bounces+{self.bounce_token(delivery_id)}@{self.bounce_domain}"


_TEXT_HEADERS = ('Content-Type: text/plain; charset="utf-8"\r\n'
                 "Content-Transfer-Encoding: quoted-printable\r\n\r\n")
_HTML_HEADERS = ('Content-Type: text/html; charset="utf-8"\r\n'
                 "Content-Transfer-Encoding: base64\r\n\r\n")


def mail_date(zone: ZoneInfo | None = None, at: datetime | None = None) -> str:
    """The Date header for now (or ``at``), in the organisation's time zone with its real
    offset (+0000 in winter, +0100 in summer in London)."""
    zone = zone or clock.zone()
    return format_datetime((at or utcnow()).astimezone(zone))


def list_id(issue: Issue, organisation: Organisation) -> str:
    """The List-Id header (RFC 2919) of the issue's newsletter: a name and a fixed id."""
    name = issue.service.name if issue.service is not None else organisation.name
    host = urlsplit(current_app.config["BASE_URL"]).hostname or ""
    if "." not in host or host.replace(".", "").isdigit():
        host = "localhost"  # RFC 2919's namespace for a list without a domain of its own
    ident = f"<{issue.list_key}.organisation-{organisation.id}.newsletters.{host}>"
    phrase = f"{name} newsletter"
    mail.header_value("List-Id", phrase)
    if phrase.isascii():
        phrase = '"' + phrase.replace("\\", "\\\\").replace('"', '\\"') + '"'
    else:
        phrase = Header(phrase, "utf-8").encode()
    return f"{phrase} {ident}"


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def compose(issue: Issue, subject_prefix: str = "") -> ComposedIssue:
    """Render the issue's email once: plain text from the Markdown, HTML with CSS inlined."""
    organisation = db.session.get(Organisation, issue.organisation_id)
    body = _absolute_images(issue.body)
    web_url = absolute_url("newsletters.issue", issue_id=issue.id)
    context = dict(issue=issue, subject=issue.title, web_url=web_url, greeting=_NAME,
                   unsubscribe_url=_UNSUBSCRIBE, preferences_url=_PREFERENCES)
    text = _render("newsletters/mail/issue.txt", body=markdown_to_text(body), **context)
    # Markdown's hard line breaks end in two spaces: invisible, and noise in a text email.
    text = "\n".join(line.rstrip() for line in text.splitlines()) + "\n"
    html = _render("newsletters/mail/issue.html", body=render_markdown(body), **context)
    sender = current_app.config["MAIL_FROM"]
    envelope_from = parseaddr(sender)[1] or "involve@localhost"
    return ComposedIssue(
        issue_id=issue.id, organisation_id=issue.organisation_id,
        subject=subject_prefix + issue.title,
        sender=sender, envelope_from=envelope_from,
        text=text, html=mail.inline_css(html), web_url=web_url,
        unsubscribe_mailto=f"mailto:{envelope_from}?subject=unsubscribe",
        # Addresses made once per issue: only the key differs per recipient.
        unsubscribe_prefix=absolute_url("newsletters.unsubscribe", token="-")[:-1],
        preferences_prefix=absolute_url("newsletters.preferences", token="-")[:-1],
        list_id=list_id(issue, organisation), list_key=issue.list_key,
        zone=clock.zone(organisation),
        bounce_domain=current_app.config.get("NEWSLETTER_BOUNCE_DOMAIN", ""),
        bounce_key=bounce_key())


def bounce_key() -> bytes:
    """The key of the hash in bounce tokens, derived from the secret key."""
    return hashlib.sha256(b"newsletters.bounce|" + str(
        current_app.config["SECRET_KEY"]).encode()).digest()


def _render(template: str, **context: object) -> str:
    # Straight from the Jinja environment: the worker has no request, and the site's context
    # processors (the signed-in person, the menu) have no place in an email anyway.
    return current_app.jinja_env.get_template(template).render(**context)


class Mailer:
    """Sends finished messages through the configured transport, over one connection."""

    def __init__(self, transport: mail.Transport | None = None) -> None:
        self.transport = transport or mail.transport()

    def send(self, envelope_from: str, to: str, raw: bytes,
             handover: mail.Handover | None = None,
             meanwhile: mail.Handover | None = None) -> None:
        self.transport.send_raw(envelope_from, to, raw, handover, meanwhile)

    def close(self) -> None:
        self.transport.close()


# --- the delivery rows -------------------------------------------------------------------

def queue_deliveries(issue: Issue) -> int:
    """Add a queued delivery for every recipient who has none yet; return how many were added."""
    from involve.newsletters.queries import recipients

    wanted = recipients(issue)
    # Every address gets its link key now, in bulk, rather than one at a time while sending.
    link_keys(issue.organisation_id, [r.email for r in wanted])
    existing = set(db.session.scalars(select(Delivery.email).where(
        Delivery.issue_id == issue.id)))
    rows = [dict(issue_id=issue.id, email=r.email, name=r.name, person_id=r.person_id,
                 subscriber_id=r.subscriber_id, status=DeliveryStatus.queued.value, attempts=0,
                 error="", created_at=utcnow())
            for r in wanted if r.email not in existing]
    for start in range(0, len(rows), 1000):
        db.session.execute(_insert_if_missing(rows[start:start + 1000]))
    return len(rows)


def _insert_if_missing(rows: list[dict]):
    # ON CONFLICT DO NOTHING: a second worker queueing at the same moment adds nobody twice.
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(Delivery.__table__).values(rows).on_conflict_do_nothing(
        index_elements=["issue_id", "email"])


@dataclass
class Claimed:
    """A delivery row claimed by this run."""

    id: int
    email: str
    name: str
    attempts: int


class ClaimLost(Exception):
    """Our claim on a row was taken back (we were thought dead): this run stops sending."""


def _config(name: str, default: float) -> float:
    return float(current_app.config.get(name, default))


def batch_size() -> int:
    """How many rows a run claims at a time (``NEWSLETTER_BATCH_SIZE``)."""
    return int(_config("NEWSLETTER_BATCH_SIZE", BATCH_SIZE))


def claim_lease() -> timedelta:
    """How long a claim stays ours without a sign of life (``NEWSLETTER_CLAIM_LEASE_SECONDS``).

    Every message handed over renews it. Safety never depends on it (a run whose claim was
    taken back finds out before its next final dot, and stops); it only says how soon a dead
    worker's rows are sent by someone else, so keep it above ``MAIL_TIMEOUT``.
    """
    return timedelta(seconds=_config("NEWSLETTER_CLAIM_LEASE_SECONDS", CLAIM_LEASE_SECONDS))


def claim_batch(issue_id: int, size: int | None = None) -> list[Claimed]:
    """Mark up to ``size`` queued rows as ours and commit, before any of them is sent."""
    token = uuid.uuid4().hex
    now = utcnow()
    due = (select(Delivery.id).where(
        Delivery.issue_id == issue_id, Delivery.status == DeliveryStatus.queued,
        (Delivery.next_attempt_at.is_(None)) | (Delivery.next_attempt_at <= now))
        .order_by(Delivery.id).limit(size or batch_size()))
    db.session.execute(
        update(Delivery).where(Delivery.id.in_(due.scalar_subquery()),
                               Delivery.status == DeliveryStatus.queued)
        .values(status=DeliveryStatus.sending, claim=token, claimed_at=now)
        .execution_options(synchronize_session=False))
    db.session.commit()
    rows = db.session.connection().execute(
        select(Delivery.id, Delivery.email, Delivery.name, Delivery.attempts)
        .where(Delivery.claim == token, Delivery.status == DeliveryStatus.sending)
        .order_by(Delivery.id)).all()
    return [Claimed(*row) for row in rows]


def release_dead_claims(issue_id: int, lease: timedelta | None = None) -> datetime | None:
    """Put rows whose claim shows no sign of life for ``lease`` back in the queue.

    A claim's sign of life is the newest ``claimed_at`` of its rows (renewed at every
    message handed over). Rows still "sending" were never handed over (see the module's
    docstring), so queueing them again mails nobody twice. Returns when the oldest claim
    still alive would expire, so a caller can look again then (None: no live claims).
    """
    lease = lease or claim_lease()
    now = utcnow()
    claims = db.session.execute(
        select(Delivery.claim, func.max(Delivery.claimed_at)).where(
            Delivery.issue_id == issue_id, Delivery.claim.is_not(None),
            Delivery.claim.in_(select(Delivery.claim).where(
                Delivery.issue_id == issue_id, Delivery.status == DeliveryStatus.sending)))
        .group_by(Delivery.claim)).all()
    dead = [claim for claim, seen in claims if seen is None or seen <= now - lease]
    alive = [seen + lease for claim, seen in claims if claim not in dead]
    if dead:
        db.session.execute(
            update(Delivery).where(Delivery.issue_id == issue_id, Delivery.claim.in_(dead),
                                   Delivery.status == DeliveryStatus.sending)
            .values(status=DeliveryStatus.queued, claim=None)
            .execution_options(synchronize_session=False))
    return min(alive) if alive else None


def _release(rows: list[Claimed], token: str | None = None) -> None:
    """Give claimed rows that were not tried back to the queue (not counted as a try)."""
    if rows:
        db.session.execute(
            update(Delivery).where(Delivery.id.in_([r.id for r in rows]),
                                   Delivery.status == DeliveryStatus.sending)
            .values(status=DeliveryStatus.queued, claim=None)
            .execution_options(synchronize_session=False))


_HAND_OVER = (update(Delivery.__table__)
              .where(Delivery.__table__.c.id == bindparam("row_id"),
                     Delivery.__table__.c.claim == bindparam("token"),
                     Delivery.__table__.c.status == DeliveryStatus.sending.value)
              .values(status=DeliveryStatus.sent.value, sent_at=bindparam("now"),
                      claimed_at=bindparam("now"), error="",
                      attempts=Delivery.__table__.c.attempts + 1))


def hand_over(row_id: int, token: str) -> None:
    """Record a row as sent, and commit, just before its final dot is written.

    Raises :class:`ClaimLost` (writing nothing) when the row is no longer ours.
    """
    now = utcnow()
    result = db.session.connection().execute(
        _HAND_OVER, {"row_id": row_id, "token": token, "now": now})
    if result.rowcount != 1:
        db.session.rollback()
        raise ClaimLost(f"delivery {row_id} is no longer claimed by this run")
    db.session.commit()


class _HandOvers:
    """:func:`hand_over` for a whole run on a connection of its own, straight through the
    driver: one UPDATE and one commit per message is most of what delivery adds to a bare
    SMTP loop, so it is kept as small as it can be.

    On SQLite the commit happens in this process, so it is done the moment the call returns.
    A PostgreSQL commit is a round trip, and the server commits a COMMIT it has received even
    if the worker dies before the answer comes back: a worker killed while waiting for it
    would lose the message. So on PostgreSQL the COMMIT is only *sent* here (whole, into the
    socket), the final dot is written straight after it, and :meth:`settle` reads the answer
    once the dot is out. A worker killed between the two leaves both in its sockets, and the
    kernel still delivers what a dead process wrote: the moment that can lose a message is
    again two system calls wide, as on SQLite.
    """

    def __init__(self) -> None:
        self.sqlite = db.engine.dialect.name == "sqlite"
        mark = "?" if self.sqlite else "%s"
        self.sql = (f"UPDATE {Delivery.__tablename__} SET status = 'sent', sent_at = {mark}, "
                    f"claimed_at = {mark}, error = '', attempts = attempts + 1 "
                    f"WHERE id = {mark} AND claim = {mark} AND status = 'sending'")
        self.connection = db.engine.raw_connection()
        self.cursor = self.connection.cursor()
        self.driver_error = db.engine.dialect.loaded_dbapi.OperationalError
        self.pgconn = None if self.sqlite else self.connection.driver_connection.pgconn
        self.committing = False

    def __call__(self, row_id: int, token: str) -> None:
        self.settle()
        now = utcnow()
        # SQLite keeps UTC times as naive text, as the UTCDateTime column type does
        # ("%Y-%m-%d %H:%M:%S.%f", written here the quicker way).
        value: object = now.isoformat(" ", "microseconds")[:26] if self.sqlite else now
        try:
            self.cursor.execute(self.sql, (value, value, row_id, token))
            if self.cursor.rowcount != 1:
                raise ClaimLost(f"delivery {row_id} is no longer claimed by this run")
            if self.pgconn is None:
                self.connection.commit()
            else:
                self.pgconn.send_query(b"COMMIT")  # blocking mode: sent whole, or it raises
                self.committing = True
        except self.driver_error as error:
            # A locked or lost database reads as the session's errors do, so that a run
            # stops on it the same way (before the final dot) and tries again soon.
            self._rollback()
            raise OperationalError(self.sql, None, error) from error
        except BaseException:
            self._rollback()
            raise

    def settle(self) -> None:
        """Read the answer to a COMMIT sent before the final dot (PostgreSQL only).

        A COMMIT refused there (the database went away at that very moment) leaves the
        message sent without its record: the run stops, and the copy goes again when its
        claim expires. That takes the database failing then, not the worker.
        """
        if not self.committing:
            return
        self.committing = False
        from psycopg import pq

        failed = b""
        while (result := self.pgconn.get_result()) is not None:
            if result.status != pq.ExecStatus.COMMAND_OK:
                failed = result.error_message or b"COMMIT failed"
        if failed:
            raise OperationalError("COMMIT", None, self.driver_error(failed.decode(
                errors="replace")))

    def _rollback(self) -> None:
        try:
            self.connection.rollback()
        except self.driver_error:
            pass  # a connection that is gone has nothing to roll back

    def close(self) -> None:
        try:
            self.settle()
        except OperationalError:
            pass  # its copy waits for its claim to expire, as settle says
        finally:
            self.cursor.close()
            self.connection.close()


def _undo_hand_over(row: Claimed, error: smtplib.SMTPException, text: str,
                    organisation_id: int) -> None:
    """The server answered the final dot with a refusal: the row was not sent after all."""
    db.session.execute(
        update(Delivery).where(Delivery.id == row.id, Delivery.status == DeliveryStatus.sent)
        .values(status=DeliveryStatus.sending, sent_at=None, attempts=row.attempts)
        .execution_options(synchronize_session=False))
    _record_refusal(row, error, text, organisation_id)


def _release_handed(row: Claimed) -> None:
    """Queue a handed-over row again: the server never answered its final dot."""
    db.session.execute(
        update(Delivery).where(Delivery.id == row.id, Delivery.status == DeliveryStatus.sent)
        .values(status=DeliveryStatus.queued, sent_at=None, claim=None, attempts=row.attempts)
        .execution_options(synchronize_session=False))


def _record_refusal(row: Claimed, error: smtplib.SMTPException, text: str,
                    organisation_id: int) -> None:
    """A refusal of this one address or message: for good (5xx) or for now (4xx).

    A refusal for good suppresses the address, whether it answers RCPT or comes after DATA
    (to the DATA command or to the message's final dot): every transaction carries this one
    recipient, so the server has refused this address, and trying again would only be
    refused again (or, for a filter's verdict, look like persistence to it).
    """
    attempts = row.attempts + 1
    if _is_permanent(error):
        values = dict(status=DeliveryStatus.failed, attempts=attempts, error=text[:1000])
    else:
        final = attempts >= MAX_ATTEMPTS
        values = dict(status=DeliveryStatus.failed if final else DeliveryStatus.queued,
                      attempts=attempts, error=text[:1000], claim=None,
                      next_attempt_at=None if final else utcnow() + backoff(attempts))
    db.session.execute(
        update(Delivery).where(Delivery.id == row.id).values(**values)
        .execution_options(synchronize_session=False))
    if _is_permanent(error):
        suppress(organisation_id, row.email, SuppressionReason.hard_bounce, text)
    db.session.commit()


def backoff(attempts: int) -> timedelta:
    """How long an address turned away for now waits: 1, 2, 4 ... minutes, at most 4 hours."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), timedelta(hours=4))


def outage_backoff(tries: int) -> timedelta:
    """How long a send held up by its server waits: 5, 10, 20 ... seconds, at most 5 minutes."""
    base = _config("NEWSLETTER_OUTAGE_RETRY_SECONDS", 5)
    return timedelta(seconds=min(base * 2 ** max(tries - 1, 0), 300))


def suppress(organisation_id: int, email: str, reason: SuppressionReason,
             detail: str = "") -> Suppression:
    """Put an address on one organisation's suppression list (once); return its entry.

    A hard bounce replaces an unsubscribe: the address cannot take mail, whatever it asked.
    """
    email = email.strip().lower()
    found = db.session.scalar(select(Suppression).where(
        Suppression.organisation_id == organisation_id, Suppression.email == email))
    if found is None:
        found = Suppression(organisation_id=organisation_id, email=email, reason=reason,
                            detail=detail[:500])
        db.session.add(found)
        db.session.flush()
    elif reason == SuppressionReason.hard_bounce and found.reason != reason:
        found.reason, found.detail = reason, detail[:500]
    return found


# --- a sending run -----------------------------------------------------------------------

@dataclass
class RunOutcome:
    """How a sending run ended."""

    sent: int = 0
    failed: int = 0
    finished: bool = False
    held_up: bool = False
    interrupted: bool = False
    retry_in: timedelta | None = None


def _error_text(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{code} {msg.decode(errors='replace')}"
                         for code, msg in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {error.smtp_error.decode(errors='replace')}"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _codes(error: BaseException) -> list[int]:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return [code for code, _ in error.recipients.values()]
    if isinstance(error, smtplib.SMTPResponseException):
        return [error.smtp_code]
    return []


def _is_server_problem(error: BaseException) -> bool:
    """The server, not this reader: unreachable, gone, closing (421), or refusing our
    sign-in or sender address (its settings). The whole send waits and tries again."""
    if isinstance(error, smtplib.SMTPAuthenticationError | smtplib.SMTPSenderRefused
                  | smtplib.SMTPHeloError | smtplib.SMTPConnectError
                  | smtplib.SMTPServerDisconnected | smtplib.SMTPNotSupportedError):
        return True
    codes = _codes(error)
    return not codes or 421 in codes


def _is_permanent(error: BaseException) -> bool:
    codes = _codes(error)
    return bool(codes) and all(500 <= code < 600 for code in codes)


def run(issue_id: int, *, batch_size: int | None = None, max_batches: int | None = None,
        mailer: Mailer | None = None) -> RunOutcome:
    """Send the issue's queued copies, batch by batch over one connection, until none is due.

    Never pauses: a refusal of one address (5xx) fails that copy and suppresses the address;
    an address turned away for now (4xx, greylisting) waits with backoff; a server that is
    unreachable or refuses us holds the whole send up (see :func:`hold_up`) until a later run
    gets through. A worker asked to stop (SIGTERM) stops between two messages.
    """
    outcome = RunOutcome()
    issue = db.session.get(Issue, issue_id)
    if issue is None or issue.status != IssueStatus.sending:
        return outcome
    if issue.next_try_at is not None and issue.next_try_at > utcnow():
        outcome.held_up = True
        outcome.retry_in = issue.next_try_at - utcnow()
        return outcome
    composed = compose(issue)
    mailer = mailer or Mailer()
    hand_overs = _HandOvers()
    batches = 0
    try:
        while max_batches is None or batches < max_batches:
            if worker_stopping():
                outcome.interrupted = True
                return outcome
            batch = claim_batch(issue_id, batch_size)
            if not batch:
                break
            batches += 1
            problem = _send_batch(issue, composed, mailer, batch, outcome, hand_overs)
            if problem is not None:
                hold_up(issue, problem)
                db.session.commit()
                outcome.held_up = True
                outcome.retry_in = issue.next_try_at - utcnow()
                return outcome
            if outcome.interrupted or outcome.retry_in is not None:
                return outcome
    except OperationalError:
        # The database is locked or gone for a moment. Nothing was handed over without
        # being recorded; rows left claimed are taken back when the claim expires.
        db.session.rollback()
        outcome.retry_in = timedelta(seconds=2)
        return outcome
    finally:
        mailer.close()
        hand_overs.close()
    return _finish_if_done(issue, outcome)


def _send_batch(issue: Issue, composed: ComposedIssue, mailer: Mailer, batch: list[Claimed],
                outcome: RunOutcome, hand_overs: _HandOvers) -> str | None:
    """Send one claimed batch, recording each message as it is handed over. Returns the
    server's problem when the send must wait for it, else None."""
    token = db.session.scalar(select(Delivery.claim).where(Delivery.id == batch[0].id))
    date = mail_date(composed.zone)
    # Someone may have unsubscribed (or bounced) since the copies were queued.
    emails = [r.email for r in batch]
    stopped = set(db.session.scalars(select(Suppression.email).where(
        Suppression.organisation_id == issue.organisation_id,
        Suppression.email.in_(emails)))) | stopped_addresses(
        issue.organisation_id, composed.list_key, emails)
    keys = link_keys(issue.organisation_id, emails)
    if stopped:
        db.session.execute(
            update(Delivery).where(Delivery.id.in_([r.id for r in batch
                                                    if r.email in stopped]))
            .values(status=DeliveryStatus.failed, claim=None, error=STOPPED)
            .execution_options(synchronize_session=False))
        db.session.commit()
        outcome.failed += len(stopped)
    rows = [r for r in batch if r.email not in stopped]
    built: dict[int, bytes] = {}

    def build(index: int) -> bytes:
        row = rows[index]
        return composed.personal(row.id, row.email, row.name, date, keys[row.email])

    def build_next(index: int) -> None:
        # Called while the server takes in the message before: building a message costs
        # about as much as recording one, and this way it costs the send no time.
        if index < len(rows):
            try:
                built[index] = build(index)
            except Exception:  # noqa: BLE001 (built again, and raised, in its own turn)
                pass

    def after_dot(index: int) -> None:
        hand_overs.settle()  # the record is final before the server's answer is read
        build_next(index)

    for index, row in enumerate(rows):
        if worker_stopping():
            _release(rows[index:])
            db.session.commit()
            outcome.interrupted = True
            return None
        raw = built.pop(index, None) or build(index)
        handed: list[int] = []

        def handover(row_id: int = row.id, handed: list[int] = handed) -> None:
            hand_overs(row_id, token)
            handed.append(row_id)

        try:
            mailer.send(composed.return_path(row.id), row.email, raw, handover,
                        partial(after_dot, index + 1))
        except ClaimLost:
            return None  # a recovery thought us dead and took the rest back: stop here
        except (smtplib.SMTPException, OSError) as error:
            text = _error_text(error)
            if handed and isinstance(error, smtplib.SMTPResponseException):
                # the final dot was answered "no"
                _undo_hand_over(row, error, text, issue.organisation_id)
                outcome.failed += _is_permanent(error)
            elif handed:
                # The connection ended before the server answered the final dot: the server
                # has not taken the message (RFC 5321: only its 250 does that), so it waits
                # with the rest for the server to come back.
                _release_handed(row)
                _release(rows[index + 1:])
                db.session.commit()
                return text
            elif _is_server_problem(error):
                _release(rows[index:])
                db.session.commit()
                return text
            else:
                _record_refusal(row, error, text, issue.organisation_id)
                outcome.failed += _is_permanent(error)
        else:
            outcome.sent += 1
            if issue.held_up_since is not None:
                recovered(issue)
    return None


def _finish_if_done(issue: Issue, outcome: RunOutcome) -> RunOutcome:
    pending = db.session.execute(
        select(func.count(), func.min(Delivery.next_attempt_at)).where(
            Delivery.issue_id == issue.id,
            Delivery.status.in_([DeliveryStatus.queued, DeliveryStatus.sending]))).one()
    if pending[0] == 0:
        # The move sending -> sent as a conditional UPDATE, so that two workers finishing
        # together record it once (and a paused issue is left paused).
        done = db.session.execute(
            update(Issue).where(Issue.id == issue.id, Issue.status == IssueStatus.sending)
            .values(status=IssueStatus.sent, sent_at=utcnow())
            .execution_options(synchronize_session=False)).rowcount
        db.session.expire(issue)
        if done:
            audit.record("newsletter.sent", obj=issue, **delivery_summary(issue.id))
        db.session.commit()
        outcome.finished = True
    elif pending[1] is not None:
        outcome.retry_in = max(pending[1] - utcnow(), timedelta(seconds=1))
    else:
        # What is left is claimed by another run: a live one, or one that died or stopped on
        # a database error (a lock) without giving its copies back. Look again when that
        # claim would expire, so they never wait for the watch that runs every minute.
        expiry = release_dead_claims(issue.id)
        db.session.commit()
        outcome.retry_in = timedelta(seconds=1) + (
            max(expiry - utcnow(), timedelta(0)) if expiry is not None else timedelta(0))
    return outcome


def delivery_summary(issue_id: int) -> dict[str, int]:
    """Counts for the audit trail."""
    from involve.newsletters.queries import delivery_counts

    counts = delivery_counts(issue_id)
    return {"sent": counts["sent"], "failed": counts["failed"]}


def hold_up(issue: Issue, reason: str) -> None:
    """The mail server cannot take the send now: note why and when to try again.

    The send stays "sending" and carries on by itself; the progress page tells the manager.
    """
    now = utcnow()
    if issue.held_up_since is None:
        issue.held_up_since = now
        audit.record("newsletter.send_held_up", obj=issue, reason=reason[:300])
    issue.held_up_reason = reason[:1000]
    issue.held_up_tries += 1
    issue.next_try_at = now + outage_backoff(issue.held_up_tries)


def recovered(issue: Issue) -> None:
    """Mail goes again after a hold-up: clear it, and tell the author if it lasted a while.

    The email goes through the server that has just taken a message, never while it is down.
    """
    since, reason = issue.held_up_since, issue.held_up_reason
    issue.held_up_since, issue.held_up_reason = None, ""
    issue.held_up_tries, issue.next_try_at = 0, None
    audit.record("newsletter.send_going_again", obj=issue)
    db.session.commit()
    notice_after = timedelta(seconds=_config("NEWSLETTER_HOLD_UP_NOTICE_SECONDS", 300))
    author = issue.created_by
    address = author.user.email if author and author.user else None
    if since is None or utcnow() - since < notice_after or not address:
        return
    context = dict(subject=f"Sending is going again: {issue.title}", issue=issue,
                   reason=reason, since=since, now=utcnow(),
                   progress_url=absolute_url("newsletters.progress", issue_id=issue.id))
    try:
        mail.send(mail.build_message(
            to=address, subject=str(context["subject"]),
            text=_render("newsletters/mail/held_up.txt", **context),
            html=_render("newsletters/mail/held_up.html", **context)))
    except (smtplib.SMTPException, OSError):
        pass  # the progress page said it all along


def sends_to_carry_on() -> tuple[list[int], datetime | None]:
    """Sends that need a run now, because a worker died or its task was lost.

    Takes back the rows of dead claims (see :func:`release_dead_claims`). Returns the issues
    with copies due and no live claim, and when to look again for claims still alive.
    """
    now = utcnow()
    due, look_again = [], None
    for issue in db.session.scalars(select(Issue).where(
            Issue.status == IssueStatus.sending)).all():
        expiry = release_dead_claims(issue.id)
        if expiry is not None:
            look_again = expiry if look_again is None else min(look_again, expiry)
            continue  # a worker is sending it
        if issue.next_try_at is not None and issue.next_try_at > now:
            continue  # held up, and a task is scheduled for the next try
        waiting = db.session.scalar(select(func.count()).where(
            Delivery.issue_id == issue.id, Delivery.status == DeliveryStatus.queued,
            (Delivery.next_attempt_at.is_(None)) | (Delivery.next_attempt_at <= now)))
        left = db.session.scalar(select(func.count()).where(
            Delivery.issue_id == issue.id,
            Delivery.status.in_([DeliveryStatus.queued, DeliveryStatus.sending])))
        if waiting or not left:
            due.append(issue.id)
    db.session.commit()
    return due, look_again


def requeue_for_resume(issue_id: int) -> None:
    """Make every waiting copy due now, and take back copies a dead worker left claimed."""
    release_dead_claims(issue_id)
    db.session.execute(
        update(Delivery).where(and_(Delivery.issue_id == issue_id,
                                    Delivery.status == DeliveryStatus.queued))
        .values(next_attempt_at=None).execution_options(synchronize_session=False))


def send_test(issue: Issue, to: str, name: str) -> None:
    """Send one copy, marked TEST in its subject, to an address the manager chose, outside
    the delivery rows (its links do nothing)."""
    composed = compose(issue, subject_prefix="TEST: ")
    raw = composed.personal(0, to, name)
    mailer = Mailer()
    try:
        mailer.send(composed.envelope_from, to, raw)
    finally:
        mailer.close()


def parse(raw: bytes):
    """A finished message as an email object (for previews and the memory transport)."""
    return message_from_bytes(raw, policy=policy.default)

