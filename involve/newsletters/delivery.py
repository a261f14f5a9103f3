"""Sending an issue: one delivery row per recipient, claimed in batches, sent over one connection.

The rules that keep a send safe to retry or restart:

* every recipient gets exactly one :class:`Delivery` row, unique per issue and address, added
  with insert-if-missing, so queueing twice adds nobody twice and forgets nobody;
* a worker *claims* a batch of queued rows (a durable commit) before sending any of them, so two
  workers never send the same row;
* each batch's results are written back in one statement per kind of result, committed with
  the next batch's claim; anything that stops a batch part-way writes them down at once, so
  who was mailed is never lost.

A worker killed between claiming and recording (power cut) leaves its rows "sending"; resuming
puts rows claimed more than :data:`STALE_CLAIM` ago back in the queue, so the most anyone could
receive twice is the one batch in flight at the moment of the crash.

The message is rendered once per issue (Markdown, template, CSS inlining) and personalised per
recipient by string substitution, then encoded by hand: this is what lets a send run close to
the speed of a bare SMTP loop.
"""

from __future__ import annotations

import base64
import binascii
import re
import smtplib
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes, policy
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr

from flask import current_app
from itsdangerous import TimestampSigner
from markupsafe import escape
from sqlalchemy import and_, func, select, update

from involve import audit, mail
from involve.extensions import db, utcnow
from involve.newsletters.models import (
    Delivery,
    DeliveryStatus,
    Issue,
    IssueStatus,
    Suppression,
    SuppressionReason,
)
from involve.text import markdown_to_text, render_markdown

BATCH_SIZE = 500
MAX_ATTEMPTS = 5
PAUSE_AFTER_FAILURES = 10
STALE_CLAIM = timedelta(minutes=15)
STALL_GRACE = timedelta(minutes=2)
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
    subject: str
    sender: str
    envelope_from: str
    text: str
    html: str
    web_url: str
    unsubscribe_mailto: str
    unsubscribe_prefix: str
    preferences_prefix: str
    signer: TimestampSigner
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

    def personal(self, delivery_id: int, email: str, name: str,
                 date: str | None = None) -> bytes:
        """The finished message for one recipient, as the bytes sent over SMTP."""
        name = " ".join(name.split())  # never a line break in a header
        token = self.signer.sign(
            base64.urlsafe_b64encode(email.lower().encode()).rstrip(b"=")).decode()
        unsubscribe = self.unsubscribe_prefix + token
        # "Dear Grace," for someone we know by name; "Hello," for a subscriber who gave none.
        greeting = f"Dear {name}," if name else "Hello,"
        text = (self._text.replace(_NAME, greeting)
                .replace(_UNSUBSCRIBE, unsubscribe)
                .replace(_PREFERENCES, self.preferences_prefix + token))
        html = (self._html.replace(_NAME, str(escape(greeting)))
                .replace(_UNSUBSCRIBE, self._html_unsubscribe + token)
                .replace(_PREFERENCES, self._html_preferences + token))
        boundary = f"=-involve-{uuid.uuid4().hex}"
        to = formataddr((name, email), charset="utf-8") if name else email
        head = (
            f"From: {self.sender}\r\n"
            f"To: {to}\r\n"
            f"Subject: {self._subject_header}\r\n"
            f"Date: {date or mail_date()}\r\n"
            f"Message-ID: <newsletter-{self.issue_id}-"
            f"{delivery_id or 'test-' + boundary[10:]}@involve.local>\r\n"
            f"List-Unsubscribe: <{unsubscribe}>, <{self.unsubscribe_mailto}>\r\n"
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
            "MIME-Version: 1.0\r\n"
            f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'
        )
        # Quoted-printable keeps the short text part readable; the HTML part is base64,
        # which costs a fraction as much to encode for every recipient.
        encoded_text = binascii.b2a_qp(text.encode("utf-8"), istext=True)
        flat_html = binascii.b2a_base64(html.encode("utf-8"), newline=False)
        return b"".join((
            head.encode("utf-8"),
            f"--{boundary}\r\n{_TEXT_HEADERS}".encode("ascii"),
            encoded_text, b"" if encoded_text.endswith(b"\r\n") else b"\r\n",
            f"--{boundary}\r\n{_HTML_HEADERS}".encode("ascii"),
            *(flat_html[i:i + 76] + b"\r\n" for i in range(0, len(flat_html), 76)),
            f"--{boundary}--\r\n".encode("ascii"),
        ))


_TEXT_HEADERS = ('Content-Type: text/plain; charset="utf-8"\r\n'
                 "Content-Transfer-Encoding: quoted-printable\r\n\r\n")
