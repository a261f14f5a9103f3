"""Bounces: reports of mail that could not be delivered, read back and acted on.

Every newsletter copy names itself twice: its return path is ``bounces+<token>@<bounce
domain>`` (VERP, where ``NEWSLETTER_BOUNCE_DOMAIN`` is set) and it carries an
``X-Involve-Delivery: <token>`` header, which delivery reports (RFC 3464) quote back. The token
is the delivery's id and a keyed hash of it, so nobody can forge a report that stops someone's
newsletters.

Reports reach Involve from the mailbox of the bounce domain, read over POP3 or IMAP
(``NEWSLETTER_BOUNCE_MAILBOX``) every five minutes by :func:`read_mailbox`. A hard bounce
(action "failed", status 5.x.x) puts the address on its organisation's suppression list and
marks the copy as bounced, which the manager sees on the issue's sending page; a soft one
(4.x.x, "delayed") changes nothing. Each message read is deleted once dealt with.

A mail provider that reports bounces by webhook posts them instead to
``/newsletters/bounces/webhook/<token>``, one signed token per organisation
(:func:`webhook_token`), as a JSON list of hard-bounced addresses (:func:`read_webhook`). The
token names the organisation, so a report can only ever stop that organisation's mail.
"""

from __future__ import annotations

import hmac
import imaplib
import logging
import poplib
import re
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import Message
from urllib.parse import unquote, urlsplit

from flask import current_app
from itsdangerous import BadSignature, Signer
from sqlalchemy import select

from involve import audit
from involve.extensions import db
from involve.newsletters.models import (
    Delivery,
    DeliveryStatus,
    Issue,
    NewslettersError,
    Suppression,
    SuppressionReason,
)

log = logging.getLogger(__name__)

BOUNCED = "Bounced: "
_TOKEN = re.compile(r"(?:bounces\+|X-Involve-Delivery:\s*)(\d+)-([0-9a-f]{16})", re.I)


@dataclass
class Bounce:
    """What one report says: which copy, whether it is for good, and the server's words."""

    delivery_id: int
    mac: str
    hard: bool
    diagnostic: str


def _parts(message: Message):
    yield message
    if message.is_multipart():
        for part in message.get_payload():
            if isinstance(part, Message):
                yield from _parts(part)


def read_report(raw: bytes) -> Bounce | None:
    """The bounce a message reports, or None for anything else (an auto-reply, spam)."""
    message = message_from_bytes(raw, policy=policy.compat32)
    token = None
    for header in ("To", "Delivered-To", "X-Original-To", "Envelope-To"):
        for value in message.get_all(header, []):
            token = token or _TOKEN.search(str(value))
    status, action, diagnostic = "", "", ""
    for part in _parts(message):
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            # Its payload is a list of header blocks: the message's, then one per recipient.
            for block in part.get_payload():
                status = status or str(block.get("Status", "")).strip()
                action = action or str(block.get("Action", "")).strip().lower()
                diagnostic = diagnostic or str(block.get("Diagnostic-Code", "")).strip()
        elif kind in ("text/rfc822-headers", "message/rfc822") and token is None:
            token = _TOKEN.search(part.as_string())
    if token is None or not status:
        return None
    hard = action == "failed" and status.startswith("5")
    # The server's words are shown and kept: no NUL or other control character (PostgreSQL
    # refuses a NUL, SQLite would keep it).
    words = "".join(c if c.isprintable() else " " for c in diagnostic or f"status {status}")
    return Bounce(int(token.group(1)), token.group(2).lower(), hard,
                  " ".join(words.split())[:500])


def record(bounce: Bounce) -> bool:
    """Act on a report: a hard bounce suppresses the address for the organisation that sent
    the copy, and marks the copy bounced. False when it changes nothing (soft, forged,
    unknown or already recorded)."""
    from involve.newsletters.delivery import bounce_key

    expected = hmac.new(bounce_key(), str(bounce.delivery_id).encode(), "sha256").hexdigest()
    if not bounce.hard or not hmac.compare_digest(expected[:16], bounce.mac):
        return False
    row = db.session.scalar(select(Delivery).where(Delivery.id == bounce.delivery_id))
    if row is None or row.error.startswith(BOUNCED):
        return False
    _bounced(row.issue.organisation_id, row.email, bounce.diagnostic, row)
    return True


