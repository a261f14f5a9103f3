"""The sealed ballot box: a key pair per election, ballots sealed as they are cast.

The public half of the key seals each ballot with PyNaCl's public-key boxes (libsodium: X25519
and XSalsa20-Poly1305, a random nonce for every ballot); the private half is handed to the
manager as a printed card and never kept. Nothing here is cryptography of our own: only how the
key is written down for people.

Each process seals with a throwaway sender key that lives only in its memory and is replaced
after :data:`SENDER_USES` ballots (or in a new process), so a ballot holds the sender's public
half, the nonce and the box. Without the card nobody can open a ballot; the throwaway key is
never written anywhere. At the count one key agreement opens every ballot of a sender key
(rather than one per ballot, as a sealed box would need), which keeps opening 100,000 ballots
well within the count's time on one core (``benchmarks/sealed_count.py``). Ballots sealed by
earlier releases with libsodium's sealed boxes still open.
"""

from __future__ import annotations

import base64
import os
import struct
import threading
from collections.abc import Iterable, Iterator, Sequence

from nacl.exceptions import CryptoError
from nacl.public import Box, PrivateKey, PublicKey, SealedBox
from nacl.utils import random as random_bytes

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


#: Ballots a throwaway sender key seals before the process makes a new one.
SENDER_USES = 64
#: What starts a ballot sealed with a sender key (earlier sealed boxes are 4n bytes long, and
#: this format 4n + 1: the length alone tells them apart).
_FORMAT = b"\x01"
_SENDER_KEY = PublicKey.SIZE
_NONCE = Box.NONCE_SIZE


class _Sender(threading.local):
    """This thread's throwaway sender key for each ballot box, and how often it was used."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.boxes: dict[bytes, tuple[Box, bytes, int]] = {}


_sender = _Sender()


def _sender_box(public_key: bytes) -> tuple[Box, bytes]:
    if _sender.pid != os.getpid():  # a forked worker never shares its parent's keys
        _sender.pid, _sender.boxes = os.getpid(), {}
    box, sender_public, uses = _sender.boxes.get(public_key, (None, b"", SENDER_USES))
    if box is None or uses >= SENDER_USES:
        sender = PrivateKey.generate()
        box, sender_public, uses = Box(sender, PublicKey(public_key)), bytes(sender.public_key), 0
    _sender.boxes[public_key] = (box, sender_public, uses + 1)
    return box, sender_public


def seal(public_key: bytes, choices: Sequence[int], width: int) -> bytes:
    """Seal a ballot's choices (candidate ids, in order) with the box's public key."""
    box, sender_public = _sender_box(public_key)
    nonce = random_bytes(_NONCE)
    return _FORMAT + sender_public + nonce + box.encrypt(_plain(choices, width), nonce).ciphertext


def open_all(key: PrivateKey, sealed: Iterable[bytes]) -> Iterator[tuple[int, ...]]:
    """Open sealed ballots in memory; raises :class:`BadKey` if one will not open."""
    boxes: dict[bytes, Box] = {}
    old = SealedBox(key)
    for blob in sealed:
        blob = bytes(blob)
        try:
            if len(blob) % 4 == 1 and blob[:1] == _FORMAT:
                start = 1 + _SENDER_KEY
                sender = blob[1:start]
                box = boxes.get(sender) or boxes.setdefault(sender, Box(key, PublicKey(sender)))
                plain = box.decrypt(blob[start + _NONCE:], blob[start:start + _NONCE])
            else:
                plain = old.decrypt(blob)
        except CryptoError:
            raise BadKey("A ballot in this box will not open with this key.") from None
        yield tuple(c for c in struct.unpack(f">{len(plain) // 4}I", plain) if c)


def width_for(standing: int) -> int:
    """How many choice slots a sealed ballot holds: one per candidate, at least eight."""
    return max(8, standing)


__all__ = ["BadKey", "key_text", "new_key", "open_all", "read_key", "seal", "width_for"]
