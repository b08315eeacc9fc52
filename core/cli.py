"""Core commands: `flask demo load` (the packages' demo loaders in order) and
`flask serve` (the development server with its background services)."""

import signal
import threading

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from werkzeug.serving import run_simple

from core.hooks import hooks

demo_cli = AppGroup("demo", help="Demo content, assets, sequences and an admin user.")


@demo_cli.command("load")
@with_appcontext
def demo_load():
    """Load the demo data of every package. Safe to run again: nothing is duplicated."""
    for _order, name, loader in hooks(current_app).demo_loaders:
        click.secho(f"· {name}", bold=True)
        loader(click.echo)
    click.secho("Demo loaded.", fg="green")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def serve(host, port):
    """Serve the site for development, with the local SMTP sink and the nurture worker."""
    app = current_app._get_current_object()
    stops = []
    for name, start in hooks(app).dev_services:
        stop = start(app)
        if stop:
            stops.append(stop)
            click.echo(f"started {name}")
    stop_event = threading.Event()

    def handle_term(signum, frame):
        stop_event.set()
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handle_term)
    click.secho(f"Lodestar on http://{host}:{port}/ (admin: /admin/)", fg="green")
    try:
        # Not app.run(): under the flask command it returns at once (FLASK_RUN_FROM_CLI).
        run_simple(host, port, app, threaded=True, use_reloader=False)
    except KeyboardInterrupt:
        pass
    finally:
        for stop in reversed(stops):
            stop()
