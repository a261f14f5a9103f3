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
"""

from __future__ import annotations

import hmac
import imaplib
import poplib
import re
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import Message
from urllib.parse import unquote, urlsplit

from flask import current_app
from sqlalchemy import select

from involve import audit
from involve.extensions import db
from involve.newsletters.models import Delivery, DeliveryStatus, SuppressionReason

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
    return Bounce(int(token.group(1)), token.group(2).lower(), hard,
                  " ".join((diagnostic or f"status {status}").split())[:500])


def record(bounce: Bounce) -> bool:
    """Act on a report: a hard bounce suppresses the address for the organisation that sent
    the copy, and marks the copy bounced. False when it changes nothing (soft, forged,
    unknown or already recorded)."""
    from involve.newsletters.delivery import bounce_key, suppress

    expected = hmac.new(bounce_key(), str(bounce.delivery_id).encode(), "sha256").hexdigest()
    if not bounce.hard or not hmac.compare_digest(expected[:16], bounce.mac):
        return False
    row = db.session.scalar(select(Delivery).where(Delivery.id == bounce.delivery_id))
    if row is None or row.error.startswith(BOUNCED):
        return False
    organisation_id = row.issue.organisation_id
    suppression = suppress(organisation_id, row.email, SuppressionReason.hard_bounce,
                           bounce.diagnostic)
    row.status = DeliveryStatus.failed
    row.error = (BOUNCED + bounce.diagnostic)[:1000]
    audit.record("newsletter.bounced", obj=suppression, issue_id=row.issue_id,
                 domain=row.email.rsplit("@", 1)[-1])
    return True


def handle(raw: bytes) -> bool:
    """Read one message from the bounce mailbox and act on it (the caller commits)."""
    bounce = read_report(raw)
    return bounce is not None and record(bounce)


def read_mailbox(url: str | None = None, timeout: float = 30) -> tuple[int, int]:
    """Read every message in the bounce mailbox, act on each, and delete it once its change
    is committed. Returns (messages read, addresses suppressed)."""
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
                raw = b"\r\n".join(box.retr(number)[1])
                suppressed += _deal_with(raw)
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
                suppressed += _deal_with(data[0][1])
                box.store(number, "+FLAGS", "\\Deleted")
                read += 1
            box.expunge()
        finally:
            box.logout()
    else:
        raise ValueError(f"NEWSLETTER_BOUNCE_MAILBOX must start pop3://, pop3s://, imap:// "
                         f"or imaps://, not {scheme}://")
    return read, suppressed


def _deal_with(raw: bytes) -> int:
    try:
        done = handle(raw)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return int(done)
