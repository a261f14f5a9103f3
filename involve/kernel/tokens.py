"""Signed tokens for every link that carries its own proof (invitations, resets, status links,
calendar feeds, newsletter links).

A :class:`SignedLink` names its purpose (the salt: a token made for one purpose is refused by
every other), how long a token lasts (``max_age``; None for a link that never expires) and what
a bad or an old token answers (a :class:`~involve.kernel.errors.DomainError` in plain words).
The formats are itsdangerous's, so the links already sent keep working:

- ``"json"``: ``URLSafeSerializer`` (a JSON payload, no time);
- ``"timed-json"``: ``URLSafeTimedSerializer`` (a JSON payload and when it was made);
- ``"plain"``: ``Signer`` (a text payload, no time);
- ``"timed-plain"``: ``TimestampSigner`` (a text payload and when it was made).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from flask import current_app
from itsdangerous import (
    BadSignature,
    SignatureExpired,
    Signer,
    TimestampSigner,
    URLSafeSerializer,
    URLSafeTimedSerializer,
)

from involve.kernel.errors import DomainError

Format = Literal["json", "timed-json", "plain", "timed-plain"]
MaxAge = timedelta | Callable[[], timedelta] | None

NOT_VALID = "This link is not valid. Please check you copied all of it."
TOO_OLD = "This link has expired. Please ask for a new one."


@dataclass(frozen=True)
class SignedLink:
    """One kind of signed link: its purpose, its life and its answers to a bad token."""

    purpose: str
    format: Format = "timed-json"
    max_age: MaxAge = None
    invalid: str = NOT_VALID
    expired: str = TOO_OLD
    error: type[DomainError] = DomainError

    def _signer(self) -> Any:
        key = current_app.config["SECRET_KEY"]
        return {"json": URLSafeSerializer, "timed-json": URLSafeTimedSerializer,
                "plain": Signer, "timed-plain": TimestampSigner}[self.format](
            key, salt=self.purpose)

    def make(self, payload: Any) -> str:
        """The token for ``payload`` (JSON-able, or text for the plain formats)."""
        signer = self._signer()
        if self.format in ("plain", "timed-plain"):
            return signer.sign(payload if isinstance(payload, bytes | str) else str(payload)
                               ).decode()
        return signer.dumps(payload)

    def read(self, token: str) -> Any:
        """The payload of a token made for this purpose, or :attr:`error` saying why not: its
        :attr:`expired` words for one older than :attr:`max_age`, :attr:`invalid` otherwise."""
        signer = self._signer()
        max_age = self.max_age() if callable(self.max_age) else self.max_age
        seconds = int(max_age.total_seconds()) if max_age is not None else None
        try:
            if self.format == "json":
                return signer.loads(token)
            if self.format == "timed-json":
                return signer.loads(token, max_age=seconds)
            if self.format == "plain":
                return signer.unsign(token).decode()
            return signer.unsign(token, max_age=seconds).decode()
        except SignatureExpired:
            raise self.error(self.expired) from None
        except (BadSignature, ValueError, TypeError, UnicodeDecodeError):
            raise self.error(self.invalid) from None
