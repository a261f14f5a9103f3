"""How fast a CSV file of people is previewed and imported.

Builds a fresh database (a temporary SQLite file, or ``--database-url``), an organisation with
four services, and a 5,000-row CSV of people with emails, roles, services, start dates and
communication needs; then times the preview (reading and checking every row), an import in one
transaction (how files of up to 500 rows are imported), and the background import of another
such file in batches (the real task), and prints rows per second for each and the longest time
one transaction of each held the write lock (SQLite has one; web requests wait on it).

    python benchmarks/people_import.py [--rows N] [--database-url URL]
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event, func, select

# Run from a checkout without installing: make the repository importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from involve import create_app  # noqa: E402
from involve.config import normalise_database_url  # noqa: E402
from involve.extensions import db  # noqa: E402
from involve.people import services  # noqa: E402
from involve.people.importing import COLUMNS  # noqa: E402
from involve.people.models import (  # noqa: E402
    ImportStatus,
    Organisation,
    Person,
    Role,
    RoleGrant,
    Service,
    ServiceKind,
)
from involve.people.tasks import run_import  # noqa: E402

NEEDS = ["", "large_print", "easy_read;audio", "", "bsl", ""]
ROLES = ["service_user", "family", "staff", "service_user"]


class WriteLockClock:
    """The longest a transaction held the write lock: from its first write to its end."""

    def __init__(self, engine) -> None:
        self.longest = 0.0
        event.listen(engine, "before_cursor_execute", self._write)
        event.listen(engine, "commit", self._end)
        event.listen(engine, "rollback", self._end)

    def _write(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE"):
            conn.info.setdefault("write_started", time.perf_counter())

    def _end(self, conn) -> None:
        started = conn.info.pop("write_started", None)
        if started is not None:
            self.longest = max(self.longest, time.perf_counter() - started)


def make_csv(rows: int, services: list[str], start: int = 0) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for i in range(start, start + rows):
        writer.writerow([f"Person {i} Example", f"P{i}", f"person{i}@example.org",
                         f"person{i}", ROLES[i % len(ROLES)], services[i % len(services)],
                         "2026-01-05", NEEDS[i % len(NEEDS)]])
    return ("\ufeff" + out.getvalue()).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = (normalise_database_url(args.database_url) if args.database_url
               else f"sqlite:///{folder}/bench.sqlite3")
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "benchmark",
                          "HUEY_BACKEND": "immediate", "MAIL_TRANSPORT": "memory"})
        with app.app_context():
            db.session.remove()
            db.drop_all()
            db.create_all()
            org = Organisation(name="Benchmark Care")
            db.session.add(org)
            db.session.flush()
            names = []
            for n in range(4):
                db.session.add(Service(organisation_id=org.id, name=f"Home {n}",
                                       slug=f"home-{n}", kind=ServiceKind.care_home))
                names.append(f"Home {n}")
            admin = Person(organisation_id=org.id, full_name="Bench Admin")
            db.session.add(admin)
            db.session.flush()
            db.session.add(RoleGrant(person_id=admin.id, role=Role.admin, service_id=None))
            db.session.commit()

            content = make_csv(args.rows, names)
            upload = services.upload_import(org, filename="bench.csv", content=content, by=admin)
            db.session.commit()

            started = time.perf_counter()
            preview = services.check_import(upload)
            preview_seconds = time.perf_counter() - started
            assert preview.ok, preview.file_problems or preview.problem_rows[0].problems

            clock = WriteLockClock(db.engine)
            started = time.perf_counter()
            preview = services.check_import(upload)  # the confirm checks again, as the app does
            services.import_rows(upload, preview.rows, by=admin)
            db.session.commit()
            import_seconds = time.perf_counter() - started
            import_lock, clock.longest = clock.longest, 0.0

            batched = services.upload_import(org, filename="bench.csv", by=admin,
                                             content=make_csv(args.rows, names, args.rows))
            batched.status, batched.total_rows = ImportStatus.queued, args.rows
            db.session.commit()
            started = time.perf_counter()
            run_import.call_local(batched.id)
            batched_seconds = time.perf_counter() - started
            batched_lock = clock.longest
            db.session.refresh(batched)
            assert batched.status == ImportStatus.done, batched.error
            people = db.session.scalar(select(func.count(Person.id))) - 1
            assert people == 2 * args.rows, people
            db.session.remove()
            db.drop_all()
    print(f"database: {url.split(':')[0]}")
    print(f"rows: {args.rows:,}")
    print(f"preview: {preview_seconds:.2f} s, {args.rows / preview_seconds:,.0f} rows per second")
    print(f"preview and import in one transaction: {import_seconds:.2f} s, "
          f"{args.rows / import_seconds:,.0f} rows per second, "
          f"write lock held {import_lock * 1000:,.0f} ms")
    print(f"background import in batches of {services.IMPORT_BATCH_ROWS} (preview included): "
          f"{batched_seconds:.2f} s, {args.rows / batched_seconds:,.0f} rows per second, "
          f"write lock held {batched_lock * 1000:,.0f} ms at most")


if __name__ == "__main__":
    main()
