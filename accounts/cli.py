"""`flask users …`: staff users from the command line."""

import click
from flask.cli import AppGroup

from accounts import services
from accounts.models import ROLES

users_cli = AppGroup("users", help="Staff users.")


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--name", default="")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Prompted for when not given.",
)
def create(email, role, name, password):
    """Create a staff user with a role."""
    try:
        user = services.create_user(email, role=role, password=password, name=name)
    except services.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"created {user.email} ({user.role})")


@users_cli.command("set-password")
@click.argument("email")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def set_password(email, password):
    """Set a staff user's password."""
    try:
        services.set_password(email, password)
    except services.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"password set for {email}")
