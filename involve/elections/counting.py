"""Counting the votes in ambassador elections.

Pure Python, standard library only, so the count can be run, checked and re-run anywhere: by the
app when an election closes, from the ``flask elections count`` command, or by anyone holding an
exported BLT file.

Three ways of counting are offered:

* ``count_stv`` - the single transferable vote exactly as the Scottish Local Government Elections
  Order 2007 (SSI 2007/42), Schedule 1, rules 45-52 describe it: Droop quota, weighted inclusive
  Gregory surplus transfers with values truncated to five decimal places, surpluses transferred
  largest first, exclusions one at a time, ties broken by the most recent earlier stage at which the
  tied candidates had unequal votes and then by lot.  ``count_irv`` is the same count for one seat,
  which is the alternative vote.
* ``count_block`` - "choose up to N": the N candidates with the most votes win.
* ``count_approval`` - "choose any number": counted the same way.

Arithmetic is exact: every vote value is held as an integer number of hundred-thousandths
(``SCALE``), which is precisely the precision the Order prescribes, so truncating "to five decimal
places, any remainder being ignored" is plain integer floor division and no rounding error can creep
in.  Values leave this module as ``decimal.Decimal`` with five places.

Ties that survive the look-back are drawn by lot with ``random.Random(seed)``.  The seed is always
recorded in the result (one is made with ``secrets`` when none is given), so anyone can re-run the
count and see the same draw.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

__all__ = [
    "METHODS",
    "SCALE",
    "Ballot",
    "CountResult",
    "Stage",
    "TieBreak",
    "count_approval",
    "count_block",
    "count_election",
    "count_irv",
    "count_stv",
]

#: Vote values are integers in units of 1/SCALE: five decimal places, as rule 48(3) requires.
SCALE = 100_000

#: A ballot as the counting functions take it: (how many identical papers, candidate indexes).
#: For STV and IRV the indexes are a ranking, first preference first; for block and approval
#: voting they are the set of candidates chosen (order does not matter).
Ballot = tuple[int, Sequence[int]]

#: The counting methods offered, by the names the app and the command line use.
METHODS = ("stv", "irv", "block", "approval")


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TieBreak:
    """How a tie was resolved.

    Attributes:
        purpose: what the tie was about: ``"surplus"`` (whose surplus to transfer first, rule 49),
            ``"exclusion"`` (whom to exclude, rule 51) or ``"last-seats"`` (block and approval
            voting: who takes the last seats).
        candidates: the candidates that were tied, by index.
        chosen: the candidate(s) picked: the one whose surplus goes first, the one excluded, or
            those who take the last seats.
        method: ``"earlier-stage"`` when the look-back to an earlier stage decided it, ``"lot"``
            when it had to be drawn.
        stage: for ``"earlier-stage"``, the number of the stage whose votes decided it.
    """

    purpose: str
    candidates: tuple[int, ...]
    chosen: tuple[int, ...]
    method: str
    stage: int | None = None

    def to_dict(self, names: Sequence[str]) -> dict[str, Any]:
        """A JSON-friendly form, naming candidates as well as giving their indexes."""
        return {
            "purpose": self.purpose,
            "candidates": [names[c] for c in self.candidates],
            "candidate_indexes": list(self.candidates),
            "chosen": [names[c] for c in self.chosen],
            "chosen_indexes": list(self.chosen),
            "method": self.method,
            "stage": self.stage,
        }


@dataclass(frozen=True)
class Stage:
    """One stage of a count.

    Attributes:
        number: 1 for the first stage, then one more for each transfer.
        action: ``"first"`` (first preferences, or the whole count for block and approval),
            ``"surplus"`` (a surplus transferred, rule 48), ``"exclusion"`` (a candidate excluded
            and their papers transferred, rule 50) or ``"elected-remaining"`` (as many continuing
            candidates as seats left, rule 52; nothing is transferred).
        candidates: the candidate(s) the action concerns: whose surplus, who was excluded, or who
            was elected under rule 52.  Empty for the first stage.
        votes: each candidate's votes at the end of the stage, indexed like the candidates.
        transfers: how each candidate's votes changed in this stage (negative for the candidate
            whose papers were transferred).  At the first stage, the first-preference votes.
        non_transferable: value of the papers that had no further preference in this stage.
        non_transferable_total: the same, over the whole count so far.
        fraction_lost: value lost in this stage because transfer values are truncated to five
            decimal places (rule 48(3): "any remainder being ignored").
        fraction_lost_total: the same, over the whole count so far.
        surplus: for a surplus stage, the surplus transferred.
        transfer_value: for a surplus stage, the value of each transferred paper that was worth 1
            to the transferring candidate (papers received at a lower value move at
            proportionally less).
        elected: candidates elected at this stage, in order.
        excluded: candidates excluded at this stage.
        status: each candidate's standing at the end of the stage: ``"continuing"``,
            ``"elected"``, ``"excluded"`` or ``"withdrawn"`` (block and approval voting:
            ``"elected"``, ``"not-elected"`` or ``"withdrawn"``).
        ties: ties resolved to decide this stage's action.
        reason: what happened, in plain English.
    """

    number: int
    action: str
    candidates: tuple[int, ...]
    votes: tuple[Decimal, ...]
    transfers: tuple[Decimal, ...]
    non_transferable: Decimal
    non_transferable_total: Decimal
    fraction_lost: Decimal
    fraction_lost_total: Decimal
    elected: tuple[int, ...]
    excluded: tuple[int, ...]
    status: tuple[str, ...]
    reason: str
    surplus: Decimal | None = None
    transfer_value: Decimal | None = None
    ties: tuple[TieBreak, ...] = ()

    def to_dict(self, names: Sequence[str]) -> dict[str, Any]:
        """A JSON-friendly form: votes as strings with five decimal places (block and approval
        counts are whole numbers), lists indexed like the election's candidates."""
        return {
            "number": self.number,
            "action": self.action,
            "candidates": [names[c] for c in self.candidates],
            "candidate_indexes": list(self.candidates),
            "votes": [str(v) for v in self.votes],
            "transfers": [str(v) for v in self.transfers],
            "non_transferable": str(self.non_transferable),
            "non_transferable_total": str(self.non_transferable_total),
            "fraction_lost": str(self.fraction_lost),
            "fraction_lost_total": str(self.fraction_lost_total),
            "surplus": None if self.surplus is None else str(self.surplus),
            "transfer_value": None if self.transfer_value is None else str(self.transfer_value),
            "elected": [names[c] for c in self.elected],
            "elected_indexes": list(self.elected),
            "excluded": [names[c] for c in self.excluded],
            "excluded_indexes": list(self.excluded),
            "status": list(self.status),
            "ties": [t.to_dict(names) for t in self.ties],
            "reason": self.reason,
        }


