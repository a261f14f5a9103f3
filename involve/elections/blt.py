"""Reading and writing ballots in the BLT format.

BLT is the plain-text format most STV counting programs read (OpenSTV, Droop, ERS tools), so an
election exported from Involve can be recounted independently, and published reference elections
can be counted by us.  The layout::

    4 2                  <- number of candidates, number of seats
    -3                   <- optional: withdrawn candidates, as negative numbers
    12 1 2 3 0           <- COUNT PREF1 PREF2 ... 0   (candidates numbered from 1)
    7 2 0
    0                    <- end of ballots
    "Ada Lovelace"       <- one quoted name per candidate, in number order
    "Bob Jones"
    "Cy Young"
    "Di Prince"
    "Residents' committee 2025"   <- the election's title, quoted (optional)

Blank lines are ignored and ``#`` starts a comment outside quotes.  Inside this program candidates
are numbered from 0, as the counting functions expect.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["BLTElection", "BLTError", "parse_blt", "read_blt", "write_blt"]


class BLTError(ValueError):
    """A BLT file that cannot be read, with the line where the trouble is.

    Attributes:
        message: what is wrong, in plain words.
        line: the 1-based line number, when the problem is on a particular line.
        source: the file name, when known.
    """

    def __init__(self, message: str, line: int | None = None, source: str | None = None) -> None:
        self.message = message
        self.line = line
        self.source = source
        where = ", ".join(
            part for part in (source, f"line {line}" if line is not None else None) if part
        )
        super().__init__(f"{where}: {message}" if where else message)


@dataclass
class BLTElection:
    """An election read from (or to be written as) BLT.

    Attributes:
        title: the election's title ("" when the file has none).
        seats: the number of seats to fill.
        candidates: the candidates' names, in the file's order.
        ballots: ``(count, ranking)`` pairs, ranking as 0-based candidate indexes, first
            preference first - the form ``counting.count_stv`` takes.
        withdrawn: 0-based indexes of candidates withdrawn before the count.
    """

    title: str
    seats: int
    candidates: list[str]
    ballots: list[tuple[int, tuple[int, ...]]] = field(default_factory=list)
    withdrawn: list[int] = field(default_factory=list)

    @property
    def total_ballots(self) -> int:
        """How many ballot papers the file holds (identical papers are one line with a count)."""
        return sum(count for count, _ in self.ballots)

    def to_blt(self, *, group: bool = True) -> str:
        """This election as BLT text (see ``write_blt``)."""
        return write_blt(
            self.candidates,
            self.ballots,
            self.seats,
            title=self.title,
            withdrawn=self.withdrawn,
            group=group,
        )


# A quoted string, or a run of anything else that is not a quote or space: the trailer's tokens.
_TRAILER_TOKEN = re.compile(r'"([^"\n]*)"|(\S+)')


def _strip_comment(line: str) -> str:
    """The line without a ``#`` comment (a ``#`` inside quotes is part of a name)."""
    if "#" not in line:
        return line
    in_quotes = False
    for i, ch in enumerate(line):
        if ch == '"':
            in_quotes = not in_quotes
        elif ch == "#" and not in_quotes:
            return line[:i]
    return line


def _int_tokens(text: str, line: int, source: str | None, what: str) -> list[int]:
    """The whitespace-separated whole numbers on a line, or a BLTError naming the odd one out."""
    out = []
    for token in text.split():
        try:
            out.append(int(token))
        except ValueError:
            hint = " (equal rankings are not supported)" if "=" in token else ""
            raise BLTError(
                f"{what}: expected whole numbers, found {token!r}{hint}", line, source
            ) from None
    return out


