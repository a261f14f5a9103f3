"""How fast one newsletter issue is emailed, beside a bare smtplib loop.

Builds a fresh SQLite database in a temporary folder with 10,000 family members of one care
home, publishes an issue to them, and starts an aiosmtpd server on loopback. Then:

* **Involve**: queues the deliveries and runs the real sending path (``delivery.run``: claiming
  batches, personalising each message, sending over one SMTP connection, writing results back
  in batches) and times the run;
* **bare loop**: one smtplib connection sending the very same message bytes, already built, to
  the same server, with no database at all.

The two take turns (``--rounds``, 10 by default: a tenth of the recipients each turn, with a
fresh connection per turn on both sides), alternating which goes first, so a machine whose load
changes during the run slows both alike. The server runs in its own process. It prints messages
per second for both, the sender's CPU time per message, and the ratio; the target is at least
80% of the bare loop's rate.

    python benchmarks/newsletter_send.py [--recipients N] [--batch N] [--rounds N]
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import smtplib
import socket
import sys
import tempfile
import time
from pathlib import Path

# Run from a checkout without installing: make the repository importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiosmtpd.controller import Controller  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from involve import create_app  # noqa: E402
from involve.extensions import db, utcnow  # noqa: E402
from involve.newsletters import delivery, services  # noqa: E402
from involve.newsletters.models import Delivery, Issue, IssueStatus  # noqa: E402
from involve.people.models import (  # noqa: E402
    Organisation,
    Person,
    Role,
    RoleGrant,
    Service,
    ServiceKind,
    User,
)

TARGET = 0.80

BODY = """## News from the garden

The tulips are out at last, and **Ada** planted the first of the sweet peas. Thank you to
everyone who came to the spring fair: we raised £412 for the minibus.

## Meetings

- Residents' meeting: Tuesday at 2pm in the lounge
- Relatives' evening: Thursday at 6pm, with tea and cake

## You said, we did

- **You said:** the garden gate is stiff. **We did:** we oiled and rehung it.
- **You said:** more music in the afternoons. **We did:** a singer now comes on Fridays.
"""


class CountingHandler:
    """Accepts every message and only counts it, so the server costs the same for both sides."""

    def __init__(self, count) -> None:
        self.count = count

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        with self.count.get_lock():
            self.count.value += 1
        return "250 Message accepted"


def serve(port: int, count, ready, stop) -> None:
    """The SMTP server, in its own process so that it does not share the sender's GIL."""
    controller = Controller(CountingHandler(count), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seed(n: int) -> int:
    """An organisation, a care home, ``n`` family members with email, and a published issue."""
    org = Organisation(name="Benchmark Care")
    db.session.add(org)
    db.session.flush()
    home = Service(organisation_id=org.id, name="Rose Court", slug="rose-court",
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
    return issue.id


def bare_loop(host: str, port: int, sender: str,
              messages: list[tuple[str, bytes]]) -> tuple[float, float]:
    """Send prepared messages over one connection; return the seconds and CPU seconds taken."""
    start, cpu = time.perf_counter(), time.process_time()
    smtp = smtplib.SMTP(host, port)
    for to, raw in messages:
        smtp.sendmail(sender, [to], raw)
    smtp.quit()
    return time.perf_counter() - start, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=delivery.BATCH_SIZE)
    parser.add_argument("--rounds", type=int, default=10,
                        help="alternate the two this many times (1: one run of each)")
    args = parser.parse_args()

    host, port = "127.0.0.1", free_port()
    count, ready, stop = multiprocessing.Value("i", 0), multiprocessing.Event(), \
        multiprocessing.Event()
    server = multiprocessing.Process(target=serve, args=(port, count, ready, stop), daemon=True)
    server.start()
    ready.wait(10)

    with tempfile.TemporaryDirectory() as folder:
        app = create_app({
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite3",
            "SECRET_KEY": "benchmark", "HUEY_BACKEND": "immediate", "MAIL_TRANSPORT": "smtp",
            "MAIL_SERVER": host, "MAIL_PORT": port, "BASE_URL": "https://involve.example",
        })
        app.instance_path = folder
        with app.app_context():
            db.create_all()
            issue_id = seed(args.recipients)
            issue = db.session.get(Issue, issue_id)

            # The same messages, built ahead for the bare loop (not timed).
            composed = delivery.compose(issue)
            prepared = [(f"relative{i:05d}@bench.example",
                         composed.personal(i + 1, f"relative{i:05d}@bench.example", f"Rel{i}"))
                        for i in range(args.recipients)]
            size = sum(len(raw) for _, raw in prepared) / len(prepared)

            start = time.perf_counter()
            queued = services.start_sending(issue, by=None)
            db.session.commit()
            queue_seconds = time.perf_counter() - start

            # Interleave the two, alternating which goes first, so that a machine whose load
            # changes during the run slows both sides alike.
            rounds = max(1, args.rounds)
            batches_per_round = math.ceil(args.recipients / rounds / args.batch)
            chunk = batches_per_round * args.batch
            bare_seconds = bare_cpu = involve_seconds = involve_cpu = 0.0
            sent = 0
            for number in range(rounds):
                steps = ("bare", "involve") if number % 2 == 0 else ("involve", "bare")
                for step in steps:
                    if step == "bare":
                        seconds, cpu = bare_loop(host, port, composed.envelope_from,
                                                 prepared[number * chunk:(number + 1) * chunk])
                        bare_seconds += seconds
                        bare_cpu += cpu
                    else:
                        start, cpu_start = time.perf_counter(), time.process_time()
                        last = number == rounds - 1
                        outcome = delivery.run(issue_id, batch_size=args.batch,
                                               max_batches=None if last else batches_per_round)
                        involve_seconds += time.perf_counter() - start
                        involve_cpu += time.process_time() - cpu_start
                        sent += outcome.sent
            rows_sent = db.session.scalar(select(db.func.count(Delivery.id)).where(
                Delivery.status == "sent"))
            finished = db.session.get(Issue, issue_id).status == IssueStatus.sent
    stop.set()
    server.join(10)

    n = args.recipients
    bare_rate = n / bare_seconds
    involve_rate = sent / involve_seconds
    print(f"recipients: {n:,}  message size: {size / 1024:.1f} KiB  batch: {args.batch}  "
          f"rounds: {rounds}")
    print(f"queueing deliveries: {queued:,} rows in {queue_seconds:.2f} s")
    print(f"bare smtplib loop:   {bare_rate:8.0f} msg/s ({n:,} sent in {bare_seconds:.2f} s)")
    print(f"Involve send path:   {involve_rate:8.0f} msg/s ({sent:,} sent in "
          f"{involve_seconds:.2f} s; rows marked sent: {rows_sent:,}; issue marked sent: "
          f"{finished}; server received {count.value - n:,})")
    print(f"sender's CPU per message: bare {bare_cpu / n * 1e6:.0f} µs, "
          f"Involve {involve_cpu / max(sent, 1) * 1e6:.0f} µs")
    ratio = involve_rate / bare_rate
    print(f"ratio: {ratio:.0%} of the bare loop (target {TARGET:.0%}): "
          f"{'met' if ratio >= TARGET else 'NOT met'}")

if __name__ == "__main__":
    main()
