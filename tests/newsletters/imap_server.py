"""A small IMAP4rev1 server (RFC 3501) on loopback for the bounce tests: the part of it the
standard library's client uses to read a mailbox (LOGIN, SELECT, SEARCH, FETCH, STORE,
EXPUNGE, LOGOUT), holding what a bounce domain's mailbox would."""

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
