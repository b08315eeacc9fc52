"""`flask users …`: staff users from the command line."""

import click
from flask.cli import AppGroup

from accounts import services
from accounts.models import ROLES

users_cli = AppGroup("users", help="Staff users.")


def _run(change, *args):
    """A service's answer, or its AccountError as the command's error message."""
    try:
        return change(*args)
    except services.AccountError as exc:
        raise click.ClickException(str(exc)) from exc


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
    user = _run(lambda: services.create_user(email, role=role, password=password, name=name))
    click.echo(f"created {user.email} ({user.role})")


@users_cli.command("set-password")
@click.argument("email")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def set_password(email, password):
    """Set a staff user's password (their sessions end)."""
    _run(services.set_password, email, password)
    click.echo(f"password set for {email}; their sessions have ended")


@users_cli.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice(ROLES))
def set_role(email, role):
    """Give a staff user another role (their sessions end)."""
    _run(services.set_role, email, role)
    click.echo(f"{email} is now {role}; their sessions have ended")


@users_cli.command("deactivate")
@click.argument("email")
def deactivate(email):
    """Stop a staff user from signing in (their sessions end)."""
    _run(services.set_active, email, False)
    click.echo(f"{email} is deactivated; their sessions have ended")


@users_cli.command("activate")
@click.argument("email")
def activate(email):
    """Let a deactivated staff user sign in again."""
    _run(services.set_active, email, True)
    click.echo(f"{email} may sign in again")


@users_cli.command("sign-out")
@click.argument("email")
def sign_out(email):
    """End every session of a staff user (a lost laptop, a shared computer)."""
    services.end_sessions(_run(services.find_existing, email))
    click.echo(f"every session of {email} has ended")