@dataclass(frozen=True)
class CountResult:
    """The outcome of a count, with every stage, enough to publish and to check it.

    Attributes:
        method: ``"stv"``, ``"irv"``, ``"block"`` or ``"approval"``.
        title: the election's title, if one was given.
        candidates: the candidates' names; everything else refers to candidates by index here.
        seats: the number of seats filled.
        quota: the Droop quota (STV and IRV); ``None`` for block and approval voting.
        valid_ballots: the number of valid ballot papers (rule 45(3)).
        invalid_ballots: papers that chose nobody (after leaving out withdrawn candidates);
            they are not counted and do not enter the quota.
        elected: the candidates elected, by index, in order of election.
        stages: every stage of the count.
        seed: the seed of the random draw used for any lot; passing it again reproduces the count.
        lot_used: whether any tie had to be decided by lot.
        withdrawn: candidates withdrawn before the count; their preferences are skipped.
    """

    method: str
    title: str | None
    candidates: tuple[str, ...]
    seats: int
    quota: Decimal | None
    valid_ballots: int
    invalid_ballots: int
    elected: tuple[int, ...]
    stages: tuple[Stage, ...]
    seed: int
    lot_used: bool
    withdrawn: tuple[int, ...] = field(default=())

    @property
    def elected_names(self) -> list[str]:
        """The names of the elected candidates, in order of election."""
        return [self.candidates[c] for c in self.elected]

    @property
    def final_votes(self) -> tuple[Decimal, ...]:
        """Each candidate's votes when the count ended."""
        return self.stages[-1].votes

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly form of the whole result (``json.dumps`` takes it as it is)."""
        names = self.candidates
        return {
            "method": self.method,
            "title": self.title,
            "candidates": list(names),
            "seats": self.seats,
            "quota": None if self.quota is None else str(self.quota),
            "valid_ballots": self.valid_ballots,
            "invalid_ballots": self.invalid_ballots,
            "withdrawn": [names[c] for c in self.withdrawn],
            "elected": [names[c] for c in self.elected],
            "elected_indexes": list(self.elected),
            "seed": self.seed,
            "lot_used": self.lot_used,
            "stages": [s.to_dict(names) for s in self.stages],
        }


# --------------------------------------------------------------------------------------------
# Helpers shared by the methods
# --------------------------------------------------------------------------------------------


def _dec(scaled: int) -> Decimal:
    """A scaled integer as a Decimal with exactly five places (``1914.00000``)."""
    return Decimal(scaled).scaleb(-5)


def _show(scaled: int) -> str:
    """A vote value for a sentence: whole numbers plainly, otherwise to five places."""
    if scaled % SCALE == 0:
        return str(scaled // SCALE)
    return str(_dec(scaled))


def _join(names: Sequence[str]) -> str:
    """``"A"``, ``"A and B"``, ``"A, B and C"``."""
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _make_seed(seed: int | None) -> int:
    """The seed to use: the one given, or a fresh one (recorded so the draw can be repeated)."""
    if seed is None:
        return secrets.randbits(32)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"the seed must be a whole number, not {seed!r}")
    return seed


def _check_setup(candidates: Sequence[str], seats: int, withdrawn: Iterable[int]) -> set[int]:
    """Validate the common arguments; return the withdrawn candidates as a set."""
    if not candidates:
        raise ValueError("there are no candidates")
    if isinstance(seats, bool) or not isinstance(seats, int) or seats < 1:
        raise ValueError(f"the number of seats must be a whole number of at least 1, not {seats!r}")
    out = set()
    for c in withdrawn:
        if isinstance(c, bool) or not isinstance(c, int) or not 0 <= c < len(candidates):
            raise ValueError(f"withdrawn candidate {c!r} is not a candidate index")
        out.add(c)
    return out


def _group_ballots(
    ballots: Iterable[Ballot],
    n: int,
    withdrawn: set[int],
    clean: Callable[[tuple[int, ...]], tuple[int, ...]],
) -> tuple[dict[tuple[int, ...], int], int]:
    """Merge identical ballots, validate them, and drop withdrawn candidates.

    Returns ``({cleaned choices: number of papers}, number of papers left choosing nobody)``.

    Grouping first is what makes large counts fast: 100,000 papers over ten candidates come down
    to a few thousand distinct ones, and everything after this works per group, never per paper.
    Validation is also done per distinct ballot, for the same reason.
    """
    raw: dict[tuple[int, ...], int] = {}
    get = raw.get
    for item in ballots:
        try:
            weight, choices = item
            if choices.__class__ is not tuple:
                choices = tuple(choices)
            so_far = get(choices, 0)  # hashing fails on unhashable choices
        except (TypeError, ValueError):
            # Not a pair, or choices that are not a sequence of numbers: Python's own message
            # would not say what was expected.
            raise ValueError(
                f"each ballot must be a pair (count, candidate indexes), not {item!r}"
            ) from None
        if weight.__class__ is not int:
            # bool is an int subclass, and a float count would silently break exactness.
            raise ValueError(f"a ballot's count must be a whole number, not {weight!r}")
        if weight < 0:
            raise ValueError(f"a ballot's count cannot be negative ({weight})")
        raw[choices] = so_far + weight

    grouped: dict[tuple[int, ...], int] = {}
    blank = 0
    for choices, weight in raw.items():
        if weight == 0:
            continue
        for c in choices:
            if c.__class__ is not int or not 0 <= c < n:
                raise ValueError(
                    f"a ballot chooses {c!r}, which is not a candidate index (0 to {n - 1})"
                )
        kept = clean(choices)
        if withdrawn:
            kept = tuple(c for c in kept if c not in withdrawn)
        if kept:
            grouped[kept] = grouped.get(kept, 0) + weight
        else:
            blank += weight
    return grouped, blank


def _first_occurrences(choices: tuple[int, ...]) -> tuple[int, ...]:
    """A ranking with repeated candidates removed, keeping each one's first (highest) place.

    A later repeat can never matter: by the time the count reaches it the candidate is already
    elected or excluded, so it would be skipped anyway.
    """
    if len(set(choices)) == len(choices):
        return choices
    return tuple(dict.fromkeys(choices))


# --------------------------------------------------------------------------------------------
# STV (Scottish rules) and IRV
# --------------------------------------------------------------------------------------------


class _STVCount:
    """The state of one STV count.  Used only through ``count_stv``.

    Ballot groups are held in parallel lists (ranking, number of papers, current value, position of
    the candidate now holding them) and each candidate holds a list of group numbers: the "parcels"
    of the rules.  A transfer walks only the transferring candidate's groups, so the work of a
    whole count is roughly (distinct ballots) x (transfers each one takes part in).
    """

    def __init__(
        self,
        candidates: Sequence[str],
        groups: dict[tuple[int, ...], int],
        blank: int,
        seats: int,
        seed: int,
        withdrawn: set[int],
        title: str | None,
        method: str,
    ) -> None:
        self.names = tuple(candidates)
        self.n = n = len(candidates)
        self.seats = seats
        self.seed = seed
        self.rng = random.Random(seed)
        self.lot_used = False
        self.title = title
        self.method = method
        self.withdrawn = withdrawn
        self.blank = blank

        self.rankings = list(groups)
        self.counts = list(groups.values())
        self.weights = [SCALE] * len(self.rankings)
        self.pos = [0] * len(self.rankings)
        self.piles: list[list[int]] = [[] for _ in range(n)]

        # Rule 45(3): the total of valid papers; rule 46: the Droop quota from it.
        self.valid = sum(self.counts)
        self.quota = (self.valid // (seats + 1) + 1) * SCALE

        self.votes = [0] * n
        self.status = ["withdrawn" if c in withdrawn else "continuing" for c in range(n)]
        self.continuing = [c not in withdrawn for c in range(n)]
        # Elected candidates with a surplus not yet transferred.
        self.pending: list[int] = []
        self.elected: list[int] = []
        self.history: list[list[int]] = []  # votes at the end of each stage, for rules 49 and 51
        self.stages: list[Stage] = []
        self.non_transferable_total = 0
        self.fraction_lost_total = 0

    # -- the count ---------------------------------------------------------------------------

    def run(self) -> CountResult:
        """Count to the end and return the result."""
        self._first_stage()
        while True:
            seats_left = self.seats - len(self.elected)
            if seats_left <= 0:
                break
            hopeful = [c for c in range(self.n) if self.continuing[c]]
            if len(hopeful) <= seats_left:
                # Rule 52: the continuing candidates fill the last vacancies, and (52(2)) no
                # further transfer is made, even of a surplus still waiting.
                self._elect_remaining(hopeful)
                break
            # Rule 48(1): only a candidate whose votes *exceed* the quota has a surplus; one who
            # has exactly the quota has nothing to transfer, so no stage is spent on them (and
            # they never enter ``pending``).
            if self.pending:
                self._transfer_surplus(self.pending)
            else:
                # Rule 50(1): every transfer required has been made and seats remain.
                self._exclude_lowest(hopeful)
        return CountResult(
            method=self.method,
            title=self.title,
            candidates=self.names,
            seats=self.seats,
            quota=_dec(self.quota),
            valid_ballots=self.valid,
            invalid_ballots=self.blank,
            elected=tuple(self.elected),
            stages=tuple(self.stages),
            seed=self.seed,
            lot_used=self.lot_used,
            withdrawn=tuple(sorted(self.withdrawn)),
        )

    def _first_stage(self) -> None:
        """Rule 45: credit each candidate with their first preferences."""
        votes, piles, counts = self.votes, self.piles, self.counts
        for g, ranking in enumerate(self.rankings):
            first = ranking[0]
            piles[first].append(g)
            votes[first] += counts[g] * SCALE
        elected = self._elect_quota_holders()
        quota = self.quota // SCALE
        reason = (
            f"First preferences counted: {self.valid} valid ballot"
            f"{'' if self.valid == 1 else 's'} for {self.seats} seat"
            f"{'' if self.seats == 1 else 's'}, so the quota is {quota}."
        )
        self._record(
            "first", (), list(votes), 0, 0, elected, (), (), reason + self._elected_text(elected)
        )

    def _transfer_surplus(self, surpluses: list[int]) -> None:
        """Rules 48 and 49: transfer the largest surplus, every paper the candidate holds, each at
        (surplus x the paper's value) / (candidate's votes), truncated to five places."""
        top = max(self.votes[c] for c in surpluses)
        tied = [c for c in surpluses if self.votes[c] == top]
        c, tie = self._break_tie(tied, purpose="surplus", lowest=False)
        total = self.votes[c]
        surplus = total - self.quota
        received, non_transferable = self._transfer(c, surplus=surplus, total=total)
        self.pending.remove(c)
        moved = sum(received) + non_transferable
        lost = surplus - moved
        before = list(self.votes)
        self.votes[c] = self.quota
        for d in range(self.n):
            self.votes[d] += received[d]
        transfers = [self.votes[d] - before[d] for d in range(self.n)]
        elected = self._elect_quota_holders()
        transfer_value = surplus * SCALE // total
        reason = (
            f"{self.names[c]} has a surplus of {_show(surplus)} over the quota, so all of "
            f"{self.names[c]}'s ballots pass to their next preferences at "
            f"{_dec(transfer_value)} of their value."
        )
        if tie:
            reason = self._tie_text(tie, surplus) + " " + reason
        if non_transferable:
            reason += f" Ballots with no further preference: {_show(non_transferable)}."
        self._record(
            "surplus",
            (c,),
            transfers,
            non_transferable,
            lost,
            elected,
            (),
            (tie,) if tie else (),
            reason + self._elected_text(elected),
            surplus=surplus,
            transfer_value=transfer_value,
        )

    def _exclude_lowest(self, hopeful: list[int]) -> None:
        """Rules 50 and 51: exclude the continuing candidate with the fewest votes and pass each
        of their papers on at the value it had when they received it."""
        low = min(self.votes[c] for c in hopeful)
        tied = [c for c in hopeful if self.votes[c] == low]
        c, tie = self._break_tie(tied, purpose="exclusion", lowest=True)
        self.continuing[c] = False
        self.status[c] = "excluded"
        received, non_transferable = self._transfer(c)
        transfers = list(received)
        transfers[c] = -self.votes[c]
        self.votes[c] = 0
        for d in range(self.n):
            self.votes[d] += received[d]
        elected = self._elect_quota_holders()
        if tie:
            reason = self._tie_text(tie, low) + " "
        else:
            reason = f"{self.names[c]} had the fewest votes ({_show(low)}) and is excluded. "
        reason += f"{self.names[c]}'s ballots go to their next preferences."
        if non_transferable:
            reason += f" Ballots with no further preference: {_show(non_transferable)}."
        self._record(
            "exclusion",
            (c,),
            transfers,
            non_transferable,
            0,
            elected,
            (c,),
            (tie,) if tie else (),
            reason + self._elected_text(elected),
        )

    def _elect_remaining(self, hopeful: list[int]) -> None:
        """Rule 52: as many continuing candidates as vacancies - all are elected."""
        order = sorted(hopeful, key=lambda c: (-self.votes[c], c))
        for c in order:
            self._mark_elected(c)
        seats_left = len(order)
        if len(order) == 1:
            reason = (
                f"Only one candidate, {self.names[order[0]]}, is still in the count for the last "
                "seat, so they are elected."
            )
        else:
            reason = (
                f"Only {seats_left} candidates are still in the count for the last {seats_left} "
                f"seats, so {_join([self.names[c] for c in order])} are elected."
            )
        self._record(
            "elected-remaining",
            tuple(order),
            [0] * self.n,
            0,
            0,
            order,
            (),
            (),
            reason,
        )

    # -- mechanics ---------------------------------------------------------------------------

    def _transfer(self, c: int, surplus: int = 0, total: int = 0) -> tuple[list[int], int]:
        """Move every paper candidate ``c`` holds to its next continuing preference.

        For a surplus (``total`` given) the new value of a paper worth ``w`` is
        ``w * surplus // total``: rule 48(3)'s A / B truncated to five places (all three are in
        units of 1/SCALE, so the scales cancel).  For an exclusion papers keep their value
        (rule 50(4)).

        Returns (value received by each candidate, value of papers with no further preference).
        """
        rankings, counts, weights, pos = self.rankings, self.counts, self.weights, self.pos
        piles, continuing = self.piles, self.continuing
        received = [0] * self.n
        non_transferable = 0
        new_value: dict[int, int] = {}  # few distinct values, so compute each once
        for g in piles[c]:
            w = weights[g]
            if total:
                nw = new_value.get(w)
                if nw is None:
                    nw = new_value[w] = w * surplus // total
                if nw == 0:
                    # Truncated to nothing: it can never add to anyone's votes again, so drop
                    # the group rather than carry it round (its value is counted as lost).
                    continue
                w = nw
            ranking = rankings[g]
            end = len(ranking)
            p = pos[g] + 1
            while p < end and not continuing[ranking[p]]:
                p += 1
            if p < end:
                d = ranking[p]
                pos[g] = p
                weights[g] = w
                piles[d].append(g)
                received[d] += counts[g] * w
            else:
                non_transferable += counts[g] * w
        piles[c] = []
        return received, non_transferable

    def _elect_quota_holders(self) -> list[int]:
        """Rule 47: every continuing candidate with at least the quota is elected.

        When several reach it at once, the one with more votes is listed first.  (The Droop quota
        makes it impossible for more candidates to reach it than there are seats left.)
        """
        winners = [c for c in range(self.n) if self.continuing[c] and self.votes[c] >= self.quota]
        winners.sort(key=lambda c: (-self.votes[c], c))
        for c in winners:
            self._mark_elected(c)
            if self.votes[c] > self.quota:
                self.pending.append(c)
        return winners

    def _mark_elected(self, c: int) -> None:
        """Record ``c`` as elected and no longer continuing."""
        self.continuing[c] = False
        self.status[c] = "elected"
        self.elected.append(c)

    def _break_tie(
        self, tied: list[int], *, purpose: str, lowest: bool
    ) -> tuple[int, TieBreak | None]:
        """Rules 49(2)-(3) and 51(2): look back to the most recent stage at which the tied
        candidates had unequal votes, and pick the one with the fewest (exclusion) or most
        (surplus) votes there; if they were equal at every stage, draw lots.

        With three or more tied, a stage that separates only some of them narrows the field to
        those with the fewest (or most) votes there, and the look-back carries on among those from
        the stage before: that is the reading of "the candidate with the lowest number of votes at
        that stage" that never passes over a candidate who was clearly ahead more recently.
        """
        if len(tied) == 1:
            return tied[0], None
        contenders = sorted(tied)
        for number in range(len(self.history), 0, -1):
            votes = self.history[number - 1]
            values = {votes[c] for c in contenders}
            if len(values) > 1:
                target = min(values) if lowest else max(values)
                contenders = [c for c in contenders if votes[c] == target]
                if len(contenders) == 1:
                    return contenders[0], TieBreak(
                        purpose, tuple(sorted(tied)), (contenders[0],), "earlier-stage", number
                    )
        self.lot_used = True
        chosen = self.rng.choice(contenders)
        return chosen, TieBreak(purpose, tuple(sorted(tied)), (chosen,), "lot", None)

    def _record(
        self,
        action: str,
        concerned: tuple[int, ...],
        transfers: list[int],
        non_transferable: int,
        lost: int,
        elected: Sequence[int],
        excluded: tuple[int, ...],
        ties: tuple[TieBreak, ...],
        reason: str,
        surplus: int | None = None,
        transfer_value: int | None = None,
    ) -> None:
        """Append a Stage built from the current state, and remember the votes for look-backs."""
        self.non_transferable_total += non_transferable
        self.fraction_lost_total += lost
        self.history.append(list(self.votes))
        if len(self.elected) >= self.seats and action != "elected-remaining":
            reason += f" All {self.seats} seat{'s are' if self.seats > 1 else ' is'} now filled."
        self.stages.append(
            Stage(
                number=len(self.stages) + 1,
                action=action,
                candidates=concerned,
                votes=tuple(_dec(v) for v in self.votes),
                transfers=tuple(_dec(v) for v in transfers),
                non_transferable=_dec(non_transferable),
                non_transferable_total=_dec(self.non_transferable_total),
                fraction_lost=_dec(lost),
                fraction_lost_total=_dec(self.fraction_lost_total),
                elected=tuple(elected),
                excluded=excluded,
                status=tuple(self.status),
                reason=reason,
                surplus=None if surplus is None else _dec(surplus),
                transfer_value=None if transfer_value is None else _dec(transfer_value),
                ties=ties,
            )
        )

    # -- words -------------------------------------------------------------------------------

    def _elected_text(self, elected: Sequence[int]) -> str:
        """Sentences announcing candidates who reached the quota."""
        quota = _show(self.quota)
        return "".join(
            f" {self.names[c]} reached the quota of {quota} with {_show(self.votes[c])} votes "
            "and is elected."
            for c in elected
        )

    def _tie_text(self, tie: TieBreak, value: int) -> str:
        """A sentence explaining how a tie was resolved; ``value`` is what they were tied on."""
        names = _join([self.names[c] for c in tie.candidates])
        chosen = self.names[tie.chosen[0]]
        if tie.purpose == "exclusion":
            start = f"{names} were tied with the fewest votes ({_show(value)})."
            outcome = f"{chosen} is excluded"
            more = "fewer"
        else:
            start = f"{names} have equal surpluses ({_show(value)})."
            outcome = f"{chosen}'s surplus is transferred first"
            more = "more"
        if tie.method == "earlier-stage":
            return f"{start} {chosen} had {more} votes at stage {tie.stage}, so {outcome}."
        return (
            f"{start} They had equal votes at every stage, so {outcome}, chosen by lot "
            f"(seed {self.seed})."
        )


def count_stv(
    candidates: Sequence[str],
    ballots: Iterable[Ballot],
    seats: int,
    seed: int | None = None,
    *,
    title: str | None = None,
    withdrawn: Iterable[int] = (),
    method: str = "stv",
) -> CountResult:
    """Count an STV election under the Scottish rules (SSI 2007/42, Schedule 1, rules 45-52).

    Args:
        candidates: the candidates' names, in ballot order; ballots refer to them by index.
        ballots: ``(count, ranking)`` pairs, ranking being candidate indexes, first preference
            first.  Identical ballots may be given once with their count, or one by one.
            A candidate repeated on a ballot keeps only their first place.
        seats: how many are to be elected.
        seed: seed for drawing lots.  ``None`` makes a fresh one, recorded in the result.
        title: the election's title, carried into the result.
        withdrawn: indexes of candidates withdrawn before the count; their preferences are
            skipped.  A ballot left choosing nobody is not a valid ballot.
        method: the name to record in the result (``count_irv`` passes ``"irv"``).

    Returns:
        The result, with every stage.  The count goes: first preferences (rule 45); anyone with
        the Droop quota, ``floor(valid / (seats + 1)) + 1`` (rule 46), is elected (rule 47); the
        largest surplus is transferred (rules 48, 49), all the candidate's papers at truncated
        transfer values; when no surplus is left the lowest candidate is excluded and their
        papers pass on at their current value (rules 50, 51); when as many continuing candidates
        are left as seats, they are all elected and nothing more is transferred (rule 52).

    Raises:
        ValueError: the candidates, seats, ballots or seed are not usable.
    """
    withdrawn_set = _check_setup(candidates, seats, withdrawn)
    seed = _make_seed(seed)
    groups, blank = _group_ballots(ballots, len(candidates), withdrawn_set, _first_occurrences)
    return _STVCount(candidates, groups, blank, seats, seed, withdrawn_set, title, method).run()


def count_irv(
    candidates: Sequence[str],
    ballots: Iterable[Ballot],
    seed: int | None = None,
    *,
    title: str | None = None,
    withdrawn: Iterable[int] = (),
) -> CountResult:
    """Count a one-seat election by the alternative vote (instant runoff).

    This is ``count_stv`` with one seat: the quota is a majority of valid ballots, the lowest
    candidate is excluded one at a time until someone reaches it or only one is left.  Arguments
    and result are as for ``count_stv``; the result's method is ``"irv"``.
    """
    return count_stv(candidates, ballots, 1, seed, title=title, withdrawn=withdrawn, method="irv")


# --------------------------------------------------------------------------------------------
# Block and approval voting
# --------------------------------------------------------------------------------------------


def _count_most_votes(
    method: str,
    candidates: Sequence[str],
    ballots: Iterable[Ballot],
    seats: int,
    seed: int | None,
    title: str | None,
    withdrawn: Iterable[int],
    max_choices: int | None,
) -> CountResult:
    """Count an election in which each ballot gives one vote to each candidate it chooses and the
    candidates with the most votes win; a tie for the last seats is drawn by lot."""
    withdrawn_set = _check_setup(candidates, seats, withdrawn)
    seed = _make_seed(seed)
    n = len(candidates)

    def choose(choices: tuple[int, ...]) -> tuple[int, ...]:
        """A ballot's choices as a sorted set, checked against the limit on choices."""
        # A ballot is a set: choosing someone twice still gives them one vote.
        chosen = tuple(sorted(set(choices)))
        if max_choices is not None and len(chosen) > max_choices:
            raise ValueError(
                f"a ballot chooses {len(chosen)} candidates, "
                f"but at most {max_choices} may be chosen"
            )
        return chosen

    groups, blank = _group_ballots(ballots, n, withdrawn_set, choose)
    tally = [0] * n
    for chosen, weight in groups.items():
        for c in chosen:
            tally[c] += weight
    valid = sum(groups.values())

    standing = [c for c in range(n) if c not in withdrawn_set]
    standing.sort(key=lambda c: (-tally[c], c))
    rng = random.Random(seed)
    ties: list[TieBreak] = []
    if len(standing) <= seats:
        elected = standing
    else:
        # Everyone with more votes than the last seat's winner is in; those level with it
        # share the remaining seats by lot.
        line = tally[standing[seats - 1]]
        above = [c for c in standing if tally[c] > line]
        level = [c for c in standing if tally[c] == line]
        places = seats - len(above)
        if len(level) > places:
            drawn = rng.sample(level, places)
            drawn.sort(key=level.index)
            ties.append(TieBreak("last-seats", tuple(level), tuple(drawn), "lot"))
            elected = above + drawn
        else:
            elected = above + level

    names = tuple(candidates)
    status = tuple(
        "withdrawn" if c in withdrawn_set else "elected" if c in elected else "not-elected"
        for c in range(n)
    )
    if method == "block":
        how = f"Each ballot could choose up to {max_choices} candidate"
        how += "" if max_choices == 1 else "s"
    else:
        how = "Each ballot could choose any number of candidates"
    reason = (
        f"{how}; {valid} valid ballot{'' if valid == 1 else 's'} counted. "
        f"With the most votes, {_join([f'{names[c]} ({tally[c]})' for c in elected])} "
        f"{'is' if len(elected) == 1 else 'are'} elected."
    )
    if ties:
        tie = ties[0]
        reason += (
            f" {_join([names[c] for c in tie.candidates])} were tied on {tally[tie.candidates[0]]} "
            f"votes for the last {len(tie.chosen)} seat{'' if len(tie.chosen) == 1 else 's'}; "
            f"{_join([names[c] for c in tie.chosen])} won the draw by lot (seed {seed})."
        )
    stage = Stage(
        number=1,
        action="first",
        candidates=(),
        votes=tuple(Decimal(v) for v in tally),
        transfers=tuple(Decimal(v) for v in tally),
        non_transferable=Decimal(0),
        non_transferable_total=Decimal(0),
        fraction_lost=Decimal(0),
        fraction_lost_total=Decimal(0),
        elected=tuple(elected),
        excluded=(),
        status=status,
        reason=reason,
        ties=tuple(ties),
    )
    return CountResult(
        method=method,
        title=title,
        candidates=names,
        seats=seats,
        quota=None,
        valid_ballots=valid,
        invalid_ballots=blank,
        elected=tuple(elected),
        stages=(stage,),
        seed=seed,
        lot_used=bool(ties),
        withdrawn=tuple(sorted(withdrawn_set)),
    )