_HTML_HEADERS = ('Content-Type: text/html; charset="utf-8"\r\n'
                 "Content-Transfer-Encoding: base64\r\n\r\n")


def mail_date() -> str:
    """The Date header for now, in UTC with its zone written as +0000."""
    return formatdate(localtime=False, usegmt=False).replace("-0000", "+0000")


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


class _RecipientSigner(TimestampSigner):
    """The recipient-link signer with its key derived once rather than for every signature."""

    _key: bytes | None = None

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        if secret_key is not None:
            return super().derive_key(secret_key)
        if self._key is None:
            self._key = super().derive_key()
        return self._key


def compose(issue: Issue) -> ComposedIssue:
    """Render the issue's email once: plain text from the Markdown, HTML with CSS inlined."""
    from involve.newsletters import services

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
        issue_id=issue.id, subject=issue.title, sender=sender, envelope_from=envelope_from,
        text=text, html=mail.inline_css(html), web_url=web_url,
        unsubscribe_mailto=f"mailto:{envelope_from}?subject=unsubscribe",
        # Addresses and signers made once per issue: only the token differs per recipient.
        unsubscribe_prefix=absolute_url("newsletters.unsubscribe", token="-")[:-1],
        preferences_prefix=absolute_url("newsletters.preferences", token="-")[:-1],
        signer=_RecipientSigner(current_app.config["SECRET_KEY"],
                                salt=services.RECIPIENT_SALT))


def _render(template: str, **context: object) -> str:
    # Straight from the Jinja environment: the worker has no request, and the site's context
    # processors (the signed-in person, the menu) have no place in an email anyway.
    return current_app.jinja_env.get_template(template).render(**context)


class Mailer:
    """Sends finished messages through the configured transport, over one connection."""

    def __init__(self, transport: mail.Transport | None = None) -> None:
        self.transport = transport or mail.transport()

    def send(self, envelope_from: str, to: str, raw: bytes) -> None:
        self.transport.send_raw(envelope_from, to, raw)

    def close(self) -> None:
        self.transport.close()


# --- the delivery rows -------------------------------------------------------------------

def queue_deliveries(issue: Issue) -> int:
    """Add a queued delivery for every recipient who has none yet; return how many were added."""
    from involve.newsletters.queries import recipients

    wanted = recipients(issue)
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


def claim_batch(issue_id: int, size: int = BATCH_SIZE) -> list[Claimed]:
    """Mark up to ``size`` queued rows as ours and commit, before any of them is sent."""
    token = uuid.uuid4().hex
    now = utcnow()
    due = (select(Delivery.id).where(
        Delivery.issue_id == issue_id, Delivery.status == DeliveryStatus.queued,
        (Delivery.next_attempt_at.is_(None)) | (Delivery.next_attempt_at <= now))
        .order_by(Delivery.id).limit(size))
    db.session.execute(
        update(Delivery).where(Delivery.id.in_(due.scalar_subquery()),
                               Delivery.status == DeliveryStatus.queued)
        .values(status=DeliveryStatus.sending, claim=token, claimed_at=now)
        .execution_options(synchronize_session=False))
    db.session.commit()
    rows = db.session.connection().execute(
        select(Delivery.id, Delivery.email, Delivery.name, Delivery.attempts)
        .where(Delivery.claim == token).order_by(Delivery.id)).all()
    return [Claimed(*row) for row in rows]


def release_stale_claims(issue_id: int, older_than: timedelta = STALE_CLAIM) -> int:
    """Put rows left "sending" by a worker that died back in the queue."""
    result = db.session.execute(
        update(Delivery).where(Delivery.issue_id == issue_id,
                               Delivery.status == DeliveryStatus.sending,
                               Delivery.claimed_at < utcnow() - older_than)
        .values(status=DeliveryStatus.queued, claim=None)
        .execution_options(synchronize_session=False))
    return result.rowcount or 0


@dataclass
class BatchResults:
    """What happened to each claimed row of one batch."""

    sent: list[int] = field(default_factory=list)
    retry: list[tuple[Claimed, str]] = field(default_factory=list)
    failed: list[tuple[Claimed, str]] = field(default_factory=list)
    bounced: list[tuple[Claimed, str]] = field(default_factory=list)
    untried: list[int] = field(default_factory=list)
    stopped: list[int] = field(default_factory=list)