def _bounced(organisation_id: int, email: str, diagnostic: str, row: Delivery | None) -> None:
    """Suppress a hard-bounced address for one organisation, and mark the copy that came
    back (when known) so the manager sees it on the issue's sending page."""
    from involve.newsletters.delivery import suppress

    suppression = suppress(organisation_id, email, SuppressionReason.hard_bounce, diagnostic)
    if row is not None:
        row.status = DeliveryStatus.failed
        row.error = (BOUNCED + diagnostic)[:1000]
    audit.record("newsletter.bounced", obj=suppression,
                 issue_id=row.issue_id if row is not None else None,
                 domain=email.rsplit("@", 1)[-1])


# --- a provider's webhook -------------------------------------------------------------------

WEBHOOK_SALT = "newsletters.bounce-webhook"
WEBHOOK_MAX_BOUNCES = 1000  # per request; a provider sends more in several


class WebhookError(NewslettersError):
    """A webhook request that cannot be read; nothing in it was acted on."""


def webhook_token(organisation_id: int) -> str:
    """The signed key in one organisation's bounce webhook address. It never expires; it
    changes only with the site's secret key."""
    return Signer(current_app.config["SECRET_KEY"], salt=WEBHOOK_SALT).sign(
        str(organisation_id)).decode()


def webhook_organisation(token: str) -> int | None:
    """The organisation a webhook token is for, or None for a tampered or made-up one."""
    try:
        return int(Signer(current_app.config["SECRET_KEY"], salt=WEBHOOK_SALT).unsign(token))
    except (BadSignature, ValueError):
        return None


def read_webhook(payload: object) -> list[tuple[str, str]]:
    """The (address, reason) pairs of a webhook's JSON: a list whose entries are an address
    or ``{"email": address, "reason": words}``. Raises WebhookError, saying what is wrong,
    for anything else, so that a request is acted on whole or not at all."""
    from involve.newsletters.models import SubscriptionError
    from involve.newsletters.services import normalise_email

    if not isinstance(payload, list):
        raise WebhookError('Send a JSON list of hard bounces, such as '
                           '["name@example.org", {"email": "x@example.org", "reason": "550"}].')
    if len(payload) > WEBHOOK_MAX_BOUNCES:
        raise WebhookError(f"Send at most {WEBHOOK_MAX_BOUNCES} bounces in one request.")
    found: list[tuple[str, str]] = []
    for number, entry in enumerate(payload, start=1):
        address, reason = (entry, "") if isinstance(entry, str) else (
            (entry.get("email"), entry.get("reason", "")) if isinstance(entry, dict)
            else (None, None))
        if not isinstance(address, str) or not isinstance(reason, str):
            raise WebhookError(f"Bounce {number} must be an address, or an object with "
                               f'"email" (and, if you like, "reason") as text.')
        if not _keepable(address) or not _keepable(reason):
            raise WebhookError(f"Bounce {number} has a character in it that cannot be kept "
                               "(a NUL, or half of a UTF-16 pair).")
        try:
            found.append((normalise_email(address), " ".join(reason.split())[:500]))
        except SubscriptionError:
            raise WebhookError(f"Bounce {number} is not an email address: "
                               f"{address[:100]!r}.") from None
    return found


