"""How long the Scottish STV count takes on a large election.

Generates 100,000 ranked ballots over 10 candidates for 3 seats - seeded, so every run counts the
same ballots - and times ``count_stv`` on them, given one ballot at a time as the app would after
reading them from the database (the count itself groups identical ballots).  The target is well
under one second on one core.

    python benchmarks/count_stv.py [--ballots N] [--candidates N] [--seats N] [--repeat N]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

# Run from a checkout without installing: make the repository importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from involve.elections.counting import count_stv  # noqa: E402

TARGET_SECONDS = 1.0


def make_ballots(
    n_ballots: int, n_candidates: int, seed: int = 2007
) -> list[tuple[int, tuple[int, ...]]]:
    """Realistic-looking ranked ballots.

    Candidates have skewed popularity (a few strong, a long tail), voters rank candidates roughly
    in order of that popularity with personal noise, and ballots are of varying length: many
    voters rank only one to three candidates, fewer rank everyone - as in real STV elections.
    """
    rng = random.Random(seed)
    popularity = [1.0 / (rank + 1) ** 1.1 for rank in range(n_candidates)]
    rng.shuffle(popularity)
    # How many preferences a voter marks: mostly short ballots, a tail of full ones.
    lengths = list(range(1, n_candidates + 1))
    length_weights = [max(0.5, 30 / (k * k)) for k in lengths]
    length_weights[-1] += 6  # the "number everyone" voters
    ballots = []
    for _ in range(n_ballots):
        # Sorting by popularity / Exp(1) is an exponential race: a Plackett-Luce ranking, cheaply.
        keys = [p * rng.expovariate(1.0) ** -1 for p in popularity]
        order = sorted(range(n_candidates), key=keys.__getitem__, reverse=True)
        length = rng.choices(lengths, length_weights)[0]
        ballots.append((1, tuple(order[:length])))
    return ballots


def main() -> int:
    """Generate, count, print the figures; exit 0 whether or not the target is met."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=100_000)
    parser.add_argument("--candidates", type=int, default=10)
    parser.add_argument("--seats", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=5, help="runs to time; the best is shown")
    args = parser.parse_args()

    names = [f"Candidate {i + 1}" for i in range(args.candidates)]
    ballots = make_ballots(args.ballots, args.candidates)
    distinct = len({ranking for _, ranking in ballots})

    times = []
    result = None
    for _ in range(args.repeat):
        start = time.perf_counter()
        result = count_stv(names, ballots, args.seats, seed=1)
        times.append(time.perf_counter() - start)
    assert result is not None
    best = min(times)

    print(f"ballots:            {args.ballots}")
    print(f"distinct rankings:  {distinct}")
    print(f"candidates:         {args.candidates}")
    print(f"seats:              {args.seats}")
    print(f"stages:             {len(result.stages)}")
    print(f"elected:            {', '.join(result.elected_names)}")
    print(f"elapsed seconds:    {best:.3f} (best of {args.repeat}; worst {max(times):.3f})")
    verdict = "yes" if best < TARGET_SECONDS else "NO"
    print(f"under {TARGET_SECONDS:g} second:     {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
