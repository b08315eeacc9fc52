"""Nurture test helpers: leads, sequences, a tick at a given time."""

import os
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict

import app as app_module
from core.extensions import db
from core.timeutil import utcnow
from gated.models import Lead
from nurture import enrolment, sequences, worker
from nurture.models import DAYS
from tests.conftest import TEST_SECRET

# A Monday, 10:00 in Shanghai (02:00 UTC): inside a weekday 09:00-18:00 window.
MONDAY_10_SHANGHAI = datetime(2026, 11, 23, 2, 0)


@pytest.fixture(autouse=True)
def _fast_sending(request, monkeypatch):
    """No per-second pacing in tests (the pacer is tested on its own)."""
    if "app" in request.fixturenames:
        app = request.getfixturevalue("app")
        monkeypatch.setitem(app.config, "MAIL_RATE_PER_SECOND", 0)


def make_lead(email="lead@example.com", name="李雷", company="示例公司", consent=True, **fields) -> Lead:
    lead = Lead(email=email, name=name, company=company, marketing_consent=consent, **fields)
    db.session.add(lead)
    db.session.commit()
    return lead


def sequence_data(slug="follow", steps=None, **fields) -> dict:
    data = {
        "slug": slug,
        "name": "跟进",
        "status": "active",
        "trigger": "manual",
        "send_window": {
            "days": ["mon", "tue", "wed", "thu", "fri"],
            "start": "09:00",
            "end": "18:00",
            "timezone": "Asia/Shanghai",
        },
        "steps": steps
        if steps is not None
        else [
            {
                "delay": "0h",
                "subject": "{{ lead.first_name or '您好' }},第一封",
                "body": "你好 {{ lead.name }},[下载]({{ download_url }})",
            },
            {"delay": "2d", "subject": "第二封", "body": "第二封正文"},
        ],
    }
    data.update(fields)
    return data


def make_sequence(**kwargs):
    sequence, _outcome = sequences.save_sequence(sequence_data(**kwargs), now=MONDAY_10_SHANGHAI)
    return sequence


def tick(now, **kwargs):
    return worker.tick(now, worker_name="test", **kwargs)


