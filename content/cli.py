"""`flask content import PATH… [--dry-run]`, `flask content export DIR` and
`flask content review-mail [--now]`."""

from pathlib import Path

import click
from flask.cli import AppGroup
from flask_babel import force_locale

from content import transfer
from core.signals import send_staff_action
from core.timeutil import utcnow

content_cli = AppGroup("content", help="Import and export articles as Markdown files.")


@content_cli.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the files and say what would happen; write nothing.")
def import_command(paths, dry_run):
    """Upsert Markdown files (or folders of them) by slug. Exit status 1 if any file failed."""
    # Command output is English whatever the site's default language.
    with force_locale("en"):
        report = transfer.import_paths(list(paths), now=utcnow(), dry_run=dry_run)
        for result in report.results:
            for line in result.lines():
                click.secho(
                    line, fg="red" if result.outcome == "error" else None, err=result.outcome == "error"
                )
        prefix = "dry run: " if dry_run else ""
        click.secho(prefix + report.summary(), bold=True, fg="green" if report.ok else "red")
    if not dry_run:
        counts = report.counts
        send_staff_action(
            "content.import",
            user=None,
            details={
                "imported": counts["imported"],
                "updated": counts["updated"],
                "unchanged": counts["unchanged"],
                "errors": counts["error"],
                "ok": report.ok,
            },
        )
    if not report.ok:
        raise SystemExit(1)


@content_cli.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def export_command(directory):
    """Write every article as Markdown with front matter (gated files under files/)."""
    with force_locale("en"):
        written = transfer.export_all(directory)
        for path, warning in written:
            if warning:
                click.secho(f"warning   {path}: {warning}", fg="yellow", err=True)
        click.secho(f"{len(written)} articles written to {directory}", bold=True, fg="green")


@content_cli.command("review-mail")
@click.option("--now", "now_text", help="Act as if it were this time (ISO-8601).")
def review_mail_command(now_text):
    """Queue this week's review reminders (the worker does it on its first pass of the
    week); once per week whoever runs it."""
    from datetime import datetime

    from content.review_mail import send_review_mail
    from core.timeutil import to_naive_utc

    try:
        now = to_naive_utc(datetime.fromisoformat(now_text)) if now_text else utcnow()
    except ValueError as exc:
        raise click.BadParameter(f"not an ISO-8601 time: {now_text}") from exc
    queued, ran = send_review_mail(now=now)
    if ran:
        click.echo(f"review reminders queued: {queued}")
    else:
        click.echo("this week's review reminders were already sent")
