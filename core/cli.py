"""Core commands: `flask demo load` (the packages' demo loaders in order) and
`flask serve` (the development server with its background services)."""

import errno
import signal
import socket

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from werkzeug.serving import make_server

from core.config import DEFAULT_HOST, DEFAULT_PORT, follow_server, site_url_for_server
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


def bind_error(host: str, port: int) -> OSError | None:
    """Why host:port cannot be listened on now, or None. Binds as the servers will
    (SO_REUSEADDR, like Werkzeug's and aiosmtpd's, so a port in TIME_WAIT is free) and
    lets go at once."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        with socket.create_server((host, port), family=family):
            return None
    except OSError as exc:
        return exc


def check_ports(app, host: str, port: int) -> None:
    """Refuse to start, before anything is started or announced, while the site's port or
    a development service's port (the SMTP sink's) is taken."""
    wanted = [
        (f"Port {port} on {host}", host, port, f"make run PORT={port + 1}, or flask serve --port {port + 1}")
    ]
    for name, listens_on in hooks(app).dev_addresses.items():
        address = listens_on(app)
        if address:
            other_host, other_port, setting = address
            wanted.append(
                (
                    f"The {name}'s port {other_port} on {other_host}",
                    other_host,
                    other_port,
                    f"{setting}={other_port + 1}",
                )
            )
    for what, where, number, instead in wanted:
        error = bind_error(where, number)
        if error is None:
            continue
        if error.errno == errno.EADDRINUSE:
            raise click.ClickException(
                f"{what} is in use (is Lodestar running already?). Stop what uses it, "
                f"or choose another port: {instead}."
            )
        raise click.ClickException(f"{what} cannot be listened on: {error.strerror or error}.")


@click.command("serve")
@click.option("--host", default=DEFAULT_HOST, show_default=True, envvar="FLASK_RUN_HOST")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=int, envvar="FLASK_RUN_PORT")
@click.option("--check", is_flag=True, help="Only check that the ports are free (make run does, first).")
@with_appcontext
def serve(host, port, check):
    """Serve the site for development, with the local SMTP sink and the nurture worker.

    Exits with status 1, having started nothing, while the site's or the sink's port is
    taken. Without a SITE_URL of its own, the site's links point at this server."""
    app = current_app._get_current_object()
    check_ports(app, host, port)
    if check:
        return
    follow_server(app, host, port)
    # Not app.run(): under the flask command it returns at once (FLASK_RUN_FROM_CLI).
    # make_server binds the port here, so nothing is announced for a port lost since the check.
    server = make_server(host, port, app, threaded=True)
    stops = []
    for name, start in hooks(app).dev_services:
        stop = start(app)
        if stop:
            stops.append(stop)
            click.echo(f"started {name}")

    def handle_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handle_term)
    click.secho(f"Lodestar on {site_url_for_server(host, port)}/ (admin: /admin/)", fg="green")
    try:
        server.serve_forever()  # returns on KeyboardInterrupt (Ctrl-C, SIGTERM above)
    finally:
        for stop in reversed(stops):
            stop()
