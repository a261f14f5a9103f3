"""Run Involve as in production on one machine: two web processes and two workers.

Starts two gunicorn web servers and two ``flask worker`` processes on loopback, against one
PostgreSQL database and a Redis task queue (HUEY_BACKEND=redis), and shows that:

- both webs use the same secret key: a session cookie from one works on the other (the key is
  made in the instance folder by whichever process starts first, unless INVOLVE_SECRET_KEY is
  set);
- signing in works on both;
- a CSV import of more than 500 people, queued through one web, is done exactly once (one
  run of the task across both workers, every person once) and watched through the other;
- every line the webs and workers log is JSON, the access lines included.

Every process it starts is stopped at the end, even on failure. Exit status 0 when all hold.

    python scripts/multi_process_check.py [--database-url URL] [--redis-url URL] [--rows N]

The database is emptied and made afresh, and the Redis database flushed: give it ones of
its own.
"""

from __future__ import annotations

import argparse
import csv
import http.cookiejar
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
PASSWORD = "two webs, two workers"


class CheckFailed(Exception):
    """One of the promises did not hold."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare_database(url: str, rows: int) -> tuple[str, str]:
    """An empty schema with one organisation, its care home and an administrator who can sign
    in. Returns the administrator's email and the CSV file to import."""
    from involve import create_app
    from involve.extensions import db
    from involve.people import services
    from involve.people.importing import COLUMNS
    from involve.people.models import Person, Role, RoleGrant, ServiceKind, User

    subprocess.run([sys.executable, str(ROOT / "scripts" / "ensure_test_database.py"),
                    url.replace("+psycopg", "")], check=True)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "setup only",
                      "HUEY_BACKEND": "immediate", "MAIL_TRANSPORT": "memory"})
    with app.app_context():
        db.drop_all()
        db.create_all()
        org, _, _ = services.create_organisation("Two Machines Care",
                                                 admin_email="admin@two.example",
                                                 service_name="Rose Court")
        admin = db.session.scalar(db.select(Person).join(User).where(
            User.email == "admin@two.example"))
        admin.user.set_password(PASSWORD)
        services.create_service(org, name="Willow House", kind=ServiceKind.day_centre,
                                address="2 Willow Lane", by=admin)
        assert db.session.scalar(db.select(RoleGrant).where(
            RoleGrant.person_id == admin.id, RoleGrant.role == Role.admin)) is not None
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for i in range(rows):
        writer.writerow([f"Moved Person {i}", "", f"moved{i}@two.example", "", "service_user",
                         "Rose Court", "2026-01-05", ""])
    return "admin@two.example", out.getvalue()


class Browser:
    """A person at a browser: cookies kept, CSRF tokens read from the forms."""

    def __init__(self, jar: http.cookiejar.CookieJar | None = None) -> None:
        self.jar = jar or http.cookiejar.CookieJar()

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar),
                                                  NoRedirect)

    def request(self, url: str, data: bytes | None = None,
                content_type: str | None = None) -> tuple[int, str, dict[str, str]]:
        request = urllib.request.Request(url, data=data)
        if content_type:
            request.add_header("Content-Type", content_type)
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode(), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace"), dict(error.headers)

    def token(self, url: str) -> str:
        status, body, _ = self.request(url)
        found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', body)
        if status != 200 or not found:
            raise CheckFailed(f"no form at {url} ({status})")
        return found.group(1)

    def post(self, url: str, fields: dict[str, str],
             form_url: str | None = None) -> tuple[int, str, dict[str, str]]:
        fields = {"csrf_token": self.token(form_url or url), **fields}
        return self.request(url, urllib.parse.urlencode(fields).encode(),
                            "application/x-www-form-urlencoded")

    def upload(self, url: str, name: str, filename: str,
               content: bytes) -> tuple[int, str, dict[str, str]]:
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
                f"{self.token(url)}\r\n--{boundary}\r\nContent-Disposition: form-data; "
                f"name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: text/csv\r\n\r\n"
                ).encode() + content + f"\r\n--{boundary}--\r\n".encode()
        return self.request(url, body, f"multipart/form-data; boundary={boundary}")