def count_block(
    candidates: Sequence[str],
    ballots: Iterable[Ballot],
    seats: int,
    seed: int | None = None,
    *,
    title: str | None = None,
    withdrawn: Iterable[int] = (),
) -> CountResult:
    """Count a block vote ("choose up to N"): the N candidates with the most votes are elected.

    Args:
        candidates: the candidates' names; ballots refer to them by index.
        ballots: ``(count, chosen candidate indexes)`` pairs; each ballot may choose at most
            ``seats`` different candidates (a repeated choice counts once).
        seats: N, the number to elect.
        seed: seed for the lot that settles a tie for the last seats (``None``: a fresh one,
            recorded in the result).
        title: the election's title, carried into the result.
        withdrawn: indexes of withdrawn candidates; votes for them are ignored.

    Raises:
        ValueError: bad arguments, or a ballot choosing more than ``seats`` candidates.
    """
    return _count_most_votes(
        "block", candidates, ballots, seats, seed, title, withdrawn, max_choices=seats
    )


def count_approval(
    candidates: Sequence[str],
    ballots: Iterable[Ballot],
    seats: int,
    seed: int | None = None,
    *,
    title: str | None = None,
    withdrawn: Iterable[int] = (),
) -> CountResult:
    """Count an approval vote ("choose any number"): the ``seats`` candidates chosen on the
    most ballots are elected.  Arguments as for ``count_block``, without the limit on choices."""
    return _count_most_votes(
        "approval", candidates, ballots, seats, seed, title, withdrawn, max_choices=None
    )


def count_election(
    method: str,
    candidates: Sequence[str],
    ballots: Iterable[Ballot],
    seats: int,
    seed: int | None = None,
    *,
    title: str | None = None,
    withdrawn: Iterable[int] = (),
) -> CountResult:
    """Count by the named method (one of ``METHODS``), for callers that store the method as text.

    ``"irv"`` ignores ``seats`` unless it is not 1, which is an error: the alternative vote fills
    one seat.
    """
    if method == "stv":
        return count_stv(candidates, ballots, seats, seed, title=title, withdrawn=withdrawn)
    if method == "irv":
        if seats != 1:
            raise ValueError(f"the alternative vote (irv) fills one seat, not {seats}")
        return count_irv(candidates, ballots, seed, title=title, withdrawn=withdrawn)
    if method == "block":
        return count_block(candidates, ballots, seats, seed, title=title, withdrawn=withdrawn)
    if method == "approval":
        return count_approval(candidates, ballots, seats, seed, title=title, withdrawn=withdrawn)
    raise ValueError(f"unknown counting method {method!r}; choose one of {', '.join(METHODS)}")
