"""A small POP3 server (RFC 1939) on loopback for the bounce tests: a real mail server that
Involve reads over the network with the standard library's client, holding what a bounce
domain's mailbox would."""

from __future__ import annotations

import socketserver
import threading


class Mailbox:
    """The messages held, and the credentials that open them."""

    def __init__(self, user: str = "bounces", password: str = "secret") -> None:
        self.user, self.password = user, password
        self.messages: list[bytes] = []
        self.lock = threading.Lock()


class _Session(socketserver.StreamRequestHandler):
    def send(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        box: Mailbox = self.server.mailbox  # type: ignore[attr-defined]
        self.send("+OK POP3 test server ready")
        user, authorised, deleted = None, False, set()
        while True:
            line = self.rfile.readline()
            if not line:
                return
            command, _, argument = line.decode().strip().partition(" ")
            command = command.upper()
            with box.lock:
                messages = list(box.messages)
            if command == "USER":
                user = argument
                self.send("+OK")
            elif command == "PASS":
                authorised = user == box.user and argument == box.password
                self.send("+OK signed in" if authorised else "-ERR wrong password")
            elif command == "QUIT":
                if authorised:
                    with box.lock:
                        box.messages = [m for i, m in enumerate(box.messages, 1)
                                        if i not in deleted]
                self.send("+OK bye")
                return
            elif not authorised:
                self.send("-ERR sign in first")
            elif command == "STAT":
                live = [m for i, m in enumerate(messages, 1) if i not in deleted]
                self.send(f"+OK {len(live)} {sum(len(m) for m in live)}")
            elif command == "RETR":
                number = int(argument)
                if number in deleted or not 0 < number <= len(messages):
                    self.send("-ERR no such message")
                    continue
                self.send(f"+OK {len(messages[number - 1])} octets")
                for body_line in messages[number - 1].splitlines():
                    # Byte-stuffing: a line starting with a dot gets another.
                    self.wfile.write((b"." + body_line if body_line.startswith(b".")
                                      else body_line) + b"\r\n")
                self.send(".")
            elif command == "DELE":
                deleted.add(int(argument))
                self.send("+OK deleted")
            elif command == "NOOP":
                self.send("+OK")
            else:
                self.send("-ERR not supported")


class POP3Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, mailbox: Mailbox) -> None:
        super().__init__(("127.0.0.1", 0), _Session)
        self.mailbox = mailbox

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"pop3://{self.mailbox.user}:{self.mailbox.password}@{host}:{port}"
