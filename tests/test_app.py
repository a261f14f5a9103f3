"""The application factory's configuration: defaults, environment, instance folder, secret key."""

from __future__ import annotations

import os
import stat

import pytest

from involve import config as config_module
from involve import create_app


@pytest.fixture
def clean_environment(monkeypatch):
    """No Involve settings from the machine running the tests."""
    for name in list(os.environ):
        if name.startswith("INVOLVE_") or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    return monkeypatch


# Extensions are shared between apps: keep tasks immediate and limits off, as the other tests
# expect.
SAFE = {"TESTING": True, "HUEY_BACKEND": "immediate", "RATELIMIT_ENABLED": False,
        "MAIL_TRANSPORT": "memory"}


def _app(**config):
    return create_app({"SECRET_KEY": "test-secret-key", **SAFE, **config})


def test_defaults_apply_without_any_setting(clean_environment):
    app = _app()
    assert app.config["LOCK_AFTER_FAILURES"] == 5
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == (
        f"sqlite:///{os.path.join(app.instance_path, 'involve.sqlite3')}")


def test_environment_overrides_defaults_and_is_parsed_by_type(clean_environment):
    env = clean_environment
    env.setenv("INVOLVE_LOCK_MINUTES", "30")
    env.setenv("INVOLVE_MAIL_USE_TLS", "yes")
    env.setenv("INVOLVE_SESSION_COOKIE_SECURE", "1")
    env.setenv("INVOLVE_MAIL_SERVER", "smtp.example.org")
    env.setenv("INVOLVE_NOT_A_SETTING", "ignored")
    app = _app()
    assert app.config["LOCK_MINUTES"] == 30
    assert app.config["MAIL_USE_TLS"] is True
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["MAIL_SERVER"] == "smtp.example.org"
    assert "NOT_A_SETTING" not in app.config


def test_the_factory_mapping_wins_over_the_environment(clean_environment):
    clean_environment.setenv("INVOLVE_LOCK_MINUTES", "30")
    assert _app(LOCK_MINUTES=1).config["LOCK_MINUTES"] == 1


@pytest.mark.parametrize("given, expected", [
    ("postgres://u:p@db.example:5432/involve", "postgresql+psycopg://u:p@db.example:5432/involve"),
    ("postgresql://u@db.example/involve", "postgresql+psycopg://u@db.example/involve"),
    ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
    ("sqlite:////srv/involve.sqlite3", "sqlite:////srv/involve.sqlite3"),
])
def test_database_url_is_normalised_to_psycopg(clean_environment, given, expected):
    clean_environment.setenv("DATABASE_URL", given)
    assert _app().config["SQLALCHEMY_DATABASE_URI"] == expected


def test_secret_key_is_made_once_private_and_reused(tmp_path):
    folder = tmp_path / "instance"
    key = config_module.instance_secret_key(str(folder))
    path = folder / "secret_key"
    assert len(key) >= 48
    assert path.read_text() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert config_module.instance_secret_key(str(folder)) == key
    assert config_module.instance_secret_key(str(tmp_path / "other")) != key


def _race_for_key(folder: str, barrier, results) -> None:
    barrier.wait()
    results.put(config_module.instance_secret_key(folder))


def test_processes_starting_at_once_agree_on_one_secret_key(tmp_path):
    """Gunicorn workers and the task worker start together: they must share one key."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    for attempt in range(10):
        folder = str(tmp_path / f"instance-{attempt}")
        barrier, results = context.Barrier(12), context.Queue()
        racers = [context.Process(target=_race_for_key, args=(folder, barrier, results))
                  for _ in range(12)]
        for racer in racers:
            racer.start()
        keys = [results.get(timeout=10) for _ in racers]
        for racer in racers:
            racer.join(timeout=30)
            assert racer.exitcode == 0
        assert len(set(keys)) == 1 and len(keys[0]) >= 48
        assert os.listdir(folder) == ["secret_key"], "a temporary file was left behind"


def test_secret_key_from_the_environment_wins(clean_environment):
    clean_environment.setenv("INVOLVE_SECRET_KEY", "from-the-environment")
    app = create_app(SAFE)
    assert app.config["SECRET_KEY"] == "from-the-environment"
