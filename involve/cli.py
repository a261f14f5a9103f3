"""Flask commands: demo data, create-admin, backup and the background worker."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select, text

from involve.extensions import db
from involve.kernel import clock, domains


def register_commands(app: Flask) -> None:
    """Add Involve's commands to ``flask``."""
    app.cli.add_command(demo)
    app.cli.add_command(create_admin)
    app.cli.add_command(backup)
    app.cli.add_command(worker)
    for command in domains.commands(app):  # each domain's cli.COMMANDS
        app.cli.add_command(command)


@click.command("demo")
@click.option("--scale", default=0, show_default=True,
              help="Add N more services with people in proportion, for benchmarks.")
@with_appcontext
def demo(scale: int) -> None:
    """Load the Brookfield Care demo organisation and a second, small one, Elmfield Trust
    (running it twice adds nothing twice)."""
    from involve.people import demo as people_demo
    from involve.people.models import Person, Service

    started = time.perf_counter()
    org = people_demo.seed()
    db.session.flush()
    domains = _domain_demos()
    added = 0
    for batch in people_demo.scaled_batches(org, scale):
        for module in domains:
            if hasattr(module, "seed_scaled"):
                module.seed_scaled(org, batch)
        added += len(batch)
        click.echo(f"  {added:,} extra services with their people and records, "
                   f"{time.perf_counter() - started:.1f} s")
    if added:
        # The planner's statistics still describe the small tables: without fresh ones
        # PostgreSQL picks nested loops over 100,000 rows for the demo's next queries.
        db.session.commit()
        db.session.execute(text("ANALYZE"))
    notes: list[str] = []
    for module in domains:
        module.seed(org)
        notes += getattr(module, "notes", list)()
        db.session.flush()
    # Built after Brookfield, through the same services, so the boundary can be tried.
    second = people_demo.seed_elmfield()
    db.session.flush()
    for module in _domain_demos():
        if hasattr(module, "seed_elmfield"):
            module.seed_elmfield(second)
            db.session.flush()
    db.session.commit()
    services = db.session.scalar(select(func.count(Service.id))
                                 .where(Service.organisation_id == org.id))
    people = db.session.scalar(select(func.count(Person.id))
                               .where(Person.organisation_id == org.id))
    click.echo(f"{org.name}: {services:,} services and {people:,} people, ready in "
               f"{time.perf_counter() - started:.1f} s.")
    click.echo("Demo data is ready. Sign in with any of these (password: "
               f"{people_demo.DEMO_PASSWORD}):")
    for sign_in, who in people_demo.SIGN_INS + people_demo.ELMFIELD_SIGN_INS:
        click.echo(f"  {sign_in:<30} {who}")
    for note in notes:
        click.echo(note)


def _domain_demos() -> list:
    """Each domain's ``demo`` module but the people's (seeded first), in the domains' order."""
    return [module for module in domains.parts("demo")
            if module.__name__ != "involve.people.demo"]


@click.command("create-admin")
@click.option("--name", prompt="Full name")
@click.option("--email", prompt="Email address")
@click.option("--organisation", default="", help="Organisation name for a new installation.")
@click.password_option()
@with_appcontext
def create_admin(name: str, email: str, organisation: str, password: str) -> None:
    """Create an organisation administrator (and the organisation, on a new installation)."""
    from involve import audit
    from involve.people.models import Organisation, Person, Role, RoleGrant, User

    email = email.strip().lower()
    if db.session.scalar(select(User).where(User.email == email)):
        raise click.ClickException("An account with that email address already exists.")
    if len(password) < 8:
        raise click.ClickException("Choose a password of at least 8 characters.")
    org = db.session.scalar(select(Organisation).order_by(Organisation.id))
    if org is None:
        org = Organisation(name=organisation or "My organisation")
        db.session.add(org)
        db.session.flush()
    person = Person(organisation_id=org.id, full_name=name)
    user = User(person=person, email=email)
    user.set_password(password)
    db.session.add_all([person, user, RoleGrant(person=person, role=Role.admin,
                                                service_id=None, starts_on=clock.today())])
    db.session.flush()
    audit.record("admin.created", subject=person)
    db.session.commit()
    click.echo(f"Administrator {name} <{email}> created for {org.name}.")


@click.command("backup")
@click.argument("destination", required=False, type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup(destination: Path | None) -> None:
    """Copy the SQLite database consistently (online backup API); explain pg_dump otherwise."""
    engine = db.engine
    if engine.dialect.name != "sqlite":
        click.echo("This installation uses PostgreSQL. Back it up with pg_dump, for example:\n"
                   "  pg_dump --format=custom --file involve-$(date +%F).dump \"$DATABASE_URL\"\n"
                   "and restore with pg_restore. Keep backups encrypted and off the server.")
        return
    source_path = engine.url.database
    if not source_path or source_path == ":memory:":
        raise click.ClickException("This database is in memory; there is nothing to back up.")
    if destination is None:
        folder = Path(current_app.instance_path) / "backups"
        folder.mkdir(parents=True, exist_ok=True)
        destination = folder / f"involve-{clock.today().isoformat()}.sqlite3"
    source = sqlite3.connect(source_path)
    target = sqlite3.connect(destination)
    try:
        with target:
            source.backup(target)
    finally:
        target.close()
        source.close()
    click.echo(f"Backed up to {destination}")


@click.command("worker")
@click.option("--workers", default=2, show_default=True)
@with_appcontext
def worker(workers: int) -> None:
    """Run the background worker (newsletter delivery, reminders, retention)."""
    from huey.consumer import Consumer

    from involve import logs
    from involve.extensions import huey

    logs.configure()  # JSON lines on stdout, like the web processes under gunicorn

    if huey.immediate:
        raise click.ClickException("HUEY_BACKEND is 'immediate': tasks run in the web process.")
    domains.parts("tasks")  # each domain's tasks module declares its tasks with the queue
    from involve.extensions import stop_when
    from involve.newsletters.tasks import recover_sends

    # SIGTERM (what systemd and Docker send) is a graceful stop: running tasks see the stop
    # flag, finish the message in hand, record it and hand the rest back to the queue.
    consumer = Consumer(huey, workers=workers, worker_type="thread", periodic=True,
                        graceful_signal="TERM", shutdown_timeout=10)
    stop_when(consumer.stop_flag)
    # A worker that died may have left sends claimed: look once its claims have expired.
    recover_sends.schedule(delay=current_app.config["NEWSLETTER_CLAIM_LEASE_SECONDS"] + 1)
    consumer.run()
