"""Opening and counting sealed ballots on one core: the heart of the count, without a database.

Seals N ballots (random STV rankings) with an election's public key, then times opening them
all in memory with the private key, shuffling, and counting by STV.

    taskset -c 0 python benchmarks/sealed_count.py [--ballots 100000] [--candidates 10] [--seats 3]

Latest figures (one core of a shared 2-core machine, 100,000 ballots, 10 candidates, 3 seats):
sealing 13 µs a ballot, opening 10 µs a ballot (0.99 s), shuffling and counting 0.63 s; opening
and counting 1.62 s against the 5 s target. With one sealed box (one X25519 key agreement) per
ballot, opening alone took 33-52 µs a ballot and the total 3.5-5.8 s depending on the load.
"""

from __future__ import annotations

import argparse
import random
import secrets
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from involve.elections import ballot_box  # noqa: E402
from involve.elections.counting import count_election  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=100_000)
    parser.add_argument("--candidates", type=int, default=10)
    parser.add_argument("--seats", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(3)
    ids = list(range(101, 101 + args.candidates))
    key = ballot_box.new_key()
    public = bytes(key.public_key)
    width = ballot_box.width_for(args.candidates)

    started = time.perf_counter()
    sealed = [ballot_box.seal(public, rng.sample(ids, rng.randint(1, args.candidates)), width)
              for _ in range(args.ballots)]
    seal_seconds = time.perf_counter() - started

    started = time.perf_counter()
    opened = list(ballot_box.open_all(key, sealed))
    open_seconds = time.perf_counter() - started
    started = time.perf_counter()
    secrets.SystemRandom().shuffle(opened)
    index = {cid: i for i, cid in enumerate(ids)}
    piles = Counter(tuple(index[c] for c in choices) for choices in opened)
    result = count_election("stv", [f"Candidate {i}" for i in ids],
                            [(n, ranking) for ranking, n in piles.items()], args.seats, 1)
    count_seconds = time.perf_counter() - started

    print(f"sealed {args.ballots} ballots ({len(sealed[0])} bytes each): {seal_seconds:.2f} s "
          f"({seal_seconds / args.ballots * 1e6:.0f} µs a ballot, the cost a cast adds)")
    print(f"opened them in memory: {open_seconds:.2f} s "
          f"({open_seconds / args.ballots * 1e6:.0f} µs a ballot)")
    print(f"shuffled and counted by STV ({args.candidates} candidates, {args.seats} seats): "
          f"{count_seconds:.2f} s")
    total = open_seconds + count_seconds
    print(f"opening and counting: {total:.2f} s (target under 5 s): "
          f"{'met' if total < 5 else 'NOT met'}")
    print(f"elected: {', '.join(result.candidates[i] for i in result.elected)}")


if __name__ == "__main__":
    main()
