"""`flask assistant …`: retention purge and customer login links."""

import click
from flask.cli import with_appcontext

from assistant import services, tiers
from assistant.models import CustomerAccount
from core.extensions import db
from core.timeutil import to_naive_utc, utcnow
from core.urls import absolute_url_for


@click.group("assistant")
def assistant_cli():
    """The help assistant: retention, customer links."""


@assistant_cli.command("purge")
@click.option("--days", type=int, default=None, help="Override ASSISTANT_RETENTION_DAYS.")
@click.option("--now", type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]), default=None)
@with_appcontext
def purge_command(days, now):
    """Delete conversations untouched for longer than the retention period (those with an
    open ticket are kept)."""
    count = services.purge(now=to_naive_utc(now) if now else utcnow(), days=days)
    click.echo(f"{count} conversations purged")


@assistant_cli.command("link")
@click.argument("account_id", type=int)
@with_appcontext
def link_command(account_id):
    """Print a customer account's signed login link for the assistant."""
    if db.session.get(CustomerAccount, account_id) is None:
        raise click.ClickException(f"no account {account_id}")
    click.echo(absolute_url_for("assistant.ask", account=tiers.account_link_token(account_id)))
