"""The sealed ballot box: a key pair per election, ballots sealed as they are cast.

The public half of the key seals each ballot with PyNaCl's sealed boxes (libsodium: X25519 and
XSalsa20-Poly1305); the private half is handed to the manager as a printed card and never kept.
Nothing here is cryptography of our own: only how the key is written down for people.
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Iterable, Iterator, Sequence

from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

from involve.elections.models import ElectionsError

#: Letters in a group on the card: short enough to read aloud and type without losing place.
GROUP = 4
#: Look-alikes a person may type for the letters of the key (the key never holds 0, 1 or 8).
LOOK_ALIKES = str.maketrans({"0": "O", "1": "I", "8": "B"})


class BadKey(ElectionsError):
    """Text that is not a ballot box key, or not the key of this ballot box."""


def new_key(fixed: bytes | None = None) -> PrivateKey:
    """A fresh ballot box key pair (``fixed`` gives a known one, for the demo only)."""
    return PrivateKey(fixed) if fixed is not None else PrivateKey.generate()


def key_text(key: PrivateKey | bytes) -> str:
    """The private key as short groups of capital letters (and digits 2 to 7) for the card."""
    raw = bytes(key)
    letters = base64.b32encode(raw).decode().rstrip("=")
    return " ".join(letters[i:i + GROUP] for i in range(0, len(letters), GROUP))


def read_key(text: str, public_key: bytes) -> PrivateKey:
    """The private key typed or scanned from the card, checked against the box's public key.

    Spaces, dashes and case do not matter. Raises :class:`BadKey` for anything else.
    """
    letters = "".join(ch for ch in text.upper() if ch.isalnum()).translate(LOOK_ALIKES)
    if not letters:
        raise BadKey("Type the ballot box key from the card.")
    try:
        raw = base64.b32decode(letters + "=" * (-len(letters) % 8))
    except ValueError:
        raise BadKey("That is not a ballot box key: check each group of letters against the "
                     "card.") from None
    if len(raw) != 32:
        raise BadKey("That key is too short or too long: check that every group of letters on "
                     "the card is typed.")
    key = PrivateKey(raw)
    if bytes(key.public_key) != public_key:
        raise BadKey("That is not the key of this ballot box: check each group of letters "
                     "against the card for this election.")
    return key


def _plain(choices: Sequence[int], width: int) -> bytes:
    # Every ballot of an election is the same length once sealed, so its size says nothing
    # about how many people were chosen.
    if len(choices) > width:
        raise ValueError("more choices than candidates")
    return struct.pack(f">{width}I", *choices, *([0] * (width - len(choices))))


def seal(public_key: bytes, choices: Sequence[int], width: int) -> bytes:
    """Seal a ballot's choices (candidate ids, in order) with the box's public key."""
    return SealedBox(PublicKey(public_key)).encrypt(_plain(choices, width))


def open_all(key: PrivateKey, sealed: Iterable[bytes]) -> Iterator[tuple[int, ...]]:
    """Open sealed ballots in memory; raises :class:`BadKey` if one will not open."""
    box = SealedBox(key)
    for blob in sealed:
        try:
            plain = box.decrypt(blob)
        except CryptoError:
            raise BadKey("A ballot in this box will not open with this key.") from None
        yield tuple(c for c in struct.unpack(f">{len(plain) // 4}I", plain) if c)


def width_for(standing: int) -> int:
    """How many choice slots a sealed ballot holds: one per candidate, at least eight."""
    return max(8, standing)


__all__ = ["BadKey", "key_text", "new_key", "open_all", "read_key", "seal", "width_for"]
