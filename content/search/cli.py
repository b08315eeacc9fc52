"""`flask search …`: rebuild the index, show its state."""

import json

import click
from flask.cli import AppGroup

from content.search.upkeep import embed_all, index_status, published_count, reindex
from core.timeutil import utcnow

search_cli = AppGroup("search", help="The full-text search index.")


@search_cli.command("reindex")
@click.option(
    "--vectors/--no-vectors",
    default=True,
    help="Also recompute every article's vectors (search by meaning); the worker otherwise.",
)
def reindex_command(vectors):
    """Rebuild the index from the database (in a new folder, swapped in when complete),
    then the articles' vectors."""
    now = utcnow()
    total = published_count()
    with click.progressbar(length=total, label="Indexing articles", show_pos=True) as bar:
        count = reindex(now=now, progress=bar.update)
    click.secho(f"Indexed {count} articles.", fg="green")
    if vectors:
        with click.progressbar(length=total, label="Embedding articles", show_pos=True) as bar:
            embedded = embed_all(now=now, progress=bar.update)
        click.secho(f"Embedded {embedded} articles.", fg="green")


@search_cli.command("status")
def status_command():
    """Documents in the index and how far behind the database it is."""
    click.echo(json.dumps(index_status(now=utcnow()), ensure_ascii=False, indent=2))
