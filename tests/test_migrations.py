"""The migrations and the models agree: upgrade an empty database; autogenerate finds nothing."""

from __future__ import annotations

import warnings

import flask_migrate
import psycopg
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from psycopg import sql
from sqlalchemy.engine import make_url

from involve.extensions import db
from tests.conftest import make_test_app


def _empty_database(database_url: str, tmp_path) -> str:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
    name = f"{url.database}_migrations"
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return url.set(database=name).render_as_string(hide_password=False)


def test_upgrade_to_head_then_autogenerate_finds_nothing(database_url, tmp_path):
    app = make_test_app(_empty_database(database_url, tmp_path), str(tmp_path))
    with app.app_context():
        flask_migrate.upgrade()
        with db.engine.connect() as connection, warnings.catch_warnings():
            # SQLite cannot reflect expression indexes (the person-name index); PostgreSQL
            # can, and there the comparison covers it.
            warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression")
            warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression")
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
        db.engine.dispose()
    assert differences == [], f"models and migrations differ: {differences}"
