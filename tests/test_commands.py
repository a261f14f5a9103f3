"""The flask commands: demo data, create-admin and backup."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import func, select

from involve.extensions import db
from involve.people.demo import DEMO_PASSWORD, ELMFIELD_SIGN_INS, SIGN_INS
from involve.people.models import Organisation, Role, RoleGrant, Service, ServiceKind, User
from tests.conftest import make_test_app


def _row_counts() -> dict[str, int]:
    db.session.expire_all()
    return {table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables}


def test_demo_loads_once_prints_the_sign_ins_and_scales(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    for sign_in, _who in SIGN_INS + ELMFIELD_SIGN_INS:
        assert sign_in in result.output
    assert DEMO_PASSWORD in result.output
    first = _row_counts()
    assert first["organisation"] == 2 and first["service"] == 5  # Brookfield and Elmfield
    assert first["person"] >= 40 and first["user_account"] >= 7

    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0, again.output
    assert _row_counts() == first, "a second `flask demo` added rows"

    scaled = runner.invoke(args=["demo", "--scale", "2"])
    assert scaled.exit_code == 0, scaled.output
    counts = _row_counts()
    assert counts["service"] == first["service"] + 2
    assert counts["person"] > first["person"]
    assert runner.invoke(args=["demo", "--scale", "2"]).exit_code == 0
    assert _row_counts() == counts
    # Three or more extra services once made residents' usernames collide.
    bigger = runner.invoke(args=["demo", "--scale", "3"])
    assert bigger.exit_code == 0, bigger.output
    assert _row_counts()["service"] == first["service"] + 3

    # The printed sign-ins work.
    client = app.test_client()
    for sign_in, who in SIGN_INS + ELMFIELD_SIGN_INS:
        response = client.post("/sign-in", data={"sign_in": sign_in, "password": DEMO_PASSWORD})
        assert response.status_code == 302, who
        client.post("/sign-out")


def _create_admin(app, *args: str, input: str | None = None):
    return app.test_cli_runner().invoke(args=["create-admin", *args], input=input)


def test_create_admin_on_a_new_installation(app):
    result = _create_admin(app, "--name", "Alex Admin", "--email", " Alex@Example.ORG ",
                           "--organisation", "Brookfield Care", "--password", "long enough")
    assert result.exit_code == 0, result.output
    assert "Administrator Alex Admin <alex@example.org> created for Brookfield Care." in (
        result.output)
    user = db.session.scalar(select(User).where(User.email == "alex@example.org"))
    assert user.check_password("long enough")
    grants = user.person.grants
    assert [(g.role, g.service_id) for g in grants] == [(Role.admin, None)]
    assert db.session.scalar(select(Organisation.name)) == "Brookfield Care"

    client = app.test_client()
    client.post("/sign-in", data={"sign_in": "alex@example.org", "password": "long enough"})
    assert client.get("/audit").status_code == 200


def test_create_admin_joins_the_existing_organisation(app, world):
    result = _create_admin(app, "--name", "Second Admin", "--email", "second@example.org",
                           "--password", "long enough")
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "second@example.org"))
    assert user.person.organisation_id == world.org.id
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 1


@pytest.mark.parametrize("email, password, message", [
    ("taken@example.org", "long enough", "already exists"),
    ("new@example.org", "short", "at least 8 characters"),
])
def test_create_admin_refuses_and_changes_nothing(app, email, password, message):
    assert _create_admin(app, "--name", "First", "--email", "taken@example.org",
                         "--password", "long enough").exit_code == 0
    before = _row_counts()
    result = _create_admin(app, "--name", "Another", "--email", email, "--password", password)
    assert result.exit_code != 0
    assert message in result.output
    assert _row_counts() == before


def test_create_admin_prompts_for_what_is_missing(app):
    result = _create_admin(app, input="Pat Admin\npat@example.org\nlong enough\nlong enough\n")
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count()).select_from(RoleGrant)) == 1


@pytest.fixture
def sqlite_app(tmp_path):
    """An app on its own SQLite file, whatever database the suite runs on."""
    path = tmp_path / "live.sqlite3"
    app = make_test_app(f"sqlite:///{path}", str(tmp_path / "instance"))
    with app.app_context():
        db.create_all()
        org = Organisation(name="Backed Up Care")
        db.session.add(org)
        db.session.flush()
        db.session.add_all([Service(organisation_id=org.id, name=f"Home {n}", slug=f"home-{n}",
                                    kind=ServiceKind.care_home)
                            for n in range(30)])
        db.session.commit()
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


def test_backup_makes_a_consistent_sqlite_copy(sqlite_app, tmp_path):
    destination = tmp_path / "copy.sqlite3"
    # Keep a connection open with the WAL not yet written back: the copy must still be whole.
    with sqlite_app.app_context():
        db.session.add(Service(organisation_id=1, name="Late addition", slug="late",
                               kind=ServiceKind.day_centre))
        db.session.commit()
        result = sqlite_app.test_cli_runner().invoke(args=["backup", str(destination)])
        db.session.remove()
    assert result.exit_code == 0, result.output
    assert f"Backed up to {destination}" in result.output
    copy = sqlite3.connect(destination)
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert copy.execute("SELECT count(*) FROM service").fetchone() == (31,)
        assert copy.execute("SELECT name FROM organisation").fetchall() == [("Backed Up Care",)]
    finally:
        copy.close()


def test_backup_goes_to_the_instance_folder_by_default(sqlite_app):
    result = sqlite_app.test_cli_runner().invoke(args=["backup"])
    assert result.exit_code == 0, result.output
    backups = list((Path(sqlite_app.instance_path) / "backups").glob("involve-*.sqlite3"))
    assert len(backups) == 1
    assert str(backups[0]) in result.output


def test_backup_on_postgresql_explains_pg_dump(tmp_path):
    # Nothing connects: the command only looks at which database is configured.
    app = make_test_app("postgresql+psycopg://involve@127.0.0.1:1/involve", str(tmp_path))
    result = app.test_cli_runner().invoke(args=["backup"])
    assert result.exit_code == 0, result.output
    assert "pg_dump" in result.output and "pg_restore" in result.output
