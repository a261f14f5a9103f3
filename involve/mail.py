"""Building email messages and sending them through a small transport interface.

Transports: ``smtp`` (settings from the environment), ``file`` (``.eml`` files in the
instance folder, the default without a mail server, so development shows real messages)
and ``memory`` (kept in a list, for quick checks). Tests of delivery use a real SMTP server.
"""

from __future__ import annotations

import logging
import re
import smtplib
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol

import css_inline
from flask import current_app, render_template

log = logging.getLogger(__name__)

_inliner = css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)

# CR and LF end a header line, so a value holding one could add headers (a Bcc) of its own;
# the other characters are line breaks to Python's str.splitlines and to some mail software.
_LINE_BREAK = re.compile("[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]")


class UnsafeHeader(ValueError):
    """A header value with a line break in it: the message is refused, never sent."""


def has_line_break(value: str | None) -> bool:
    """Whether ``value`` holds a character that would end a header line."""
    return bool(value) and _LINE_BREAK.search(value) is not None


def header_value(name: str, value: str) -> str:
    """``value``, checked for use as the ``name`` header; :class:`UnsafeHeader` if it has a
    line break (forms refuse these, so one here means data that did not come through them)."""
    if has_line_break(value):
        raise UnsafeHeader(f"The email's {name} would hold a line break, so it is not sent: "
                           f"{value!r}")
    return value


def build_message(*, to: str, subject: str, text: str, html: str | None = None,
                  headers: dict[str, str] | None = None, sender: str | None = None) -> EmailMessage:
    """A message with a plain-text part and, when given, an HTML part with its CSS inlined.

    Raises :class:`UnsafeHeader` when a header value holds a line break.
    """
    message = EmailMessage()
    message["From"] = header_value("From", sender or current_app.config["MAIL_FROM"])
    message["To"] = header_value("To", to)
    message["Subject"] = header_value("Subject", subject)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="involve.local")
    for name, value in (headers or {}).items():
        message[header_value("header name", name)] = header_value(name, value)
    message.set_content(text)
    if html is not None:
        message.add_alternative(inline_css(html), subtype="html")
    return message


def inline_css(html: str) -> str:
    """Move the page's CSS into style attributes, as mail clients expect."""
    return _inliner.inline(html)


def render_message(template: str, *, to: str, subject: str, **context: object) -> EmailMessage:
    """Build a message from ``templates/<template>.txt`` and ``.html``."""
    text = render_template(f"{template}.txt", subject=subject, **context)
    html = render_template(f"{template}.html", subject=subject, **context)
    return build_message(to=to, subject=subject, text=text, html=html)


Handover = Callable[[], None]


class Transport(Protocol):
    """Something that delivers messages."""

    def send(self, message: EmailMessage) -> None: ...

    def send_raw(self, envelope_from: str, to: str, raw: bytes,
                 handover: Handover | None = None, meanwhile: Handover | None = None) -> None:
        """Deliver a message already encoded as bytes (bulk sending prepares its own).

        ``handover`` is called at the last moment before the message is given to the server
        for good (over SMTP: before the final dot). If it raises, the message is not sent.
        ``meanwhile`` is called once the message is written, while the server takes it in
        (over SMTP: before its answer is read); bulk sending builds its next message there.
        """

    def close(self) -> None: ...


@dataclass
class MemoryTransport:
    """Keeps messages in a list (``app.extensions['mail_outbox']``)."""

    outbox: list[EmailMessage]

    def send(self, message: EmailMessage) -> None:
        self.outbox.append(message)

    def send_raw(self, envelope_from: str, to: str, raw: bytes,
                 handover: Handover | None = None, meanwhile: Handover | None = None) -> None:
        if handover is not None:
            handover()
        self.send(_parse(raw))
        if meanwhile is not None:
            meanwhile()

    def close(self) -> None:
        pass


