"""A mail server that goes away part-way through a send, for the restart tests."""

from __future__ import annotations

import threading

import pytest

from tests.conftest import SMTPSink, _Handler, free_port


class _Vanishing(_Handler):
    """Accepts ``accept`` messages, then answers 421 and shuts down (the server "disappears")."""

    def __init__(self, sink, accept: int, stop) -> None:
        super().__init__(sink)
        self.accept = accept
        self.stop = stop

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        with self.sink.lock:
            if len(self.sink.messages) >= self.accept:
                threading.Thread(target=self.stop, daemon=True).start()
                return "421 4.3.2 Service shutting down"
        envelope.mail_from = address
        return "250 OK"


class _RefusesSender(_Handler):
    """Answers every MAIL FROM with 553: the server will not relay for us (its settings)."""

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        return "553 5.7.1 Sender address rejected: not allowed to relay"


class _Greylisting(_Handler):
    """Answers each address's first RCPT with 451 ("come back later"), then accepts it."""

    def __init__(self, sink) -> None:
        super().__init__(sink)
        self.seen: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address not in self.seen:
            self.seen.add(address)
            return "451 4.7.1 Greylisted, please try again later"
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)


@pytest.fixture
def vanishing_smtp(app):
    """``start(accept=n)`` runs a server that accepts n messages then disappears;
    ``start(refuse_sender=True)`` one that refuses our sender address for every message;
    ``start(greylist=True)`` one that turns each address away once;
    ``start()`` again (same port) brings a normal one back. Messages are kept across both."""
    from aiosmtpd.controller import Controller

    sink = SMTPSink("127.0.0.1", free_port())
    state: dict = {}

    def stop() -> None:
        controller = state.pop("controller", None)
        if controller is not None:
            controller.stop()

    def start(accept: int | None = None, refuse_sender: bool = False,
              greylist: bool = False) -> SMTPSink:
        stop()
        handler = (_RefusesSender(sink) if refuse_sender
                   else _Greylisting(sink) if greylist
                   else _Vanishing(sink, accept, stop) if accept is not None
                   else _Handler(sink))
        controller = Controller(handler, hostname="127.0.0.1", port=sink.port)
        controller.start()
        state["controller"] = controller
        return sink

    saved = {k: app.config[k] for k in ("MAIL_TRANSPORT", "MAIL_SERVER", "MAIL_PORT")}
    app.config.update(MAIL_TRANSPORT="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=sink.port)
    sink.start = start  # type: ignore[attr-defined]
    sink.stop = stop  # type: ignore[attr-defined]
    try:
        yield sink
    finally:
        app.config.update(saved)
        stop()
