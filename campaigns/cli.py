"""`flask segments import|export` and `flask campaigns import|export|send|cancel`:
segments and campaigns as YAML files, upserted by slug; starting and stopping a send."""

import sys
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from campaigns import segments, sending, services
from campaigns.models import Campaign
from campaigns.validation import CampaignError
from core.extensions import db
from core.signals import send_staff_action
from core.timeutil import utcnow

segments_cli = AppGroup("segments", help="Segments: saved audiences of leads.")
campaigns_cli = AppGroup("campaigns", help="Campaigns: one-off mailings to segments.")
FILES = click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)


def _import_files(files, load, problems, describe) -> None:
    """Each file through `load(text, now=)`; a file with an error saves nothing, the
    others still go, and the command exits 1 if any failed."""
    failed = False
    for path in files:
        try:
            saved, outcome = load(path.read_text(encoding="utf-8"), now=utcnow())
        except (segments.SegmentError, CampaignError) as exc:
            failed = True
            for line in problems(exc):
                click.secho(f"{path}: {line}", fg="red", err=True)
            continue
        click.echo(f"{path}: {saved.slug} {outcome}{describe(saved)}")
    sys.exit(1 if failed else 0)


@segments_cli.command("import")
@FILES
def import_command(files):
    """Upsert segments from YAML files (see docs/CAMPAIGNS.md). Exit 1 on any error;
    a file with an error saves nothing."""
    _import_files(files, segments.import_segment, lambda exc: exc.lines(), lambda _segment: "")


@segments_cli.command("export")
@click.argument("slug")
def export_command(slug):
    """Print a segment as YAML (import takes it back unchanged)."""
    try:
        click.echo(segments.export_segment(slug), nl=False)
    except LookupError as exc:
        raise click.ClickException(f"no segment {slug!r}") from exc
    send_staff_action("segments.export", user=None, target=f"segment:{slug}")


def _status(campaign: Campaign) -> str:
    when = f", sends at {campaign.send_at:%Y-%m-%d %H:%M} UTC" if campaign.send_at else ""
    return f" ({campaign.status}{when})"


@campaigns_cli.command("import")
@FILES
def import_campaigns(files):
    """Upsert campaigns from YAML files (see docs/CAMPAIGNS.md). Exit 1 on any error;
    a file with an error saves nothing."""
    _import_files(files, services.import_campaign, lambda exc: exc.errors, _status)


@campaigns_cli.command("export")
@click.argument("slug")
def export_campaign(slug):
    """Print a campaign as YAML (import takes it back)."""
    try:
        click.echo(services.export_campaign(slug), nl=False)
    except LookupError as exc:
        raise click.ClickException(f"no campaign {slug!r}") from exc
    send_staff_action("campaigns.export", user=None, target=f"campaign:{slug}")


def _campaign(slug: str) -> Campaign:
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == slug))
    if campaign is None:
        raise click.ClickException(f"no campaign {slug!r}")
    return campaign


@campaigns_cli.command("send")
@click.argument("slug")
def send_campaign(slug):
    """Start a draft or scheduled campaign now: its recipients are fixed and their mail
    queued for the nurture worker."""
    campaign = _campaign(slug)
    try:
        count = sending.start(campaign.id, now=utcnow())
    except sending.NotStartable as exc:
        raise click.ClickException(f"{slug}: already started or cancelled") from exc
    send_staff_action(
        "campaigns.send", user=None, target=f"campaign:{campaign.id}", details={"recipients": count}
    )
    click.echo(f"{slug}: {count} recipients fixed; the nurture worker delivers their mail")


@campaigns_cli.command("cancel")
@click.argument("slug")
def cancel_campaign(slug):
    """Stop a campaign: what is not yet sent is not sent."""
    sent = services.cancel(_campaign(slug).id, now=utcnow())
    click.echo(f"{slug}: cancelled; {sent} mails had gone out")