def _keepable(text: str) -> bool:
    """Text a database can keep: no NUL (SQLite would keep it, PostgreSQL refuses it) and
    nothing UTF-8 cannot encode (a lone surrogate, which JSON allows)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def record_webhook(organisation_id: int, payload: object) -> tuple[int, int]:
    """Act on a webhook's report for one organisation (the caller commits). Returns (bounces
    read, addresses suppressed); raises WebhookError, changing nothing, for a bad report."""
    reported = read_webhook(payload)
    return len(reported), sum(record_reported(organisation_id, email, reason)
                              for email, reason in reported)


def record_reported(organisation_id: int, email: str, reason: str = "") -> bool:
    """Act on a hard bounce a provider reported for one organisation: suppress the address
    and mark its latest copy. False when it changes nothing: an address the organisation
    does not know (it may be another's, which a report for this one must never touch), or
    one already suppressed as a bounce."""
    from involve.newsletters.queries import organisations_knowing

    if organisation_id not in organisations_knowing(email):
        return False
    if db.session.scalar(select(Suppression.id).where(
            Suppression.organisation_id == organisation_id, Suppression.email == email,
            Suppression.reason == SuppressionReason.hard_bounce)):
        return False
    row = db.session.scalar(
        select(Delivery).join(Issue, Issue.id == Delivery.issue_id)
        .where(Issue.organisation_id == organisation_id, Delivery.email == email,
               Delivery.status == DeliveryStatus.sent)
        .order_by(Delivery.id.desc()).limit(1))
    _bounced(organisation_id, email, reason or "reported by the mail provider", row)
    return True


def handle(raw: bytes) -> bool:
    """Read one message from the bounce mailbox and act on it (the caller commits)."""
    bounce = read_report(raw)
    return bounce is not None and record(bounce)


def read_mailbox(url: str | None = None, timeout: float = 30) -> tuple[int, int]:
    """Read every message in the bounce mailbox, act on each, and delete it once its change
    is committed (one that cannot be dealt with stays for the next run). Returns (messages
    dealt with, addresses suppressed)."""
    url = url or current_app.config.get("NEWSLETTER_BOUNCE_MAILBOX", "")
    if not url:
        return 0, 0
    parts = urlsplit(url)
    user, password = unquote(parts.username or ""), unquote(parts.password or "")
    scheme = parts.scheme.lower()
    read = suppressed = 0
    if scheme in ("pop3", "pop3s"):
        box = (poplib.POP3_SSL if scheme == "pop3s" else poplib.POP3)(
            parts.hostname, parts.port or (995 if scheme == "pop3s" else 110), timeout=timeout)
        try:
            box.user(user)
            box.pass_(password)
            count, _ = box.stat()
            for number in range(1, count + 1):
                done = _deal_with(b"\r\n".join(box.retr(number)[1]))
                if done is None:
                    continue  # kept for the next run
                suppressed += done
                box.dele(number)
                read += 1
        finally:
            box.quit()  # POP3 deletes only now, after every change was committed
    elif scheme in ("imap", "imaps"):
        box = (imaplib.IMAP4_SSL if scheme == "imaps" else imaplib.IMAP4)(
            parts.hostname, parts.port or (993 if scheme == "imaps" else 143), timeout=timeout)
        try:
            box.login(user, password)
            box.select("INBOX")
            _, found = box.search(None, "ALL")
            for number in found[0].split():
                _, data = box.fetch(number, "(RFC822)")
                done = _deal_with(data[0][1])
                if done is None:
                    continue  # kept for the next run
                suppressed += done
                box.store(number, "+FLAGS", "\\Deleted")
                read += 1
            box.expunge()
        finally:
            box.logout()
    else:
        raise ValueError(f"NEWSLETTER_BOUNCE_MAILBOX must start pop3://, pop3s://, imap:// "
                         f"or imaps://, not {scheme}://")
    return read, suppressed


def _deal_with(raw: bytes) -> int | None:
    """Act on one message and commit: 1 if it suppressed an address, else 0. None when it
    could not be dealt with: that is logged and the message stays in the mailbox for the
    next run, so one malformed message never stops the rest."""
    try:
        done = handle(raw)
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        # The kind of error only: its words may quote the report's addresses.
        log.warning("a message in the bounce mailbox could not be dealt with (%s); it stays "
                    "for the next run", type(error).__name__)
        return None
    return int(done)
