"""`flask api-keys create|list|revoke`: API keys from the command line. The secret is
printed once, at creation; only its hash is stored."""

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from api import keys
from api.models import SCOPES, ApiKey
from core.extensions import db
from core.localtime import iso_local
from core.timeutil import utcnow

api_keys_cli = AppGroup("api-keys", help="API keys for /api/v1.")


@api_keys_cli.command("create")
@click.argument("name")
@click.option("--scopes", required=True, help=f"Comma-separated, of: {', '.join(SCOPES)}.")
@click.option("--expires", default="", help="Lifetime such as 90d or 12h (default: never).")
def create(name: str, scopes: str, expires: str):
    """Create a key and print its secret (shown this once)."""
    try:
        key, token = keys.create_key(
            name, keys.parse_scopes(scopes), now=utcnow(), expires_in=keys.parse_expiry(expires)
        )
    except keys.KeyRefused as exc:
        click.secho(str(exc), fg="red", err=True)
        sys.exit(1)
    click.echo(
        f"{key.prefix} {key.name} scopes={','.join(key.scopes)} expires={iso_local(key.expires_at) or 'never'}"
    )
    click.echo("The secret is shown once; store it now:")
    click.echo(token)


@api_keys_cli.command("list")
def list_keys():
    """Every key: prefix, name, scopes, state, last use."""
    now = utcnow()
    for key in db.session.scalars(select(ApiKey).order_by(ApiKey.id)):
        state = "active" if key.is_active(now) else ("revoked" if key.revoked_at else "expired")
        used = iso_local(key.last_used_at) or "never"
        click.echo(f"{key.prefix}\t{key.name}\t{','.join(key.scopes)}\t{state}\tlast used {used}")


@api_keys_cli.command("revoke")
@click.argument("key")
def revoke(key: str):
    """Revoke a key (by prefix lsk_… or number) at once."""
    found = keys.find_key(key)
    if found is None:
        click.secho(f"no key {key}", fg="red", err=True)
        sys.exit(1)
    changed = keys.revoke_key(found, now=utcnow())
    click.echo(f"{found.prefix} {'revoked' if changed else 'was revoked already'}")
