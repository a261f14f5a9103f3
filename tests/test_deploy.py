"""The production recipe's files agree with each other (they are not run by the tests)."""

from __future__ import annotations

import re
import runpy
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return pins


def test_constraints_pin_every_dependency_and_extra():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"])
    for requirements in project["optional-dependencies"].values():
        wanted += [r for r in requirements if not r.startswith("involve[")]
    pins = _pins()
    names = {re.sub(r"[-_.]+", "-", re.split(r"[\[<>=!~ ]", r, maxsplit=1)[0]).lower()
             for r in wanted}
    assert not sorted(names - set(pins)), "constraints.txt misses a dependency"
    for extra in ("gunicorn", "redis", "postgres-queue"):
        assert extra in project["optional-dependencies"]


def test_every_install_uses_the_constraints_file():
    makefile = (ROOT / "Makefile").read_text()
    installs = [line for line in makefile.splitlines() if "pip install" in line
                and "-e " in line]
    assert installs and all("-c constraints.txt" in line for line in installs)
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"pip install -c constraints\.txt -e '\.\[gunicorn,redis,postgres-queue\]'",
                     dockerfile)
    assert "COPY pyproject.toml constraints.txt" in dockerfile


def test_compose_starts_web_worker_postgres_and_redis():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"web", "worker", "postgres", "redis"}
    assert "gunicorn -c gunicorn.conf.py" in " ".join(services["web"]["command"])
    assert services["worker"]["command"] == ["flask", "worker"]
    for name in ("web", "worker"):
        environment = services[name]["environment"]
        assert environment["INVOLVE_HUEY_BACKEND"] == "redis"
        assert environment["DATABASE_URL"].startswith("postgresql://")
        assert "instance:/app/instance" in services[name]["volumes"]
    assert "healthz" in " ".join(services["web"]["healthcheck"]["test"])


def test_gunicorn_settings_log_json_without_query_strings():
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert settings["wsgi_app"] == "wsgi:app"
    assert settings["worker_class"] == "gthread" and settings["threads"] >= 1
    assert settings["graceful_timeout"] <= settings["timeout"]
    # %(r)s is the request line and %(q)s the query string: both can carry tokens.
    assert "%(r)s" not in settings["access_log_format"]
    assert "%(q)s" not in settings["access_log_format"]
    formatter = settings["logconfig_dict"]["formatters"]["json"]["()"]
    assert formatter.__name__ == "JSONFormatter"


def test_systemd_units_start_what_the_readme_says():
    web = (ROOT / "deploy/systemd/involve-web.service").read_text()
    worker = (ROOT / "deploy/systemd/involve-worker.service").read_text()
    assert "gunicorn -c gunicorn.conf.py" in web and "flask db upgrade" in web
    assert "flask worker" in worker
    for unit in (web, worker):
        assert "KillSignal=SIGTERM" in unit and "EnvironmentFile=" in unit