def expire_leases() -> None:
    """Let the real time pass every claim's lease (leases are on the real clock, not on
    a tick's `now`): the lease ends a second ago."""
    from sqlalchemy import update

    from core.timeutil import utcnow
    from nurture.models import Message

    db.session.execute(
        update(Message).where(Message.status == "sending").values(lease_until=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()


class FirstMailGate:
    """A barrier at a test sink: the first MAIL FROM of each connection waits until
    `workers` connections have one waiting (or `patience` seconds have passed), so that
    many workers, each having claimed a batch, send at the same time however late a
    process started. `gathered` says how many did (0 with no gate)."""

    def __init__(self, workers: int = 0, patience: float = 60.0):
        self.workers, self.patience = workers, patience
        self.waiting, self.gathered = set(), 0

    async def wait(self, session) -> None:
        import asyncio
        import time

        if not self.workers or self.gathered:
            return
        self.waiting.add(id(session))
        deadline = time.monotonic() + self.patience
        while len(self.waiting) < self.workers and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        self.gathered = self.gathered or len(self.waiting)


class PickySink:
    """A real SMTP server that refuses some recipients: *bounce* with 550, *later* with
    451; refuses the content for *spam* with 554 and, the first time only, for *busy*
    with 421 (closing); `delay` seconds before each MAIL FROM makes it slow. With
    `hold_from=N`, the Nth MAIL FROM and every later one wait until `release()` (at most
    a minute): a test kills or stops a worker while it holds a mail half-sent, with no
    race against the clock. With `hold_reply=N`, the server keeps the Nth mail it takes
    and holds its "250" until `release()`: the mail is delivered, and the worker does not
    know it yet. With `gather=N`, a FirstMailGate for N workers."""

    def __init__(self, delay=0.0, gather=0, hold_from=0, hold_reply=0):
        import threading

        from aiosmtpd.controller import Controller

        from tests.conftest import free_port

        self.delay = delay
        self.hold_from = hold_from
        self.hold_reply = hold_reply
        self.released = threading.Event()
        self.gate = FirstMailGate(gather)
        self.mail_started = 0
        self.closed_for = set()
        self.messages = []
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        import asyncio

        self.mail_started += 1
        await self.gate.wait(session)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.hold_from and self.mail_started >= self.hold_from:
            await self._until_released()
        envelope.mail_from = address
        return "250 OK"

    async def _until_released(self) -> None:
        import asyncio
        import time

        deadline = time.monotonic() + 60
        while not self.released.is_set() and time.monotonic() < deadline:
            await asyncio.sleep(0.01)

    def release(self) -> None:
        """Let the held MAIL FROM, and every later one, through."""
        self.released.set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if "bounce" in address:
            return "550 5.1.1 no such user"
        if "later" in address:
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes, policy

        [to] = envelope.rcpt_tos
        if "spam" in to:
            return "554 5.7.1 content rejected"
        if "busy" in to and to not in self.closed_for:
            self.closed_for.add(to)
            return "421 4.3.2 closing"
        self.messages.append(
            message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        )
        if self.hold_reply and len(self.messages) == self.hold_reply:
            await self._until_released()
        return "250 OK"

    def stop(self):
        self.release()
        self.controller.stop()


@pytest.fixture(scope="session")
def picky_server():
    sink = PickySink()
    yield sink
    sink.stop()


@pytest.fixture
def picky_sink(app, picky_server, monkeypatch):
    """Point the app's mail at the picky sink for one test."""
    picky_server.messages.clear()
    picky_server.closed_for.clear()
    monkeypatch.setattr(app.extensions["mail"], "port", picky_server.port)
    return picky_server


TEST_MAIL = "tests/email/hello"


@pytest.fixture(autouse=True)
def _transactional_test_template(request, monkeypatch):
    """A transactional template of our own ("tests/email/hello"), so these tests do not
    depend on the wording of gated's mails."""
    if "app" not in request.fixturenames:
        return
    from jinja2 import ChoiceLoader, DictLoader

    app = request.getfixturevalue("app")
    templates = {
        f"{TEST_MAIL}/subject.txt": "{{ _('Your download') }}: {{ title }}",
        f"{TEST_MAIL}/body.txt": "{{ lead.first_name or lead.email }}:\n{{ link }}\n",
        f"{TEST_MAIL}/body.html": '<p>{{ lead.first_name or lead.email }}:</p><p><a href="{{ link }}">{{ title }}</a></p>',
    }
    monkeypatch.setattr(app.jinja_env, "loader", ChoiceLoader([DictLoader(templates), app.jinja_env.loader]))


def sequence_form(**changes):
    data = MultiDict(
        {
            "slug": "browser-built",
            "name": "浏览器里搭的序列",
            "locale": "zh-CN",
            "trigger_kind": "asset",
            "trigger_value": "saas-renewal",
            "window_start": "09:00",
            "window_end": "18:00",
            "timezone": "Asia/Shanghai",
            "hourly_cap": "",
            "steps-0-delay": "0h",
            "steps-0-delay_from": "previous",
            "steps-0-subject": "{{ lead.first_name or '您好' }},第一封",
            "steps-0-body": "正文 [下载]({{ download_url }})",
            "steps-0-condition": "",
            "steps-1-delay": "3d",
            "steps-1-delay_from": "previous",
            "steps-1-subject": "第二封",
            "steps-1-body": "第二封正文",
            "steps-1-condition": "clicked_previous",
            "steps-2-delay": "1d",
            "steps-2-delay_from": "previous",
            "steps-2-subject": "第三封",
            "steps-2-body": "第三封正文",
            "steps-2-condition": "",
            "steps-3-delay": "1d",
            "steps-3-subject": "",
            "steps-3-body": "",
        }
    )
    for day in ("mon", "tue", "wed", "thu", "fri"):
        data.add("days", day)
    for key, value in changes.items():
        data[key] = value
    return data


ROOT = Path(app_module.__file__).resolve().parent


ALWAYS_OPEN = {"days": list(DAYS), "start": "00:00", "end": "24:00", "timezone": "UTC"}


def flask_env(app, tmp_path, port, **extra) -> dict:
    env = dict(os.environ)
    env.update(
        {
            "LODESTAR_SECRET_KEY": TEST_SECRET,
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "LODESTAR_MAIL_SERVER": "127.0.0.1",
            "LODESTAR_MAIL_PORT": str(port),
            "LODESTAR_SITE_URL": "http://localhost",
            "LODESTAR_MAIL_RATE_PER_SECOND": "0",
            "LODESTAR_DEV_SMTP_SINK": "false",
            "LODESTAR_INDEX_DIR": str(tmp_path / "index"),
            "LODESTAR_OUTBOX_DIR": str(tmp_path / "outbox"),
            "FLASK_APP": "app",
        }
    )
    env.update({key: str(value) for key, value in extra.items()})
    return env


def flask(*args, env):
    return subprocess.Popen(
        [sys.executable, "-m", "flask", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def enroll_many(count, now):
    sequence = make_sequence(
        send_window=ALWAYS_OPEN, steps=[{"delay": "0h", "subject": "你好 {{ lead.name }}", "body": "正文"}]
    )
    ids = [make_lead(f"p{i}@example.com", name=f"P{i}").id for i in range(count)]
    enrolment.enroll(ids, sequence.id, now=now)
    return [f"p{i}@example.com" for i in range(count)]


def run_ticks(app, tmp_path, port, names, batch_size=10, **settings) -> list[tuple[str, str]]:
    """`flask nurture tick` in one process per name, all started at once; (stdout,
    stderr) of each, every one having exited cleanly."""
    env = flask_env(app, tmp_path, port, LODESTAR_NURTURE_BATCH_SIZE=batch_size, **settings)
    at = (utcnow() + timedelta(seconds=1)).isoformat()
    processes = [flask("nurture", "tick", "--now", at, "--name", name, env=env) for name in names]
    outputs = [process.communicate(timeout=120) for process in processes]
    assert all(process.returncode == 0 for process in processes), outputs
    return outputs


def mail_to(sink, address):
    [mail] = [mail for mail in sink.messages if mail["To"] == address]
    return mail


def tracking_path(mail, kind):
    """The open pixel (o) or the first click link (c) of a delivered mail, as a path."""
    html = mail.get_body(("html",)).get_content()
    return re.search(rf"http://localhost(/t/{kind}/[^\"')\s]+)", html).group(1)
