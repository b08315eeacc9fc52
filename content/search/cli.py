"""`flask search …`: rebuild the index, show its state."""

import json

import click
from flask.cli import AppGroup

from content.search import services
from core.timeutil import utcnow

search_cli = AppGroup("search", help="The full-text search index.")


@search_cli.command("reindex")
def reindex_command():
    """Rebuild the index from the database (in a new folder, swapped in when complete)."""
    now = utcnow()
    total = services.published_count()
    with click.progressbar(length=total, label="Indexing articles", show_pos=True) as bar:
        count = services.reindex(now=now, progress=bar.update)
    click.secho(f"Indexed {count} articles.", fg="green")


@search_cli.command("status")
def status_command():
    """Documents in the index and how far behind the database it is."""
    click.echo(json.dumps(services.index_status(now=utcnow()), ensure_ascii=False, indent=2))
