"""`flask recruitment ...` commands."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from involve.extensions import db

recruitment = AppGroup("recruitment", help="Interview panels and candidates.")


@recruitment.command("purge")
@click.option("--days", type=int, default=None,
              help="Retention in days after a vacancy closes (default: RECRUITMENT_RETENTION_DAYS, "
                   "180).")
def purge(days: int | None) -> None:
    """Delete candidates' personal data once the retention time after closing has passed."""
    from involve.recruitment.services import purge_expired_candidates, retention_days

    cleared = purge_expired_candidates(days=days)
    db.session.commit()
    click.echo(f"Deleted the personal data of {cleared} candidate(s) "
               f"(kept for {days if days is not None else retention_days()} days after closing).")


COMMANDS = [recruitment]
