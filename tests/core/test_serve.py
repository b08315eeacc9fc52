"""`flask serve` (what `make run` starts): on a taken port, the site's or the SMTP sink's,
it says so and exits non-zero before starting or announcing anything; in development
without a SITE_URL, the site's absolute URLs follow the port it serves on."""

import signal
import socket
import urllib.request

import pytest
from sqlalchemy import select

from app import create_app
from core.extensions import db
from nurture.models import WorkerHeartbeat
from tests.conftest import TEST_SECRET, free_port
from tests.nurture.conftest import flask, flask_env


@pytest.fixture
def taken_port():
    """A port some other program listens on."""
    with socket.create_server(("127.0.0.1", 0)) as other:
        yield other.getsockname()[1]


def test_serve_on_a_taken_port_says_so_and_starts_nothing(runner, taken_port):
    result = runner.invoke(args=["serve", "--port", str(taken_port)])
    assert result.exit_code == 1
    assert f"Port {taken_port} on 127.0.0.1 is in use" in result.output
    assert f"PORT={taken_port + 1}" in result.output
    assert "Lodestar on" not in result.output
    assert "started" not in result.output
    assert db.session.scalars(select(WorkerHeartbeat)).all() == []  # no worker came and went


def test_make_run_checks_the_ports_before_migrating_and_loading_the_demo(runner, taken_port):
    assert runner.invoke(args=["serve", "--check", "--port", str(free_port())]).exit_code == 0
    result = runner.invoke(args=["serve", "--check", "--port", str(taken_port)])
    assert result.exit_code == 1
    assert f"Port {taken_port} on 127.0.0.1 is in use" in result.output


def test_serve_with_the_smtp_sinks_port_taken_says_so(make_app, app, taken_port):
    application = make_app(DEV_SMTP_SINK=True, MAIL_PORT=taken_port)
    with application.app_context():  # the command runs in the current app's context
        result = application.test_cli_runner().invoke(args=["serve", "--port", str(free_port())])
    assert result.exit_code == 1
    assert f"The SMTP sink's port {taken_port} on 127.0.0.1 is in use" in result.output
    assert f"LODESTAR_MAIL_PORT={taken_port + 1}" in result.output
    assert "Lodestar on" not in result.output


def development_env(app, tmp_path, port, **extra):
    env = flask_env(app, tmp_path, port, LODESTAR_DEVELOPMENT="1", LODESTAR_DEV_SMTP_SINK="true", **extra)
    env.pop("LODESTAR_SITE_URL", None)
    return env


@pytest.mark.slow
def test_the_serve_process_on_a_taken_port_exits_non_zero(app, tmp_path, taken_port):
    process = flask("serve", "--port", str(taken_port), env=development_env(app, tmp_path, free_port()))
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 1
    assert f"Port {taken_port} on 127.0.0.1 is in use" in stderr
    assert stdout == ""


@pytest.mark.slow
def test_in_development_the_sites_links_follow_the_port_served_on(app, tmp_path):
    port = free_port()
    process = flask("serve", "--port", str(port), env=development_env(app, tmp_path, free_port()))
    try:
        announced = process.stdout.readline()
        while announced and "Lodestar on" not in announced:
            announced = process.stdout.readline()
        assert f"Lodestar on http://127.0.0.1:{port}/" in announced
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/robots.txt", timeout=30) as response:
            robots = response.read().decode()
        assert f"Sitemap: http://127.0.0.1:{port}/sitemap.xml" in robots
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)
    assert process.returncode == 0


def test_make_runs_port_reaches_every_command_through_flasks_variables(monkeypatch, tmp_path):
    """`make run PORT=5001` passes FLASK_RUN_PORT to `flask demo load` too, so the mail it
    queues links to the port the server opens; a SITE_URL that is set always wins."""
    monkeypatch.setenv("LODESTAR_SECRET_KEY", TEST_SECRET)
    monkeypatch.setenv("LODESTAR_DEVELOPMENT", "1")
    monkeypatch.setenv("FLASK_RUN_PORT", "5001")
    monkeypatch.delenv("LODESTAR_SITE_URL", raising=False)
    database = f"sqlite:///{tmp_path}/x.db"
    assert create_app({"SQLALCHEMY_DATABASE_URI": database}).config["SITE_URL"] == "http://127.0.0.1:5001"
    monkeypatch.setenv("LODESTAR_SITE_URL", "https://www.example.com")
    assert create_app({"SQLALCHEMY_DATABASE_URI": database}).config["SITE_URL"] == "https://www.example.com"
    monkeypatch.delenv("LODESTAR_SITE_URL")
    monkeypatch.delenv("LODESTAR_DEVELOPMENT")
    assert create_app({"SQLALCHEMY_DATABASE_URI": database}).config["SITE_URL"] == "http://127.0.0.1:5000"