def record(results: BatchResults, commit: bool = True) -> None:
    """Write one batch's results back: a statement per kind of result, then commit (or leave
    the commit to the next claim, which follows at once)."""
    now = utcnow()
    if results.sent:
        db.session.execute(
            update(Delivery).where(Delivery.id.in_(results.sent))
            .values(status=DeliveryStatus.sent, sent_at=now, claim=None, error="",
                    attempts=Delivery.attempts + 1)
            .execution_options(synchronize_session=False))
    if results.untried:
        db.session.execute(
            update(Delivery).where(Delivery.id.in_(results.untried))
            .values(status=DeliveryStatus.queued, claim=None)
            .execution_options(synchronize_session=False))
    for row, error in results.retry:
        attempts = row.attempts + 1
        final = attempts >= MAX_ATTEMPTS
        db.session.execute(
            update(Delivery).where(Delivery.id == row.id).values(
                status=DeliveryStatus.failed if final else DeliveryStatus.queued,
                attempts=attempts, error=error[:1000], claim=None,
                next_attempt_at=None if final else now + backoff(attempts))
            .execution_options(synchronize_session=False))
    for row, error in results.failed + results.bounced:
        db.session.execute(
            update(Delivery).where(Delivery.id == row.id).values(
                status=DeliveryStatus.failed, attempts=row.attempts + 1, error=error[:1000],
                claim=None)
            .execution_options(synchronize_session=False))
    if results.stopped:
        db.session.execute(
            update(Delivery).where(Delivery.id.in_(results.stopped))
            .values(status=DeliveryStatus.failed, claim=None, error=STOPPED)
            .execution_options(synchronize_session=False))
    for row, error in results.bounced:
        suppress(row.email, SuppressionReason.hard_bounce, error)
    if commit:
        db.session.commit()


def backoff(attempts: int) -> timedelta:
    """How long to wait before trying a temporary failure again: 1, 2, 4, 8 ... minutes."""
    return timedelta(minutes=2 ** max(attempts - 1, 0))


def suppress(email: str, reason: SuppressionReason, detail: str = "") -> None:
    """Put an address on the suppression list (once)."""
    email = email.strip().lower()
    if db.session.scalar(select(Suppression.id).where(Suppression.email == email)) is None:
        db.session.add(Suppression(email=email, reason=reason, detail=detail[:500]))
        db.session.flush()


# --- a sending run -----------------------------------------------------------------------

@dataclass
class RunOutcome:
    """How a sending run ended."""

    sent: int = 0
    failed: int = 0
    paused: bool = False
    finished: bool = False
    retry_in: timedelta | None = None


def _error_text(error: Exception) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{code} {msg.decode(errors='replace')}"
                         for code, msg in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {error.smtp_error.decode(errors='replace')}"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _is_hard_bounce(error: Exception) -> bool:
    # The server says this mailbox will never take mail: never try it again.
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(500 <= code < 600 for code, _ in error.recipients.values())
    return False


def _is_permanent(error: Exception) -> bool:
    # A 5xx answer to the message itself: trying again would get the same answer. A 5xx to
    # our sign-in or sender address is about the server's settings, not this reader: the copy
    # waits (and the run of failures pauses the send) until the settings are put right.
    if isinstance(error, smtplib.SMTPAuthenticationError | smtplib.SMTPSenderRefused
                  | smtplib.SMTPHeloError | smtplib.SMTPConnectError):
        return False
    return isinstance(error, smtplib.SMTPResponseException) and 500 <= error.smtp_code < 600


def run(issue_id: int, *, batch_size: int = BATCH_SIZE, max_batches: int | None = None,
        mailer: Mailer | None = None, pause_after: int = PAUSE_AFTER_FAILURES) -> RunOutcome:
    """Send the issue's queued copies in batches over one connection until none are due.

    Stops early, pausing the issue and telling its manager, after ``pause_after`` failures in
    a row (the mail server has gone or refuses everything).
    """
    outcome = RunOutcome()
    issue = db.session.get(Issue, issue_id)
    if issue is None or issue.status != IssueStatus.sending:
        return outcome
    composed = compose(issue)
    mailer = mailer or Mailer()
    consecutive = 0
    batches = 0
    last_error = ""
    try:
        while max_batches is None or batches < max_batches:
            batch = claim_batch(issue_id, batch_size)
            if not batch:
                break
            batches += 1
            results = BatchResults()
            date = mail_date()
            # Someone may have unsubscribed (or bounced) since the copies were queued.
            stopped = set(db.session.scalars(select(Suppression.email).where(
                Suppression.email.in_([r.email for r in batch]))))
            try:
                for index, row in enumerate(batch):
                    if consecutive >= pause_after:
                        results.untried.extend(r.id for r in batch[index:])
                        break
                    if row.email in stopped:
                        results.stopped.append(row.id)
                        continue
                    raw = composed.personal(row.id, row.email, row.name, date)
                    try:
                        mailer.send(composed.envelope_from, row.email, raw)
                    except (smtplib.SMTPException, OSError) as error:
                        consecutive += 1
                        text = last_error = _error_text(error)
                        if _is_hard_bounce(error):
                            results.bounced.append((row, text))
                        elif _is_permanent(error):
                            results.failed.append((row, text))
                        else:
                            results.retry.append((row, text))
                    else:
                        consecutive = 0
                        results.sent.append(row.id)
            except BaseException:
                # Whatever stopped us, who was mailed is written down before it goes further.
                done = set(results.sent) | {r.id for r, _ in results.retry + results.failed
                                            + results.bounced} | set(results.untried) \
                    | set(results.stopped)
                results.untried.extend(r.id for r in batch if r.id not in done)
                record(results)
                raise
            last = consecutive >= pause_after or (max_batches is not None
                                                  and batches >= max_batches)
            # Usually the results are committed together with the next batch's claim.
            record(results, commit=last)
            outcome.sent += len(results.sent)
            outcome.failed += len(results.failed) + len(results.bounced) + len(results.stopped)
            if consecutive >= pause_after:
                pause(issue, f"{consecutive} messages in a row could not be sent. "
                             f"The last error was: {last_error}")
                db.session.commit()
                outcome.paused = True
                return outcome
    finally:
        mailer.close()
    return _finish_if_done(issue, outcome)


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
    return outcome


