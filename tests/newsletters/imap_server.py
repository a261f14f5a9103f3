"""A small IMAP4rev1 server (RFC 3501) on loopback for the bounce tests: the part of it the
standard library's client uses to read a mailbox (LOGIN, SELECT, SEARCH, FETCH, STORE,
EXPUNGE, LOGOUT), holding what a bounce domain's mailbox would; and a report as Postfix
writes one, for it to hold."""

from __future__ import annotations

import re
import socketserver

from tests.newsletters.pop3_server import Mailbox

_ARGUMENT = re.compile(rb'"((?:[^"\\]|\\.)*)"|(\S+)')


def _arguments(text: bytes) -> list[bytes]:
    """A command's arguments: atoms, or quoted strings with their quotes taken off."""
    return [re.sub(rb"\\(.)", rb"\1", m.group(1)) if m.group(1) is not None else m.group(2)
            for m in _ARGUMENT.finditer(text)]


class _Session(socketserver.StreamRequestHandler):
    def send(self, line: bytes | str) -> None:
        self.wfile.write((line.encode() if isinstance(line, str) else line) + b"\r\n")

    def handle(self) -> None:
        box: Mailbox = self.server.mailbox  # type: ignore[attr-defined]
        self.send("* OK IMAP4rev1 test server ready")
        authorised, selected = False, False
        seen: list[bytes] = []  # the mailbox as selected: sequence number n is seen[n - 1]
        deleted: set[int] = set()
        while True:
            line = self.rfile.readline()
            if not line:
                return
            tag, _, rest = line.rstrip(b"\r\n").partition(b" ")
            command, _, argument = rest.partition(b" ")
            command, tag_text = command.upper().decode(), tag.decode()
            ok = f"{tag_text} OK {command} completed"
            if command == "CAPABILITY":
                self.send("* CAPABILITY IMAP4rev1")
                self.send(ok)
            elif command == "NOOP":
                self.send(ok)
            elif command == "LOGOUT":
                self.send("* BYE signing off")
                self.send(ok)
                return
            elif command == "LOGIN":
                user, password = (a.decode() for a in _arguments(argument)[:2])
                authorised = user == box.user and password == box.password
                self.send(ok if authorised else f"{tag_text} NO [AUTHENTICATIONFAILED] wrong "
                                                "user name or password")
            elif not authorised:
                self.send(f"{tag_text} NO sign in first")
            elif command == "SELECT":
                with box.lock:
                    seen, deleted, selected = list(box.messages), set(), True
                self.send(f"* {len(seen)} EXISTS")
                self.send("* 0 RECENT")
                self.send("* FLAGS (\\Deleted \\Seen)")
                self.send(f"{tag_text} OK [READ-WRITE] SELECT completed")
            elif not selected:
                self.send(f"{tag_text} BAD select a mailbox first")
            elif command == "SEARCH":
                self.send("* SEARCH " + " ".join(str(n) for n in range(1, len(seen) + 1)
                                                 if n not in deleted))
                self.send(ok)
            elif command == "FETCH":
                number = int(argument.split(b" ", 1)[0])
                if not 0 < number <= len(seen):
                    self.send(f"{tag_text} NO no such message")
                    continue
                message = seen[number - 1]
                self.send(f"* {number} FETCH (RFC822 {{{len(message)}}}")
                self.wfile.write(message)
                self.send(")")
                self.send(ok)
            elif command == "STORE":
                number, flags = argument.split(b" ", 1)
                if b"\\Deleted" in flags and flags.upper().startswith(b"+FLAGS"):
                    deleted.add(int(number))
                self.send(f"* {int(number)} FETCH (FLAGS (\\Deleted))")
                self.send(ok)
            elif command in ("EXPUNGE", "CLOSE"):
                gone = {id(seen[n - 1]) for n in deleted}
                with box.lock:
                    box.messages = [m for m in box.messages if id(m) not in gone]
                if command == "EXPUNGE":
                    # Each expunged number is reported as it is at that moment.
                    for shift, number in enumerate(sorted(deleted)):
                        self.send(f"* {number - shift} EXPUNGE")
                seen = [m for n, m in enumerate(seen, 1) if n not in deleted]
                deleted = set()
                self.send(ok)
            else:
                self.send(f"{tag_text} BAD not supported")


class IMAPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, mailbox: Mailbox) -> None:
        super().__init__(("127.0.0.1", 0), _Session)
        self.mailbox = mailbox

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"imap://{self.mailbox.user}:{self.mailbox.password}@{host}:{port}"


def postfix_report(return_path: str, recipient: str, original: bytes) -> bytes:
    """A delivery status notification as Postfix writes it: the human part, the
    machine-readable report (per message, then per recipient) and the message returned."""
    return (
        "Return-Path: <>\r\n"
        f"Delivered-To: {return_path}\r\n"
        "Received: by mx.example.net (Postfix) id 4F2C81A0B3; Mon,  7 Dec 2026 08:01:02 +0000\r\n"
        "Date: Mon,  7 Dec 2026 08:01:02 +0000 (UTC)\r\n"
        "From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"To: {return_path}\r\n"
        "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/report; report-type=delivery-status;\r\n"
        '\tboundary="4F2C81A0B3.1765094462/mx.example.net"\r\n'
        "Message-Id: <20261207080102.4F2C81A0B3@mx.example.net>\r\n\r\n"
        "This is a MIME-encapsulated message.\r\n\r\n"
        "--4F2C81A0B3.1765094462/mx.example.net\r\n"
        "Content-Description: Notification\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        "This is the mail system at host mx.example.net.\r\n\r\n"
        "I'm sorry to have to inform you that your message could not\r\n"
        "be delivered to one or more recipients.\r\n\r\n"
        f"<{recipient}>: host mail.example.com[192.0.2.7] said: 550 5.1.1\r\n"
        "    <unknown>: Recipient address rejected: User unknown (in reply to RCPT TO)\r\n\r\n"
        "--4F2C81A0B3.1765094462/mx.example.net\r\n"
        "Content-Description: Delivery report\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.net\r\nX-Postfix-Queue-ID: 4F2C81A0B3\r\n"
        f"X-Postfix-Sender: rfc822; {return_path}\r\n"
        "Arrival-Date: Mon,  7 Dec 2026 08:01:01 +0000 (UTC)\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nOriginal-Recipient: rfc822;{recipient}\r\n"
        "Action: failed\r\nStatus: 5.1.1\r\nRemote-MTA: dns; mail.example.com\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 <unknown>: Recipient address rejected: User\r\n"
        "    unknown\r\n\r\n"
        "--4F2C81A0B3.1765094462/mx.example.net\r\n"
        "Content-Description: Undelivered Message\r\nContent-Type: message/rfc822\r\n\r\n"
    ).encode() + original + b"\r\n--4F2C81A0B3.1765094462/mx.example.net--\r\n"