class Processes:
    """Processes started here, each in its own process group, all stopped by :meth:`stop`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.started: list[tuple[str, subprocess.Popen[bytes], Path]] = []

    def start(self, name: str, command: list[str], env: dict[str, str]) -> None:
        log = self.folder / f"{name}.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        self.started.append((name, process, log))

    def logs(self, prefix: str) -> dict[str, str]:
        return {name: log.read_text(errors="replace") for name, _, log in self.started
                if name.startswith(prefix)}

    def stop(self) -> None:
        for _, process, _ in self.started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for _, process, _ in self.started:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def wait_until_healthy(url: str, processes: Processes, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for name, process, log in processes.started:
            if process.poll() is not None:
                raise CheckFailed(f"{name} stopped:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    raise CheckFailed(f"{url} did not answer /healthz within {seconds:.0f} s")


def check(condition: bool, what: str) -> None:
    if not condition:
        raise CheckFailed(what)
    print(f"ok: {what}")


def run(database_url: str, redis_url: str, rows: int, folder: Path) -> None:
    import redis

    from involve.config import normalise_database_url

    url = normalise_database_url(database_url)
    admin_email, content = prepare_database(url, rows)
    redis.Redis.from_url(redis_url).flushdb()

    key_path = ROOT / "instance" / "secret_key"
    made_key = not key_path.exists() and "INVOLVE_SECRET_KEY" not in os.environ
    env = {**os.environ, "DATABASE_URL": database_url, "INVOLVE_HUEY_BACKEND": "redis",
           "INVOLVE_HUEY_URL": redis_url, "INVOLVE_MAIL_TRANSPORT": "memory",
           "INVOLVE_RATELIMIT_STORAGE_URI": redis_url, "INVOLVE_WEB_WORKERS": "1",
           "INVOLVE_WEB_THREADS": "2", "INVOLVE_WEB_GRACEFUL_TIMEOUT": "5",
           "FLASK_APP": "wsgi:app", "PYTHONUNBUFFERED": "1"}
    processes = Processes(folder)
    try:
        webs = []
        for n in (1, 2):
            port = free_port()
            webs.append(f"http://127.0.0.1:{port}")
            processes.start(f"web{n}", [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py"],
                            {**env, "INVOLVE_BIND": f"127.0.0.1:{port}",
                             "INVOLVE_BASE_URL": webs[-1]})
        for n in (1, 2):
            processes.start(f"worker{n}", [str(BIN / "flask"), "worker", "--workers", "2"], env)
        for web in webs:
            wait_until_healthy(web, processes)
        one, two = webs

        # Signing in on each web, and one web's cookie on the other.
        for web in webs:
            browser = Browser()
            status, _, headers = browser.post(f"{web}/sign-in", {"sign_in": admin_email,
                                                                 "password": PASSWORD})
            check(status == 302 and "/sign-in" not in headers.get("Location", ""),
                  f"signing in on {web}")
        browser = Browser()
        browser.post(f"{one}/sign-in", {"sign_in": admin_email, "password": PASSWORD})
        status, body, _ = browser.request(f"{two}/people/import")
        check(status == 200 and "CSV file" in body,
              "a session cookie from the first web is good on the second (one secret key)")

        # An import queued through one web, watched through the other, done exactly once.
        status, _, headers = browser.upload(f"{one}/people/import", "file", "moved.csv",
                                            content.encode())
        check(status == 302, "uploading a CSV file of people")
        token = re.search(r"/people/import/([\w-]+)", headers["Location"]).group(1)
        status, _, headers = browser.post(f"{one}/people/import/{token}/confirm", {},
                                          form_url=f"{one}/people/import/{token}")
        check(status == 302, f"confirming the import of {rows} people (queued)")
        deadline, page = time.monotonic() + 60, ""
        while time.monotonic() < deadline:
            _, page, _ = browser.request(f"{two}/people/import/{token}/progress")
            if "Finished" in page or "Not imported" in page:
                break
            time.sleep(0.5)
        check(f"{rows} of {rows} people imported" in page,
              "the import finished, as seen through the other web")
        check_exactly_once(url, token, rows)
        runs = sum(1 for log in processes.logs("worker").values() for line in log.splitlines()
                   if "Executing" in line and "run_import" in line)
        check(runs == 1, f"one run of the import task across both workers (saw {runs})")
    finally:
        processes.stop()
        if made_key:
            key_path.unlink(missing_ok=True)
    check(all(p.returncode is not None for _, p, _ in processes.started),
          "every process started here has stopped")

    for name, log in processes.logs("").items():
        lines = [line for line in log.splitlines() if line.strip()]
        bad = []
        for line in lines:
            try:
                json.loads(line)
            except ValueError:
                bad.append(line)
        check(not bad, f"every one of {len(lines)} lines {name} logged is JSON"
              + (f" (not: {bad[:2]})" if bad else ""))
    access = [json.loads(line) for log in processes.logs("web").values()
              for line in log.splitlines() if "/healthz" in line or "/sign-in" in line]
    check(bool(access), f"access lines are logged as JSON ({len(access)} seen)")


def check_exactly_once(url: str, token: str, rows: int) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        upload = conn.execute(text("SELECT id, status, attempt, rows_done FROM people_import "
                                   "WHERE token = :t"), {"t": token}).one()
        people = conn.execute(text("SELECT count(*), count(DISTINCT full_name) FROM person "
                                   "WHERE full_name LIKE 'Moved Person %'")).one()
        hidden = conn.execute(text("SELECT count(*) FROM person "
                                   "WHERE import_id IS NOT NULL")).scalar()
        audited = conn.execute(text("SELECT count(*) FROM audit_event WHERE action = "
                                    "'people.imported'")).scalar()
    engine.dispose()
    check(upload.status == "done" and upload.attempt == 1 and upload.rows_done == rows,
          f"the import ran once (status {upload.status}, runs {upload.attempt})")
    check(tuple(people) == (rows, rows) and hidden == 0,
          f"every one of the {rows} people is in the database once, none left hidden")
    check(audited == 1, "one audit event for the import")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url",
                        default="postgresql://postgres@127.0.0.1:5432/involve_multi_process")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9")
    parser.add_argument("--rows", type=int, default=600)
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="involve-multi-") as folder:
        try:
            run(args.database_url, args.redis_url, args.rows, Path(folder))
        except CheckFailed as failure:
            print(f"FAILED: {failure}", file=sys.stderr)
            for log in sorted(Path(folder).glob("*.log")):
                print(f"--- {log.name} (last lines)\n{log.read_text()[-1500:]}",
                      file=sys.stderr)
            return 1
    print(f"all held, in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