def delivery_summary(issue_id: int) -> dict[str, int]:
    """Counts for the audit trail."""
    from involve.newsletters.queries import delivery_counts

    counts = delivery_counts(issue_id)
    return {"sent": counts["sent"], "failed": counts["failed"]}


def pause(issue: Issue, reason: str) -> None:
    """Stop sending and tell the issue's author (by email if the mail server lets us)."""
    db.session.refresh(issue)
    if issue.status != IssueStatus.sending:
        return
    issue.move_to(IssueStatus.paused)
    issue.paused_reason = reason
    audit.record("newsletter.send_paused", obj=issue, reason=reason[:300])
    author = issue.created_by
    address = author.user.email if author and author.user else None
    if address:
        try:
            context = dict(subject=f"Sending paused: {issue.title}", issue=issue,
                           reason=reason,
                           progress_url=absolute_url("newsletters.progress", issue_id=issue.id))
            mail.send(mail.build_message(
                to=address, subject=str(context["subject"]),
                text=_render("newsletters/mail/paused.txt", **context),
                html=_render("newsletters/mail/paused.html", **context)))
        except (smtplib.SMTPException, OSError):
            # The mail server is likely the problem; the home page panel still tells them.
            pass


def stalled_sends(grace: timedelta = STALL_GRACE) -> list[int]:
    """Issues still "sending" that no worker is working on, because a restart lost the task.

    Copies a dead worker left claimed go back in the queue once their claim is stale; an
    issue counts as stalled when none of its copies is claimed and its copies have been
    waiting longer than ``grace`` (or none is left and only the final "sent" is missing).
    """
    now = utcnow()
    stalled = []
    for issue_id in db.session.scalars(select(Issue.id).where(
            Issue.status == IssueStatus.sending)).all():
        release_stale_claims(issue_id)
        counts = dict(db.session.execute(
            select(Delivery.status, func.count()).where(
                Delivery.issue_id == issue_id,
                Delivery.status.in_([DeliveryStatus.queued, DeliveryStatus.sending]))
            .group_by(Delivery.status)).all())
        if counts.get(DeliveryStatus.sending):
            continue  # a worker holds some copies: leave the send to it
        oldest = db.session.scalar(select(func.min(func.coalesce(
            Delivery.next_attempt_at, Delivery.created_at))).where(
            Delivery.issue_id == issue_id, Delivery.status == DeliveryStatus.queued))
        if oldest is None or oldest <= now - grace:
            stalled.append(issue_id)
    db.session.commit()
    return stalled


def requeue_for_resume(issue_id: int) -> None:
    """Make every waiting copy due now, and take back copies a dead worker left claimed."""
    release_stale_claims(issue_id)
    db.session.execute(
        update(Delivery).where(and_(Delivery.issue_id == issue_id,
                                    Delivery.status == DeliveryStatus.queued))
        .values(next_attempt_at=None).execution_options(synchronize_session=False))


def send_test(issue: Issue, to: str, name: str) -> None:
    """Send one personalised copy to the manager, outside the delivery rows."""
    composed = compose(issue)
    raw = composed.personal(0, to, name)
    mailer = Mailer()
    try:
        mailer.send(composed.envelope_from, to, raw)
    finally:
        mailer.close()


def parse(raw: bytes):
    """A finished message as an email object (for previews and the memory transport)."""
    return message_from_bytes(raw, policy=policy.default)