def parse_blt(text: str, source: str | None = None) -> BLTElection:
    """Parse BLT text.

    Args:
        text: the whole file's contents.
        source: a name for the text (usually the file name), used in error messages.

    Returns:
        The election, with candidates renumbered from 0.

    Raises:
        BLTError: the text is not valid BLT; the message gives the line and what is wrong.
    """
    lines = text.splitlines()
    # Only lines with content matter; keep their numbers for messages.
    content = [
        (number, stripped)
        for number, raw in enumerate(lines, start=1)
        if (stripped := _strip_comment(raw).strip())
    ]
    if not content:
        raise BLTError("the file is empty", None, source)

    # Header: CANDIDATES SEATS.
    number, header = content[0]
    values = _int_tokens(header, number, source, "the first line should be 'CANDIDATES SEATS'")
    if len(values) != 2:
        raise BLTError(
            f"the first line should be two numbers, 'CANDIDATES SEATS', not {header!r}",
            number,
            source,
        )
    n, seats = values
    if n < 1:
        raise BLTError(f"the number of candidates must be at least 1, not {n}", number, source)
    if seats < 1:
        raise BLTError(f"the number of seats must be at least 1, not {seats}", number, source)

    index = 1
    withdrawn: list[int] = []
    # Optional withdrawn line: negative numbers only (a ballot line always starts positive).
    if index < len(content) and content[index][1].startswith("-"):
        number, line = content[index]
        for value in _int_tokens(line, number, source, "withdrawn candidates"):
            if value >= 0:
                raise BLTError(
                    f"withdrawn candidates are written as negative numbers; found {value}",
                    number,
                    source,
                )
            if -value > n:
                raise BLTError(
                    f"withdrawn candidate {-value} does not exist (there are {n} candidates)",
                    number,
                    source,
                )
            if -value - 1 in withdrawn:
                raise BLTError(f"candidate {-value} is withdrawn twice", number, source)
            withdrawn.append(-value - 1)
        index += 1

    # Ballots, up to a line holding just 0.
    ballots: list[tuple[int, tuple[int, ...]]] = []
    ended = False
    while index < len(content):
        number, line = content[index]
        index += 1
        if line.startswith('"'):
            break  # names before the end marker: reported below
        values = _int_tokens(line, number, source, "ballot line")
        if values == [0]:
            ended = True
            break
        count, *prefs = values
        if count <= 0:
            raise BLTError(
                f"a ballot line must start with a count of at least 1, not {count}",
                number,
                source,
            )
        if not prefs or prefs[-1] != 0:
            raise BLTError(
                "a ballot line must end with 0 (write COUNT PREF1 PREF2 ... 0)", number, source
            )
        prefs.pop()
        seen: set[int] = set()
        for pref in prefs:
            if pref == 0:
                raise BLTError("0 may only end a ballot line", number, source)
            if not 1 <= pref <= n:
                raise BLTError(
                    f"preference {pref} is not a candidate (candidates are 1 to {n})",
                    number,
                    source,
                )
            if pref in seen:
                raise BLTError(f"candidate {pref} appears twice on one ballot", number, source)
            seen.add(pref)
        ballots.append((count, tuple(p - 1 for p in prefs)))
    if not ended:
        at = content[index - 1][0] if index - 1 < len(content) else None
        raise BLTError(
            "the ballots must be followed by a line holding just 0, then the names", at, source
        )

    # Trailer: the names, then the title, each in double quotes.
    strings: list[tuple[int, str]] = []
    for number, line in content[index:]:
        for match in _TRAILER_TOKEN.finditer(line):
            if match.group(2) is not None:
                raise BLTError(
                    f"expected a name in double quotes, found {match.group(2)!r}", number, source
                )
            strings.append((number, match.group(1)))
    last_line = content[-1][0]
    if len(strings) < n:
        raise BLTError(
            f"the file names {len(strings)} of its {n} candidates; each name goes in double "
            "quotes on its own line after the 0 line",
            last_line,
            source,
        )
    if len(strings) > n + 1:
        number, extra = strings[n + 1]
        raise BLTError(
            f"unexpected text {extra!r} after the title (expected {n} names and a title)",
            number,
            source,
        )
    # Names are kept exactly as spelt in the file (spaces too), so results match the file's own
    # spelling when compared or exported again.
    names = [name for _, name in strings[:n]]
    for number, name in strings[:n]:
        if not name.strip():
            raise BLTError("a candidate's name is empty", number, source)
    title = strings[n][1] if len(strings) > n else ""
    return BLTElection(
        title=title, seats=seats, candidates=names, ballots=ballots, withdrawn=withdrawn
    )


def read_blt(path: str | Path) -> BLTElection:
    """Read and parse a BLT file (UTF-8).

    Raises:
        BLTError: the file is not valid BLT or not UTF-8 text.
        OSError: the file cannot be read.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BLTError(f"not a UTF-8 text file ({exc.reason})", None, str(path)) from None
    return parse_blt(text, source=str(path))


def write_blt(
    candidates: Sequence[str],
    ballots: Iterable[tuple[int, Sequence[int]]],
    seats: int,
    *,
    title: str = "",
    withdrawn: Iterable[int] = (),
    group: bool = True,
) -> str:
    """Write an election as BLT text.

    Args:
        candidates: the candidates' names.
        ballots: ``(count, ranking)`` pairs with 0-based candidate indexes.
        seats: the number of seats.
        title: the election's title.
        withdrawn: 0-based indexes of withdrawn candidates.
        group: merge identical rankings into one line and sort the lines (most common first).
            On by default: besides being shorter, it removes the order in which ballots were
            cast, which could otherwise help link a ballot to a voter.

    Returns:
        The BLT text, ending with a newline.

    Raises:
        ValueError: a name contains a double quote or a line break (BLT cannot hold them), or a
            ballot or count is invalid.
    """
    n = len(candidates)
    if n < 1:
        raise ValueError("there are no candidates")
    if seats < 1:
        raise ValueError(f"the number of seats must be at least 1, not {seats}")
    for text in (*candidates, title):
        if '"' in text or "\n" in text or "\r" in text:
            raise ValueError(f"BLT cannot hold a double quote or line break in a name: {text!r}")

    rows: list[tuple[int, tuple[int, ...]]] = []
    for count, ranking in ballots:
        ranking = tuple(ranking)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError(f"a ballot's count must be a whole number of at least 1: {count!r}")
        if len(set(ranking)) != len(ranking):
            raise ValueError(f"a ballot ranks a candidate twice: {ranking!r}")
        for c in ranking:
            if isinstance(c, bool) or not isinstance(c, int) or not 0 <= c < n:
                raise ValueError(f"a ballot ranks {c!r}, which is not a candidate index")
        rows.append((count, ranking))
    if group:
        merged: dict[tuple[int, ...], int] = {}
        for count, ranking in rows:
            merged[ranking] = merged.get(ranking, 0) + count
        rows = sorted(((c, r) for r, c in merged.items()), key=lambda row: (-row[0], row[1]))

    out = [f"{n} {seats}"]
    withdrawn = sorted(set(withdrawn))
    for c in withdrawn:
        if not 0 <= c < n:
            raise ValueError(f"withdrawn candidate {c!r} is not a candidate index")
    if withdrawn:
        out.append(" ".join(str(-(c + 1)) for c in withdrawn))
    out.extend(
        " ".join([str(count), *(str(c + 1) for c in ranking), "0"]) for count, ranking in rows
    )
    out.append("0")
    out.extend(f'"{name}"' for name in candidates)
    out.append(f'"{title}"')
    return "\n".join(out) + "\n"
