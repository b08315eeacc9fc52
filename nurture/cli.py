"""`flask nurture …`: import and export sequences, one delivery pass, the worker, and
the unsubscribe mailbox (a small SMTP server, or one mail piped from an MTA)."""

import sys
import threading
from datetime import datetime
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from core.extensions import db
from core.memory import freeze_startup_objects
from core.timeutil import to_naive_utc, utcnow
from nurture import sequences, validation, worker
from nurture.compose import unsubscribe_url
from nurture.models import Message

nurture_cli = AppGroup("nurture", help="Nurture sequences and mail delivery.")


@nurture_cli.command("import")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
def import_command(files):
    """Upsert sequences from YAML files (see docs/NURTURE.md). Exit 1 on any error."""
    failed = False
    for path in files:
        try:
            sequence, outcome = sequences.import_sequence(path.read_text(encoding="utf-8"), now=utcnow())
        except validation.SequenceError as exc:
            failed = True
            for error in exc.errors:
                click.secho(f"{path}: {error}", fg="red", err=True)
            continue
        click.echo(f"{path}: {sequence.slug} {outcome} ({len(sequence.steps)} steps, {sequence.status})")
    sys.exit(1 if failed else 0)


@nurture_cli.command("export")
@click.argument("slug")
def export_command(slug):
    """Print a sequence as YAML (import takes it back unchanged)."""
    try:
        click.echo(sequences.export_sequence(slug), nl=False)
    except LookupError as exc:
        raise click.ClickException(str(exc)) from exc


@nurture_cli.command("preference-link")
@click.argument("address", required=False)
def preference_link_command(address):
    """Print the preference center's link of the newest mail to ADDRESS (for a person who
    asks support how to change what they receive); without ADDRESS, of the newest mail."""
    query = select(Message.id).order_by(Message.created_at.desc(), Message.id.desc()).limit(1)
    if address:
        query = query.where(func.lower(Message.to_address) == address.strip().lower())
    message_id = db.session.scalar(query)
    if message_id is None:
        raise click.ClickException(f"no mail to {address}" if address else "no mail yet")
    click.echo(unsubscribe_url(message_id))


def _parse_now(value: str | None) -> datetime:
    if not value:
        return utcnow()
    try:
        return to_naive_utc(datetime.fromisoformat(value))
    except ValueError as exc:
        raise click.BadParameter(
            f"{value!r} is not an ISO-8601 time, e.g. 2026-12-01T09:30:00+08:00"
        ) from exc


def _print_counts(counts) -> None:
    shown = ", ".join(f"{key} {value}" for key, value in sorted(counts.items()) if value) or "nothing due"
    click.echo(shown)


@nurture_cli.command("tick")
@click.option("--now", "now_text", help="Deliver what is due at this ISO-8601 time (default: now).")
@click.option("--batch-size", type=int, default=None)
@click.option("--name", default=None, help="The worker name in heartbeats.")
def tick_command(now_text, batch_size, name):
    """One pass: queue due steps and deliver everything due; prints counts."""
    now = _parse_now(now_text)
    stop = threading.Event()
    worker.stop_on_signals(stop)
    freeze_startup_objects()
    _print_counts(worker.tick(now, batch_size=batch_size, worker_name=name, stop=stop))


@nurture_cli.command("worker")
@click.option("--interval", type=float, default=None, help="Seconds between passes.")
@click.option("--name", default=None, help="The worker name in heartbeats.")
def worker_command(interval, name):
    """Deliver forever; SIGTERM finishes the message in flight and stops."""
    from flask import current_app

    stop = threading.Event()
    worker.stop_on_signals(stop)
    interval = interval if interval is not None else current_app.config["NURTURE_WORKER_INTERVAL"]
    click.echo(f"nurture worker {name or worker.default_name()}: every {interval}s (SIGTERM stops)")
    freeze_startup_objects()

    def report(counts):
        if any(counts.values()):
            _print_counts(counts)

    worker.run(interval=interval, stop=stop, worker_name=name, on_tick=report)
    click.echo("worker stopped")


@nurture_cli.command("inbound-mail")
@click.option("--recipient", "recipients", multiple=True, help="The envelope recipient (repeatable).")
def inbound_mail_command(recipients):
    """Handle one mail to the unsubscribe address, read on stdin (an MTA's pipe).

    Exit 0 even for a forged address (it is logged): a pipe that fails makes the MTA
    bounce the mail to a sender who may never have sent it."""
    from nurture import inbound

    for outcome in inbound.handle_mail(sys.stdin.buffer.read(), envelope=recipients):
        click.echo(f"{outcome.address}: {outcome.status}")


@nurture_cli.command("inbound")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=2525, show_default=True)
def inbound_command(host, port):
    """An SMTP server for the unsubscribe mailbox (MAIL_UNSUBSCRIBE_MAILTO); SIGTERM stops."""
    from flask import current_app

    from nurture import inbound

    stop = threading.Event()
    worker.stop_on_signals(stop)
    controller = inbound.serve(current_app._get_current_object(), host=host, port=port)
    click.echo(f"unsubscribe mail for {inbound.mailbox()} on {host}:{port} (SIGTERM stops)")
    try:
        stop.wait()
    finally:
        controller.stop()
    click.echo("inbound stopped")
