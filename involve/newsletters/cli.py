"""`flask newsletters ...` commands."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import or_, select

from involve.extensions import db

newsletters_cli = AppGroup("newsletters", help="Newsletters: bounce reports.")


@newsletters_cli.command("bounce-webhook-url")
@click.argument("organisation")
def bounce_webhook_url(organisation: str) -> None:
    """Print the address a mail provider posts ORGANISATION's hard bounces to (its name or
    id). Keep it secret: whoever holds it can stop that organisation's emails to any address
    the organisation has."""
    from involve.newsletters.bounces import webhook_token
    from involve.people.models import Organisation

    named = Organisation.name == organisation
    found = db.session.scalar(select(Organisation).where(
        or_(named, Organisation.id == int(organisation)) if organisation.isdigit() else named))
    if found is None:
        raise click.ClickException(f"There is no organisation called {organisation!r}.")
    base = current_app.config["BASE_URL"].rstrip("/")
    click.echo(f"{base}/newsletters/bounces/webhook/{webhook_token(found.id)}")


COMMANDS = [newsletters_cli]
