"""Key pages under load, side by side with a bare Flask "hello", on SQLite and PostgreSQL.

    python benchmarks/pages.py [--scale N] [--databases sqlite,postgresql] [--duration S]
                               [--rounds N] [--connections 16] [--rebuild] [--name NAME]

Builds (once, then reuses) a demo database of its own for each engine and size (SQLite in
/tmp/involve-bench/, PostgreSQL ``involve_bench_s<N>`` on 127.0.0.1; ``--name`` gives them
another name, so two people can measure on one machine), counts each page's SQL
statements in process, then serves the app with gunicorn (2 sync workers) and a bare Flask
hello app the same way, signs in as each demo role over HTTP, and drives every page with wrk
(or, without wrk, a Python load generator: threads with keep-alive connections) at 16
connections, hello and each page alternately, round after round, so the machine's noise falls
on all of them alike. The figures are medians over the rounds. Targets (issue 13): every key
page at least 0.25 of hello's requests per second, p99 under 50 ms.

What the profile showed (pyinstrument on the demo, and the statement log), before the work:

- Time went on SQL statements, not on Python or templates: each costs 0.3-1 ms through the ORM,
  and the home pages ran 20-36 of them, the election roll 55 (one per person: 20,055 and 9.3 s
  at 1,000 services).
- Per-request work done many times: the context processor worked out the navigation on every
  ``render_template`` (a home page renders a template per domain panel, so 6-7 times), and the
  recruitment nav rule asked two queries each time: 12-14 statements of a home page. Loading
  the account took two statements (account, then person) and the actor two (grants, terms).
- N+1s: elected people on the elections panel (candidates, then each person), interview panels
  (five selectin round trips), the newsletter panel (each issue's service), the feedback panel
  (every overdue complaint loaded to print a count, every submission of the person loaded to
  show three, every briefing loaded to show three).
- Growth with the organisation: the roll listed everyone (600 KB+ at 1,000 services); the home
  page's service switcher lists every service for organisation-wide roles.
- Markdown was converted (Python-Markdown, then nh3) on every view: about a third of a
  newsletter issue's time.
- The idle sign-out (``auth.sign_out_when_idle``) rewrites the session cookie on every request
  (a new signed cookie in every response): measured in process at about 0.05 ms a request
  (``--idle-cost``), small beside one SQL statement; left as it is.

What the profile showed after that first pass (cProfile in process, and timeit on the WSGI app
called directly, SQLite, the loaded machine):

- Making a page was still 5-25 statements and 10-100 ms (a home page 60-100 ms: 80% in
  SQLAlchemy building, compiling and running statements and loading rows, the rest Jinja and
  Flask), against hello's 0.1 ms. Fewer statements alone could not come near a quarter of
  hello, so pages are kept (``involve/page_cache.py``): served again to the same session while
  the organisation's data version (raised by every write) is unchanged, for up to a minute.
- A kept page first went through Flask (before_request): 0.7-1 ms, most of it Flask's request
  machinery, the ORM session lending a connection (0.3 ms) and an expanding IN (0.1 ms). It
  is now answered by WSGI middleware before Flask, with one compiled statement on a pool of
  its own (no ping, no transaction: one round trip on PostgreSQL): 0.15-0.25 ms on SQLite,
  0.5-0.7 ms on PostgreSQL on the same loaded machine. What is left is decoding the signed
  session cookie (0.06 ms), the statement (0.1 ms on SQLite), the idle rule (0.04 ms).
- On PostgreSQL the one statement is a round trip to the server: 0.3-0.5 ms of a kept page's
  0.5-0.7 ms on the loaded machine (psycopg waiting on the socket), which kept one to six
  pages just under a quarter of hello there, from one run to the next. It cannot go: it is
  what makes a sign-out in one process end the kept pages of every other at once.
- The figures are for pages seen again (each connection asks the same page with the same
  cookie). "made" is what the page costs when it is made: the first views of a session, the
  first after a write in the organisation, and once a minute (the time bound, and the
  session's idle stamp); such views fall in the p99.

At ``--scale 1000`` (1,004 services, 100,100 people, each extra service with its meetings,
election and roll, feedback, newsletters and vacancy; 2-core shared machine, load average
7-9, 2 rounds of 2 s): building took 38 s on SQLite and 35 s on PostgreSQL (``flask demo``
shows its progress every 50 services). Every key page ran as many statements as at demo size;
the largest pages were the election roll (89,844 bytes: 100 of 62,000 people), the board
queue (39,602: 50 items) and the services list (18,103: 25 services), the rest 2-10 KB.
Under load, before pages were kept, SQLite gave 9-211 req/s (0.004-0.090 of hello),
PostgreSQL 0-144 (0-0.068).

Latest run, the same machine quiet (load average under 1), ``--databases sqlite,postgresql
--scale 0 1000 --duration 2 --rounds 2``: every key page met both targets on both databases at
both sizes, 0.39-0.81 of hello with p99 3-32 ms (hello 6,849-7,950 req/s); the 1,000-service
demo was built in 8.4 s on SQLite and 21.1 s on PostgreSQL. The README has the table.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
NAME = "involve_bench"  # the databases' name, without the size (``--name``)
PG_BASE = "postgresql://postgres@127.0.0.1:5432/"
PASSWORD = "involve-demo"


def hello_app():
    """The bare Flask app every page is compared with."""
    from flask import Flask

    app = Flask("hello")

    @app.get("/")
    def hello() -> str:
        return "Hello, World!"

    return app


@dataclass(frozen=True)
class Page:
    """A key page: its name, its path, and who is signed in to see it (None: nobody)."""

    name: str
    path: str
    sign_in: str | None


def discover_pages(app) -> list[Page]:
    """The key pages of the demo organisation, found in its database."""
    from sqlalchemy import select

    from involve.elections.models import Election, Status
    from involve.extensions import db
    from involve.meetings.models import Meeting
    from involve.newsletters.models import Issue, IssueStatus
    from involve.people.models import Organisation, Service

    with app.app_context():
        org = db.session.scalar(select(Organisation).where(Organisation.name == "Brookfield Care"))
        rose = db.session.scalar(select(Service).where(Service.slug == "rose-court"))
        meeting = db.session.scalar(select(Meeting).where(Meeting.service_id == rose.id)
                                    .order_by(Meeting.starts_at.desc()))
        ballot = db.session.scalar(select(Election).where(
            Election.organisation_id == org.id, Election.service_id.is_(None),
            Election.status == Status.voting_open))
        issue = db.session.scalar(select(Issue).where(
            Issue.organisation_id == org.id, Issue.status == IssueStatus.published)
            .order_by(Issue.id))
        org_id, meeting_id, ballot_id, issue_id = org.id, meeting.id, ballot.id, issue.id
    roles = [("admin", "admin@brookfield.example"), ("manager", "manager@brookfield.example"),
             ("staff", "staff@brookfield.example"), ("board", "board@brookfield.example"),
             ("family", "family@brookfield.example"), ("partner", "partner@brookfield.example"),
             ("ada", "ada")]
    pages = [Page(f"home ({role})", "/", who) for role, who in roles]
    pages += [
        Page("a meeting", f"/meetings/{meeting_id}", "manager@brookfield.example"),
        Page("a ballot", f"/elections/{ballot_id}/ballot", "ada"),
        Page("a newsletter issue", f"/newsletters/issues/{issue_id}", "family@brookfield.example"),
        Page("board feedback queue", "/feedback/board", "board@brookfield.example"),
        Page("people list", "/people", "admin@brookfield.example"),
        Page("election roll", f"/elections/{ballot_id}/roll", "admin@brookfield.example"),
        Page("public archive", f"/newsletters/organisations/{org_id}", None),
        Page("services list", "/services", "admin@brookfield.example"),
    ]
    return pages


# --- databases ------------------------------------------------------------------------------

BENCH_ROOT = Path("/tmp/involve-bench-gunicorn")


def bench_dir(scale: int) -> Path:
    return Path("/tmp") / NAME.replace("_", "-") / f"s{scale}"


def database_url(engine: str, scale: int) -> str:
    if engine == "sqlite":
        return f"sqlite:///{bench_dir(scale) / 'involve.sqlite3'}"
    return f"{PG_BASE}{NAME}_s{scale}"


def app_env(url: str, scale: int) -> dict[str, str]:
    """The environment the app runs with: its own database, key, queue and instance folder."""
    env = dict(os.environ, DATABASE_URL=url, FLASK_APP="involve",
               INVOLVE_SECRET_KEY="benchmark-only-secret", INVOLVE_HUEY_BACKEND="immediate",
               INVOLVE_MAIL_TRANSPORT="memory", INVOLVE_SIGN_IN_LIMIT="1000 per minute")
    env.pop("INVOLVE_TEST_DATABASE_URL", None)
    return env


def prepare(engine: str, scale: int, rebuild: bool) -> str:
    """The demo database for ``engine`` at ``scale``, built when missing (or ``rebuild``)."""
    url = database_url(engine, scale)
    if engine == "sqlite":
        folder = bench_dir(scale)
        if rebuild and folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True, exist_ok=True)
        ready = (folder / "ready").exists()
    else:
        import psycopg

        name = f"{NAME}_s{scale}"
        with psycopg.connect(PG_BASE + "postgres", autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                  (name,)).fetchone()
            if exists and rebuild:
                conn.execute(f'DROP DATABASE "{name}"')
                exists = None
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
        with psycopg.connect(url) as conn:
            ready = conn.execute("SELECT to_regclass('bench_ready')").fetchone()[0] is not None
    env = app_env(url, scale)
    flask = [str(BIN / "flask"), "--app", "involve"]
    subprocess.run(flask + ["db", "upgrade"], env=env, cwd=ROOT, check=True,
                   capture_output=True)  # a database built before a new migration too
    if ready:
        return url
    print(f"  {engine}: {build(flask + ['demo', '--scale', str(scale)], env)}", flush=True)
    if engine == "sqlite":
        (bench_dir(scale) / "ready").touch()
    else:
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE bench_ready (built_at timestamptz DEFAULT now())")
            conn.execute("ANALYZE")
    return url


def build(command: list[str], env: dict[str, str]) -> str:
    """Run ``flask demo --scale``, showing its progress as it goes; its summary line."""
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    summary = ""
    for line in process.stdout:
        if "ready in" in line:
            summary = line.strip()
        elif "extra services" in line:
            print(f"    {line.strip()}", flush=True)
    if process.wait():
        raise subprocess.CalledProcessError(process.returncode, command)
    return summary


def statement_counts(url: str, pages: list[Page], app) -> dict[str, tuple[int, int, float]]:
    """(SQL statements, response bytes, milliseconds) of each page's own view, measured in
    process after a first view, with no page kept: what a page costs when it is made (the
    first views of a session, and after each write in the organisation). The milliseconds are
    the best of five."""
    from sqlalchemy import event

    from involve.extensions import db

    found = {}
    for page in pages:
        client = app.test_client()
        if page.sign_in:
            response = client.post("/sign-in", data={"sign_in": page.sign_in,
                                                     "password": PASSWORD})
            assert response.status_code == 302, (page, response.status_code)
        client.get(page.path)
        seen: list[str] = []

        def count(*args, seen=seen) -> None:
            seen.append(args[2])

        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", count)
            try:
                response = client.get(page.path)
            finally:
                event.remove(db.engine, "before_cursor_execute", count)
        assert response.status_code == 200, (page, response.status_code)
        times = []
        for _ in range(5):
            start = time.perf_counter()
            client.get(page.path)
            times.append((time.perf_counter() - start) * 1000)
        found[page.name] = (len(seen), len(response.data), min(times))
    return found


def idle_cost(app, page: Page, n: int = 100) -> float:
    """Milliseconds a request spends on the idle sign-out's cookie rewrite (on minus off).

    The best of ten alternating runs each way, as the machine's noise is larger than this.
    """
    times: dict[int, list[float]] = {}
    for minutes in (30, 0) * 10:
        app.config["IDLE_SIGN_OUT_MINUTES"] = minutes
        client = app.test_client()
        client.post("/sign-in", data={"sign_in": page.sign_in, "password": PASSWORD})
        client.get(page.path)
        start = time.perf_counter()
        for _ in range(n):
            client.get(page.path)
        times.setdefault(minutes, []).append((time.perf_counter() - start) / n * 1000)
    app.config["IDLE_SIGN_OUT_MINUTES"] = 30
    return min(times[30]) - min(times[0])


# --- serving and load -----------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(target: str, env: dict[str, str], chdir: Path) -> tuple[subprocess.Popen, int]:
    """Serve ``target`` with 2 sync workers and gunicorn's defaults.

    Not the project's ``gunicorn.conf.py`` (gunicorn reads it from the working folder): its
    threads would turn the workers into gthread ones, its access log would be written for the
    app and not for hello, and its ``max_requests`` restarts workers every few seconds here.
    """
    port = free_port()
    BENCH_ROOT.mkdir(parents=True, exist_ok=True)
    settings = BENCH_ROOT / "gunicorn.empty.py"
    settings.write_text("")
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "--config", str(settings), "--workers", "2",
         "--worker-class", "sync",
         "--bind", f"127.0.0.1:{port}", "--timeout", "120", "--chdir", str(chdir),
         "--log-level", "warning", target], env=env, start_new_session=True)
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.05)
    time.sleep(0.3)
    return process, port


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def sign_in(port: int, who: str) -> str:
    """Sign in over HTTP as the app's form expects; the session cookie."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/sign-in")
    response = conn.getresponse()
    body = response.read().decode()
    cookie = response.getheader("Set-Cookie", "").split(";")[0]
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', body).group(1)
    form = urllib.parse.urlencode({"csrf_token": token, "sign_in": who, "password": PASSWORD})
    conn.request("POST", "/sign-in", body=form, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    response = conn.getresponse()
    response.read()
    assert response.status == 302, f"sign-in as {who}: {response.status}"
    cookie = response.getheader("Set-Cookie").split(";")[0]
    # As a browser does: follow to the home page, which shows (and so ends) the welcome
    # message; the cookie it sends back is the one every later page is asked with.
    for _ in range(2):
        conn.request("GET", "/", headers={"Cookie": cookie})
        response = conn.getresponse()
        response.read()
        assert response.status == 200, f"home page as {who}: {response.status}"
        cookie = (response.getheader("Set-Cookie") or cookie).split(";")[0]
    return cookie


def warm(port: int, path: str, cookie: str | None, times: int = 8) -> None:
    """A few requests at once, so both workers have compiled the page's templates."""

    def get() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = conn.getresponse()
        response.read()
        assert response.status == 200, f"{path}: {response.status}"

    threads = [threading.Thread(target=get) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@dataclass
class Run:
    rps: float
    p50: float
    p99: float
    errors: int


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(port: int, path: str, cookie: str | None, seconds: float, connections: int) -> Run:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency",
               "--timeout", "10s"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(command + [f"http://127.0.0.1:{port}{path}"], capture_output=True,
                         text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*?timeout (\d+)", out)
    return Run(rps, p50, p99, (int(bad.group(1)) if bad else 0)
               + (int(errors.group(1)) if errors else 0))


def run_python(port: int, path: str, cookie: str | None, seconds: float,
               connections: int) -> Run:
    """Without wrk: threads, each with a keep-alive connection, as fast as answers come."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    headers = {"Cookie": cookie} if cookie else {}
    deadline = time.perf_counter() + seconds

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            mine.append((time.perf_counter() - start) * 1000)
            if response.status != 200:
                errors[0] += 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    return Run(len(latencies) / seconds, latencies[len(latencies) // 2],
               latencies[int(len(latencies) * 0.99)], errors[0])


# --- the table ------------------------------------------------------------------------------

def bench(engine: str, scale: int, args: argparse.Namespace) -> list[dict]:
    from involve import create_app
    from involve.config import normalise_database_url

    url = prepare(engine, scale, args.rebuild)
    app = create_app({"SQLALCHEMY_DATABASE_URI": normalise_database_url(url),
                      "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
                      "SECRET_KEY": "benchmark-only-secret",
                      "HUEY_BACKEND": "immediate", "MAIL_TRANSPORT": "memory",
                      "PAGE_CACHE_SECONDS": 0})  # statements of a page's own view
    pages = discover_pages(app)
    counts = statement_counts(url, pages, app)
    if args.idle_cost:
        print(f"  idle sign-out cookie rewrite: {idle_cost(app, pages[-2]):.3f} ms a request")
    with app.app_context():
        from involve.extensions import db

        db.engine.dispose()
    load = run_wrk if shutil.which("wrk") and not args.python_load else run_python
    app_server, app_port = start_gunicorn("wsgi:app", app_env(url, scale), ROOT)
    hello_server, hello_port = start_gunicorn("pages:hello_app()", app_env(url, scale),
                                              Path(__file__).resolve().parent)
    try:
        cookies = {who: sign_in(app_port, who) for who in {p.sign_in for p in pages} if who}
        targets = [("bare hello", hello_port, "/", None)] + [
            (p.name, app_port, p.path, cookies.get(p.sign_in)) for p in pages]
        for _name, port, path, cookie in targets:  # warm both workers: templates, caches
            warm(port, path, cookie)
        runs: dict[str, list[Run]] = {name: [] for name, *_ in targets}
        for _ in range(args.rounds):
            for name, port, path, cookie in targets:
                runs[name].append(load(port, path, cookie, args.duration, args.connections))
    finally:
        stop(app_server)
        stop(hello_server)
    hello_rps = statistics.median(r.rps for r in runs["bare hello"])
    rows = []
    for name, *_ in targets:
        rps = statistics.median(r.rps for r in runs[name])
        rows.append({"page": name, "rps": rps, "ratio": rps / hello_rps,
                     "p50": statistics.median(r.p50 for r in runs[name]),
                     "p99": statistics.median(r.p99 for r in runs[name]),
                     "errors": sum(r.errors for r in runs[name]),
                     "statements": counts.get(name, (None, None, None))[0],
                     "bytes": counts.get(name, (None, None, None))[1],
                     "made_ms": counts.get(name, (None, None, None))[2]})
    return rows


def print_table(engine: str, scale: int, rows: list[dict]) -> None:
    print(f"\n{engine}, demo{f' --scale {scale}' if scale else ''}:")
    print("| page | req/s | x hello | p50 / p99 ms | target | made: SQL statements | made: ms "
          "| bytes |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        size = "" if row["bytes"] is None else f"{row['bytes']:,}"
        met = row["ratio"] >= 0.25 and row["p99"] < 50
        target = "" if row["page"] == "bare hello" else ("met" if met else "not met")
        if row["errors"]:
            target += f" ({row['errors']} errors)"
        made = "" if row["made_ms"] is None else f"{row['made_ms']:.0f}"
        print(f"| {row['page']} | {row['rps']:,.0f} | {row['ratio']:.3f} | "
              f"{row['p50']:.0f} / {row['p99']:.0f} | {target} | "
              f"{'' if row['statements'] is None else row['statements']} | {made} | "
              f"{size} |")
    sys.stdout.flush()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, nargs="*", default=[0],
                        help="sizes to measure: 0 is the demo, N adds N services of 100 people")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--duration", type=float, default=2.0, help="seconds per page a round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rebuild", action="store_true", help="build the databases afresh")
    parser.add_argument("--python-load", action="store_true", help="not wrk, even if installed")
    parser.add_argument("--idle-cost", action="store_true",
                        help="also measure the idle sign-out's cookie rewrite in process")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--name", default=NAME, help="the benchmark databases' name")
    args = parser.parse_args()
    globals()["NAME"] = args.name
    print(f"machine: {os.cpu_count()} cores; load: "
          f"{'wrk' if shutil.which('wrk') and not args.python_load else 'Python threads'}, "
          f"{args.connections} connections, {args.rounds} rounds of {args.duration:g} s")
    results = {}
    for scale in args.scale:
        for engine in args.databases.split(","):
            rows = bench(engine, scale, args)
            results[f"{engine}-{scale}"] = rows
            print_table(engine, scale, rows)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
