"""`flask insights …`: roll up and prune events, send the weekly digest. Both are made
for cron; rollup never counts a day twice."""

from datetime import datetime

import click
from flask.cli import AppGroup

from core.timeutil import to_naive_utc, utcnow

insights_cli = AppGroup("insights", help="Events, daily aggregates and the weekly digest.")


def _now(value: str | None) -> datetime:
    if not value:
        return utcnow()
    try:
        return to_naive_utc(datetime.fromisoformat(value))
    except ValueError as exc:
        raise click.BadParameter(f"not an ISO-8601 time: {value}") from exc


NOW_OPTION = click.option("--now", "now_text", help="Act as if it were this time (ISO-8601).")


@insights_cli.command("rollup")
@NOW_OPTION
@click.option("--no-prune", is_flag=True, help="Keep raw events past the retention period.")
@click.option(
    "--assists",
    is_flag=True,
    help="First count assisted conversions, search entrances, exits and time on page again for "
    "rolled-up days whose raw events are kept "
    "(once, after upgrading from a version that did not aggregate them).",
)
@click.option(
    "--recount",
    is_flag=True,
    help="First drop the aggregates of rolled-up days whose raw events are all kept, so they are "
    "counted again by the site's days (after upgrading from UTC days, or a change of TIMEZONE).",
)
def rollup_command(now_text, no_prune, assists, recount):
    """Aggregate finished days, then delete raw events older than INSIGHTS_RETENTION_DAYS."""
    from insights import rollups

    now = _now(now_text)
    if recount:
        click.echo(f"rolled-up days to count again: {rollups.forget_kept_days()}")
    if assists:
        click.echo(
            f"days with assisted conversions and visit figures counted again: {rollups.backfill_assists()}"
        )
    days = rollups.rollup(now=now)
    pruned = 0 if no_prune else rollups.prune(now=now)
    click.echo(f"days rolled up: {days}, raw events pruned: {pruned}")


@insights_cli.command("digest")
@NOW_OPTION
@click.option("--force", is_flag=True, help="Send it again to those who had it this week.")
def digest_command(now_text, force):
    """Queue the weekly digest to every marketer and admin (run it weekly, e.g. Monday);
    once per address and week unless --force."""
    from sqlalchemy.exc import IntegrityError

    from insights.digest import send_digest

    try:
        queued, skipped = send_digest(now=_now(now_text), force=force)
    except IntegrityError as exc:
        raise click.ClickException(
            "another digest run is sending this week's digest; nothing queued"
        ) from exc
    click.echo(f"digests queued: {queued}, already sent this week: {skipped}")
