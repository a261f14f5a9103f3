"""How fast the ballot box fills and empties: casting ballots and counting them from the database.

Builds an election with N voters on the roll (SQLite in a temporary folder, or the database in
``DATABASE_URL``), casts one ballot per voter through ``cast_ballot`` - one transaction each, as
the ballot page does - then times ``count_votes`` opening every sealed ballot with the key
and counting by STV.

    python benchmarks/election_ballot_box.py [--voters N] [--candidates N] [--seats N]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from involve import create_app  # noqa: E402
from involve.extensions import db  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=2000)
    parser.add_argument("--candidates", type=int, default=8)
    parser.add_argument("--seats", type=int, default=3)
    args = parser.parse_args()

    folder = tempfile.mkdtemp()
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{folder}/bench.sqlite3"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "MAIL_TRANSPORT": "memory",
                      "HUEY_BACKEND": "immediate", "SECRET_KEY": "benchmark"})
    app.instance_path = folder
    with app.app_context():
        db.create_all()
        from involve.elections import services
        from involve.elections.models import Channel, Method, RollEntry
        from involve.people.models import Role
        from tests.factories import make_org, make_person, make_service

        org = make_org("Benchmark Care")
        home = make_service(org, "Benchmark House")
        manager = make_person(org, "Bench Manager", roles=[(Role.manager, home)])
        voters = [make_person(org, f"Voter {i}", account=False,
                              roles=[(Role.service_user, home)]) for i in range(args.voters)]
        election = services.create_election(organisation_id=org.id, service_id=home.id,
                                            title="Benchmark", seats=args.seats,
                                            method=Method.stv, by=manager)
        services.open_nominations(election, by=manager)
        for person in voters[:args.candidates]:
            services.nominate(election, person, by=manager, consent=True)
        services.close_nominations(election, by=manager)
        key = services.make_ballot_box(election, by=manager)
        services.open_voting(election, key, by=manager)
        db.session.commit()
        ids = [c.id for c in election.standing]
        entries = list(db.session.scalars(db.select(RollEntry.id).where(
            RollEntry.election_id == election.id)))
        rng = random.Random(3)

        started = time.perf_counter()
        for entry_id in entries:
            ranking = rng.sample(ids, rng.randint(1, len(ids)))
            services.cast_ballot(election, entry_id, ranking, channel=Channel.online)
            db.session.commit()
        cast_seconds = time.perf_counter() - started

        services.close_voting(election, by=manager)
        started = time.perf_counter()
        services.count_votes(election, key, by=manager, seed=1)
        db.session.commit()
        count_seconds = time.perf_counter() - started
        started = time.perf_counter()
        services.reclaim_sealed_space()
        reclaim_seconds = time.perf_counter() - started

        print(f"database: {db.engine.dialect.name}")
        print(f"cast {len(entries)} ballots, one transaction each: {cast_seconds:.2f} s "
              f"({cast_seconds / len(entries) * 1000:.2f} ms a ballot)")
        print(f"opened, counted by STV ({args.candidates} candidates, {args.seats} seats) "
              f"and stored shuffled: {count_seconds:.3f} s; space reclaimed in "
              f"{reclaim_seconds:.3f} s")
        print(f"elected: {', '.join(election.result['elected'])}")


if __name__ == "__main__":
    main()
