"""A real worker process sending a real newsletter, for fault tests and the benchmark.

``python -m tests.newsletters.worker_harness seed N`` (or ``status``) runs against the
database and queue named by the environment that :class:`Harness` prepares; the harness
starts ``flask worker`` as a subprocess, and kills (SIGKILL) or stops (SIGTERM) it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

BODY = """## News from the garden

The tulips are out at last, and **Ada** planted the first of the sweet peas.

- Residents' meeting: Tuesday at 2pm in the lounge
- **You said:** the garden gate is stiff. **We did:** we oiled and rehung it.
"""


def seed(n: int, start_sending: bool = True) -> int:
    """An organisation, a care home, ``n`` family members with email, a published issue
    (queued for sending when ``start_sending``). Returns the issue's id."""
    from sqlalchemy import insert, select

    from involve.extensions import db, utcnow
    from involve.newsletters import services
    from involve.newsletters.models import Issue, IssueStatus
    from involve.people.models import (
        Organisation,
        Person,
        Role,
        RoleGrant,
        Service,
        ServiceKind,
        User,
    )

    org = Organisation(name="Benchmark Care")
    db.session.add(org)
    db.session.flush()
    home = Service(organisation_id=org.id, name="Rose Court", slug=f"rose-court-{org.id}",
                   kind=ServiceKind.care_home)
    db.session.add(home)
    db.session.flush()
    first = db.session.scalar(select(Person.id).order_by(Person.id.desc()).limit(1)) or 0
    db.session.execute(insert(Person), [
        {"id": first + i + 1, "organisation_id": org.id, "full_name": f"Relative {i:05d} Test",
         "preferred_name": f"Rel{i}"} for i in range(n)])
    db.session.execute(insert(User), [
        {"person_id": first + i + 1, "email": f"relative{i:05d}@bench.example"}
        for i in range(n)])
    db.session.execute(insert(RoleGrant), [
        {"person_id": first + i + 1, "role": Role.family, "service_id": home.id}
        for i in range(n)])
    issue = Issue(organisation_id=org.id, service_id=home.id, title="Rose Court news: spring",
                  body=BODY, audiences=["families"], status=IssueStatus.published,
                  published_at=utcnow())
    db.session.add(issue)
    db.session.commit()
    if start_sending:
        services.start_sending(issue, by=None)
        db.session.commit()
    return issue.id


def status() -> dict:
    """Delivery counts of every issue, and whether each is finished."""
    from sqlalchemy import select

    from involve.extensions import db
    from involve.newsletters.models import Issue
    from involve.newsletters.queries import delivery_counts

    return {str(issue.id): {**delivery_counts(issue.id), "status": issue.status.value}
            for issue in db.session.scalars(select(Issue))}


def empty_postgres(url: str) -> None:
    """Create the PostgreSQL database ``url`` names when missing, and empty it: the workers'
    tables and Huey's queue tables alike."""
    import psycopg

    subprocess.run([sys.executable, str(ROOT / "scripts" / "ensure_test_database.py"), url],
                   check=True, capture_output=True)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


class Harness:
    """A database, a task queue, and ``flask worker`` processes sending to a loopback server."""

    def __init__(self, folder: Path, smtp_port: int, *, batch: int = 50,
                 database_url: str | None = None, queue: str = "sqlite",
                 queue_url: str | None = None, lease: int = 2) -> None:
        self.folder = folder
        self.env = {
            **os.environ,
            "FLASK_APP": "wsgi:app",
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": database_url or f"sqlite:///{self.sqlite_path}",
            "INVOLVE_SECRET_KEY": "worker-harness",
            "INVOLVE_HUEY_BACKEND": queue,
            "INVOLVE_HUEY_URL": queue_url or str(folder / "tasks.sqlite3"),
            "INVOLVE_MAIL_TRANSPORT": "smtp",
            "INVOLVE_MAIL_SERVER": "127.0.0.1",
            "INVOLVE_MAIL_PORT": str(smtp_port),
            "INVOLVE_MAIL_TIMEOUT": "5",
            "INVOLVE_NEWSLETTER_BATCH_SIZE": str(batch),
            "INVOLVE_NEWSLETTER_CLAIM_LEASE_SECONDS": str(lease),
            "INVOLVE_NEWSLETTER_OUTAGE_RETRY_SECONDS": "1",
            "INVOLVE_BASE_URL": "https://involve.example",
        }
        self.env.pop("INVOLVE_TEST_DATABASE_URL", None)
        self.workers: list[subprocess.Popen] = []

    def _run(self, *args: str) -> str:
        return subprocess.run([sys.executable, "-m", "tests.newsletters.worker_harness", *args],
                              env=self.env, cwd=ROOT, check=True, capture_output=True,
                              text=True).stdout

    def seed(self, n: int) -> int:
        return int(self._run("seed", str(n)).strip().splitlines()[-1])

    def status(self) -> dict:
        return json.loads(self._run("status").strip().splitlines()[-1])

    @property
    def sqlite_path(self) -> Path:
        """The SQLite database file the workers use (when no ``database_url`` was given)."""
        return self.folder / "involve.sqlite3"

    def logs(self) -> str:
        """Everything every worker started here has written."""
        return "".join(path.read_text(errors="replace")
                       for path in sorted(self.folder.glob("worker-*.log")))

    def start(self) -> subprocess.Popen:
        log = open(self.folder / f"worker-{len(self.workers)}.log", "wb")  # noqa: SIM115
        worker = subprocess.Popen([sys.executable, "-m", "flask", "worker", "--workers", "1"],
                                  env=self.env, cwd=ROOT, stdout=log, stderr=log)
        self.workers.append(worker)
        return worker

    def stop(self, worker: subprocess.Popen, sig: int = signal.SIGTERM,
             timeout: float = 15) -> float:
        """Send ``sig``; return the seconds the worker took to exit."""
        start = time.monotonic()
        worker.send_signal(sig)
        worker.wait(timeout)
        return time.monotonic() - start

    def close(self) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait(10)


def main() -> None:
    from involve import create_app
    from involve.extensions import db

    app = create_app()
    with app.app_context():
        db.create_all()
        if sys.argv[1] == "seed":
            print(seed(int(sys.argv[2])))
        else:
            print(json.dumps(status()))


if __name__ == "__main__":
    main()
