"""The development SMTP sink (core.mailsink): a real aiosmtpd server on a free port that
keeps each mail as an .eml file, which the admin Outbox lists and shows."""

import smtplib
import socket
import threading
import time
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from core import mailsink
from core.mailsink import start_sink
from tests.conftest import free_port


def wait_for_files(folder: Path, count: int, timeout: float = 5.0) -> list[Path]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = sorted(folder.glob("*.eml"))
        if len(files) >= count:
            return files
        time.sleep(0.02)
    return sorted(folder.glob("*.eml"))


@pytest.fixture
def sink(app, tmp_path, monkeypatch):
    """The app's sink started for real on a free port, its Outbox in a fresh folder."""
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())
    monkeypatch.setitem(app.config, "OUTBOX_DIR", str(tmp_path / "outbox"))
    stop = start_sink(app)
    assert stop is not None
    yield app.config
    stop()


def test_the_sink_keeps_mail_as_eml_and_the_outbox_shows_it(sink, login_as):
    mail = EmailMessage()
    mail["From"] = "Lodestar <noreply@example.com>"
    mail["To"] = "reader@example.com"
    mail["Subject"] = "开发信箱里的一封信"
    mail.set_content("纯文本正文")
    mail.add_alternative("<!DOCTYPE html><html><body><p>网页正文</p></body></html>", subtype="html")
    with smtplib.SMTP("127.0.0.1", sink["MAIL_PORT"], timeout=10) as smtp:
        smtp.send_message(mail)

    [path] = wait_for_files(Path(sink["OUTBOX_DIR"]), 1)
    assert not list(path.parent.glob("*.tmp"))  # written aside, then moved in whole
    assert b"reader@example.com" in path.read_bytes()

    marketer = login_as("marketer")
    listing = marketer.get("/admin/nurture/outbox").get_data(as_text=True)
    assert path.name in listing and "reader@example.com" in listing and "开发信箱里的一封信" in listing
    page = marketer.get(f"/admin/nurture/outbox/{path.name}").get_data(as_text=True)
    assert "纯文本正文" in page
    html = marketer.get(f"/admin/nurture/outbox/{path.name}/html").get_data(as_text=True)
    assert "网页正文" in html


@pytest.fixture
def controllers(monkeypatch):
    """The Controllers start_sink makes, kept to check what a failed start leaves behind."""
    made = []

    class Kept(Controller):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(mailsink, "Controller", Kept)
    return made


def test_the_sink_is_not_started_off_loopback_or_on_a_taken_port(app, tmp_path, monkeypatch, controllers):
    monkeypatch.setitem(app.config, "OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.setitem(app.config, "MAIL_SERVER", "smtp.example.com")
    assert start_sink(app) is None
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        monkeypatch.setitem(app.config, "MAIL_PORT", taken.getsockname()[1])
        assert start_sink(app) is None
    [controller] = controllers  # its loop never ran: closed by start_sink
    assert controller.loop.is_closed()


def test_a_sink_that_starts_but_does_not_answer_is_stopped_whole(app, tmp_path, monkeypatch, controllers):
    """aiosmtpd's start() can time out after its thread runs the loop (a busy machine):
    start_sink then gives up without raising, and leaves no loop or thread behind."""
    monkeypatch.setitem(app.config, "OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())
    running = []

    def not_responding(self):
        running.append(self.loop.is_running())
        raise TimeoutError("SMTP server started, but not responding within allotted time.")

    monkeypatch.setattr(Controller, "_trigger_server", not_responding)
    before = set(threading.enumerate())
    assert start_sink(app) is None
    [controller] = controllers
    assert running == [True]  # the failure came while the loop was running
    assert controller.loop.is_closed()
    assert set(threading.enumerate()) <= before
    with socket.socket() as again:  # and its port is free again
        again.bind(("127.0.0.1", app.config["MAIL_PORT"]))