@dataclass
class FileTransport:
    """Writes each message as an ``.eml`` file in a folder."""

    folder: Path

    def send(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = message["Message-ID"].strip("<>").replace("@", "_").replace("/", "_")
        (self.folder / f"{name}.eml").write_bytes(bytes(message))

    def send_raw(self, envelope_from: str, to: str, raw: bytes,
                 handover: Handover | None = None, meanwhile: Handover | None = None) -> None:
        if handover is not None:
            handover()
        self.send(_parse(raw))
        if meanwhile is not None:
            meanwhile()

    def close(self) -> None:
        pass


class SMTPTransport:
    """Sends through an SMTP server, keeping one connection open across messages."""

    def __init__(self, host: str, port: int, *, username: str | None = None,
                 password: str | None = None, use_tls: bool = False, use_ssl: bool = False,
                 timeout: float = 30) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.username, self.password = username, password
        self.use_tls, self.use_ssl = use_tls, use_ssl
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        if self._smtp is None:
            cls = smtplib.SMTP_SSL if self.use_ssl else smtplib.SMTP
            smtp = cls(self.host, self.port, timeout=self.timeout)
            if self.use_tls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            # The final dot goes out as a small write of its own (see _two_step): without
            # this, Nagle's algorithm holds it back until the server's delayed ACK (~40 ms).
            if smtp.sock is not None:
                smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._smtp = smtp
        return self._smtp

    def send(self, message: EmailMessage) -> None:
        self._guarded(lambda smtp: smtp.send_message(message))

    def send_raw(self, envelope_from: str, to: str, raw: bytes,
                 handover: Handover | None = None, meanwhile: Handover | None = None) -> None:
        if handover is None:
            self._guarded(lambda smtp: smtp.sendmail(envelope_from, [to], raw))
            if meanwhile is not None:
                meanwhile()
        else:
            self._guarded(lambda smtp: self._two_step(smtp, envelope_from, to, raw, handover,
                                                      meanwhile))

    def _two_step(self, smtp: smtplib.SMTP, envelope_from: str, to: str, raw: bytes,
                  handover: Handover, meanwhile: Handover | None = None) -> None:
        """One SMTP transaction whose final dot is written only after ``handover`` returns.

        A server keeps nothing of a transaction that ends before the final dot (RFC 5321,
        4.1.1.4), so whatever stops us before that line (the handover refusing, a crash)
        leaves nothing delivered; once the dot is written the server has the message.
        """
        smtp.ehlo_or_helo_if_needed()
        # Bare addresses, as the delivery rows hold them: putcmd refuses a line break, and
        # smtplib's quoteaddr (an address parser run twice a message) has nothing to do.
        smtp.putcmd("mail", f"FROM:<{envelope_from}>")
        code, reply = smtp.getreply()
        if code != 250:
            _reset(smtp, code)
            raise smtplib.SMTPSenderRefused(code, reply, envelope_from)
        smtp.putcmd("rcpt", f"TO:<{to}>")
        code, reply = smtp.getreply()
        if code not in (250, 251):
            _reset(smtp, code)
            raise smtplib.SMTPRecipientsRefused({to: (code, reply)})
        smtp.putcmd("data")
        code, reply = smtp.getreply()
        if code != 354:
            _reset(smtp, code)
            raise smtplib.SMTPDataError(code, reply)
        body = dot_stuffed(raw)
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        # A long message's start goes before the handover; its last LAST_WRITE bytes (all of a
        # newsletter-sized one) go with the final dot, in one write, after it. The socket's
        # buffer is empty here (the server has answered everything before), so it takes that
        # write whole at once: the moment between the handover and the dot stays one system
        # call, and the server reads a short message in one piece rather than two.
        split = max(len(body) - LAST_WRITE, 0)
        if split:
            smtp.send(body[:split])
        last = body[split:] + b".\r\n"  # made now: nothing but the write follows the handover
        try:
            handover()
        except BaseException:
            # Leave without the final dot: the server throws the unfinished message away.
            self._drop()
            raise
        smtp.send(last)
        if meanwhile is not None:
            meanwhile()
        code, reply = smtp.getreply()
        if code != 250:
            raise smtplib.SMTPDataError(code, reply)

    def _guarded(self, deliver: Callable[[smtplib.SMTP], object]) -> None:
        # A dropped or closing connection (421) is forgotten so the next message reconnects;
        # this one is reported failed to the caller.
        try:
            deliver(self._connect())
        except smtplib.SMTPRecipientsRefused as error:
            if any(code == 421 for code, _ in error.recipients.values()):
                self._drop()
            raise
        except smtplib.SMTPResponseException as error:
            if error.smtp_code == 421:
                self._drop()
            raise
        except (smtplib.SMTPServerDisconnected, OSError):
            self._drop()
            raise

    def _drop(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.close()
            finally:
                self._smtp = None

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self._drop()


# The most written after a handover: a fresh TCP socket's send buffer on Linux (tcp_wmem).
LAST_WRITE = 16 * 1024


def dot_stuffed(raw: bytes) -> bytes:
    """``raw`` with a dot doubled at the start of every line (RFC 5321, 4.5.2), as smtplib's
    regular expression does, in a fraction of its time (a plain search for line ends)."""
    return (b"." + raw if raw.startswith(b".") else raw).replace(b"\n.", b"\n..")


def _reset(smtp: smtplib.SMTP, code: int) -> None:
    # A refusal leaves the connection usable after RSET; 421 means the server is closing it.
    if code != 421:
        try:
            smtp.rset()
        except (smtplib.SMTPException, OSError):
            pass


def _parse(raw: bytes) -> EmailMessage:
    return message_from_bytes(raw, policy=policy.default)  # type: ignore[return-value]


def transport() -> Transport:
    """The transport the configuration asks for."""
    config = current_app.config
    kind = config["MAIL_TRANSPORT"] or ("smtp" if config["MAIL_SERVER"] else "file")
    if kind == "memory":
        return MemoryTransport(current_app.extensions.setdefault("mail_outbox", []))
    if kind == "file":
        return FileTransport(Path(current_app.instance_path) / "mail")
    if kind == "smtp":
        return SMTPTransport(config["MAIL_SERVER"], int(config["MAIL_PORT"]),
                             username=config["MAIL_USERNAME"], password=config["MAIL_PASSWORD"],
                             use_tls=config["MAIL_USE_TLS"], use_ssl=config["MAIL_USE_SSL"],
                             timeout=config["MAIL_TIMEOUT"])
    raise ValueError(f"Unknown MAIL_TRANSPORT {kind!r}")


def send(messages: EmailMessage | Iterable[EmailMessage]) -> None:
    """Send one message or several over one connection."""
    if isinstance(messages, EmailMessage):
        messages = [messages]
    mailer = transport()
    try:
        for message in messages:
            mailer.send(message)
    finally:
        mailer.close()


def send_each(messages: Iterable[EmailMessage]) -> int:
    """Send messages one by one; one refused address does not stop the others. Returns how
    many went."""
    sent = 0
    for message in messages:
        try:
            send(message)
            sent += 1
        except (smtplib.SMTPException, OSError) as error:
            log.warning("could not send to %s: %s", message["To"], error)
    return sent
