"""`flask segments import|export`: segments as YAML files, upserted by slug."""

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from campaigns import segments
from core.timeutil import utcnow

segments_cli = AppGroup("segments", help="Segments: saved audiences of leads.")


@segments_cli.command("import")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
def import_command(files):
    """Upsert segments from YAML files (see docs/CAMPAIGNS.md). Exit 1 on any error;
    a file with an error saves nothing."""
    failed = False
    for path in files:
        try:
            segment, outcome = segments.import_segment(path.read_text(encoding="utf-8"), now=utcnow())
        except segments.SegmentError as exc:
            failed = True
            for line in exc.lines():
                click.secho(f"{path}: {line}", fg="red", err=True)
            continue
        click.echo(f"{path}: {segment.slug} {outcome}")
    sys.exit(1 if failed else 0)


@segments_cli.command("export")
@click.argument("slug")
def export_command(slug):
    """Print a segment as YAML (import takes it back unchanged)."""
    try:
        click.echo(segments.export_segment(slug), nl=False)
    except LookupError as exc:
        raise click.ClickException(f"no segment {slug!r}") from exc
