"""``flask organisations ...``: organisations on an installation that serves several."""

from __future__ import annotations

import click
from flask import current_app, url_for
from flask.cli import AppGroup

from involve import mail
from involve.extensions import db

organisations_cli = AppGroup("organisations", help="Organisations on this installation.")


@organisations_cli.command("create")
@click.argument("name")
@click.option("--admin-email", required=True, help="The first administrator's email address.")
@click.option("--admin-name", default="Administrator", show_default=True,
              help="Their name (they can change it later).")
@click.option("--service", "service_name", default="",
              help="Also add its first care home, with this name.")
def create(name: str, admin_email: str, admin_name: str, service_name: str) -> None:
    """Make a new organisation and invite its first administrator by email.

    The invitation link is printed too, for installations that send no mail.
    """
    from involve.auth.services import invitation_token
    from involve.people.services import PeopleError, create_organisation

    try:
        org, invitation, code = create_organisation(
            name, admin_email=admin_email, admin_name=admin_name, service_name=service_name)
    except PeopleError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    days = current_app.config["INVITATION_MAX_AGE_DAYS"]
    # No request on the command line: links are made at the installation's public address.
    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        link = url_for("auth.accept_link", token=invitation_token(invitation, code),
                       _external=True)
        message = mail.render_message(
            "people/mail/invitation", to=invitation.user.email,
            subject="You are invited to Involve", person=invitation.user.person,
            inviter={"full_name": f"The team setting up Involve for {org.name}"}, link=link,
            days=days)
    db.session.commit()
    click.echo(f"Organisation {org.name} created (number {org.id}).")
    try:
        mail.send(message)
    except Exception as error:  # the invitation stands: the operator passes the link on
        click.echo(f"The invitation email to {invitation.user.email} could not be sent "
                   f"({error}).")
    else:
        click.echo(f"An invitation is emailed to {invitation.user.email}.")
    click.echo(f"Invitation link (works for {days} days), to pass on if the email does not "
               f"arrive:\n  {link}")


COMMANDS = [organisations_cli]
