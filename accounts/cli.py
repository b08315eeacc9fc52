"""`flask users …`: staff users from the command line."""

import click
from flask.cli import AppGroup

from accounts import services
from accounts.models import ROLES
from core.signals import send_staff_action

users_cli = AppGroup("users", help="Staff users.")


def _run(change, *args):
    """A service's answer, or its AccountError as the command's error message."""
    try:
        return change(*args)
    except services.AccountError as exc:
        raise click.ClickException(str(exc)) from exc


def _audited(action: str, user, **details) -> None:
    """A change to a staff user, made at the command line (no signed-in actor)."""
    send_staff_action(action, user=None, target=f"user:{user.id}", details={"email": user.email, **details})


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
    _audited("accounts.user_create", user, role=role)
    click.echo(f"created {user.email} ({user.role})")


@users_cli.command("set-password")
@click.argument("email")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def set_password(email, password):
    """Set a staff user's password (their sessions end)."""
    _audited("accounts.user_change", _run(services.set_password, email, password), change="password")
    click.echo(f"password set for {email}; their sessions have ended")


@users_cli.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice(ROLES))
def set_role(email, role):
    """Give a staff user another role (their sessions end)."""
    _audited("accounts.user_change", _run(services.set_role, email, role), role=role)
    click.echo(f"{email} is now {role}; their sessions have ended")


@users_cli.command("deactivate")
@click.argument("email")
def deactivate(email):
    """Stop a staff user from signing in (their sessions end)."""
    _audited("accounts.user_change", _run(services.set_active, email, False), active=False)
    click.echo(f"{email} is deactivated; their sessions have ended")


@users_cli.command("activate")
@click.argument("email")
def activate(email):
    """Let a deactivated staff user sign in again."""
    _audited("accounts.user_change", _run(services.set_active, email, True), active=True)
    click.echo(f"{email} may sign in again")


@users_cli.command("sign-out")
@click.argument("email")
def sign_out(email):
    """End every session of a staff user (a lost laptop, a shared computer)."""
    user = _run(services.find_existing, email)
    services.end_sessions(user)
    _audited("accounts.user_change", user, change="signed_out")
    click.echo(f"every session of {email} has ended")
