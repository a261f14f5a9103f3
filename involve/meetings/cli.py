"""`flask meetings ...` commands."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from involve.extensions import db

meetings_cli = AppGroup("meetings", help="Meetings: reminders.")


@meetings_cli.command("remind")
def remind() -> None:
    """Send the reminders now: minutes to write and overdue actions."""
    from involve.meetings import services

    chairs = services.remind_minutes()
    owners = services.remind_overdue_actions()
    db.session.commit()
    click.echo(f"Reminded {chairs} chair{'s' if chairs != 1 else ''} about minutes and "
               f"{owners} owner{'s' if owners != 1 else ''} about overdue actions.")


COMMANDS = [meetings_cli]
