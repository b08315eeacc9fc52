"""`flask leads …`: import, export, erase, anonymise, purge, deliver-webhooks."""

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from core.signals import send_staff_action
from core.timeutil import utcnow
from gated import privacy, webhooks
from gated.listing import LeadFilters, export_rows, import_leads, to_csv, to_json, view_by_slug


@click.group("leads")
def leads_cli():
    """Leads: import, export, erase, retention."""


@leads_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--sequence", default=None, help="Enrol the leads into this nurture sequence (slug).")
@click.option("--source", default="", help="Source recorded on new leads (default: import).")
@with_appcontext
def import_command(file, sequence, source):
    """Upsert leads from a CSV file (columns: email, name, company, job_title, phone, role,
    stage, source, consent). Any bad row and nothing is imported."""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise click.ClickException(f"{file}: not UTF-8 text") from None
    result = import_leads(text, source=source, sequence=sequence, now=utcnow())
    if result.errors:
        for line, message in result.errors:
            click.echo(f"{file}:{line}: {message}", err=True)
        click.echo(f"{len(result.errors)} errors; nothing imported.", err=True)
        sys.exit(1)
    send_staff_action(
        "leads.import", user=None, details={"created": result.created, "updated": result.updated}
    )
    click.echo(f"created: {result.created}  updated: {result.updated}")
    if sequence and result.without_consent:
        click.echo(
            f"{result.without_consent} leads have no marketing consent and will not be enrolled in {sequence}."
        )


@leads_cli.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path), default=None, help="File (default: stdout)."
)
@click.option("--segment", default=None, help="Only the members of this segment (slug), as they are now.")
@with_appcontext
def export_command(fmt, output, segment):
    """Every lead (or a segment's members) with every field, attribution included."""
    filters = LeadFilters()
    if segment is not None:
        filters.segment = view_by_slug(segment)
        if filters.segment is None:
            raise click.ClickException(f"no segment with the slug {segment!r}")
    rows = export_rows(filters)
    details = {"count": len(rows), "format": fmt, **({"segment": segment} if segment else {})}
    send_staff_action("leads.export", user=None, details=details)
    text = to_csv(rows) if fmt == "csv" else to_json(rows)
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(f"{len(rows)} leads written to {output}", err=True)
    else:
        click.echo(text, nl=False)


@leads_cli.command("erase")
@click.argument("email")
@with_appcontext
def erase_command(email):
    """Erase a person everywhere (nurture keeps a suppression hash)."""
    if not privacy.erase_lead(email):
        raise click.ClickException(f"no lead with the address {email}")
    send_staff_action("leads.erase", user=None, details={"count": 1})
    click.echo(f"erased {email}")


@leads_cli.command("anonymise")
@click.argument("email")
@with_appcontext
def anonymise_command(email):
    """Keep a lead's counts, drop the person."""
    lead = privacy.find_lead(email)
    if lead is None:
        raise click.ClickException(f"no lead with the address {email}")
    privacy.anonymise_lead(lead.id, now=utcnow())
    send_staff_action("leads.erase", user=None, target=f"lead:{lead.id}", details={"anonymised": True})
    click.echo(f"anonymised lead {lead.id}")


@leads_cli.command("purge")
@with_appcontext
def purge_command():
    """Drop IP and user agent of submissions older than SUBMISSION_RETENTION_DAYS."""
    counts = privacy.purge_submission_details(now=utcnow())
    click.echo("purged: " + "  ".join(f"{k}: {v}" for k, v in counts.items()))


@leads_cli.command("deliver-webhooks")
@with_appcontext
def deliver_webhooks_command():
    """Send the hand-off webhook events that are due (run from cron or the worker)."""
    counts = webhooks.deliver_due_webhooks(utcnow())
    click.echo("  ".join(f"{k}: {v}" for k, v in counts.items()))
