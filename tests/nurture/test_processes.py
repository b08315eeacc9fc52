"""Real worker processes against the test database: a worker killed with SIGKILL in
the middle of a batch, four `flask nurture tick` processes at once on PostgreSQL and two
on SQLite.
Each mail must arrive once, except the one a killed worker had at the server: at most
one repeat, with the same Message-ID."""

import signal
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.timeutil import utcnow
from nurture.models import Message
from tests.nurture.conftest import (
    PickySink,
    enroll_many,
    expire_leases,
    flask,
    flask_env,
    run_ticks,
    tick,
)

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("app")]


def assert_each_mail_once(mails, expected) -> None:
    """Every expected recipient got one mail, each with its own Message-ID, and every
    message row says sent."""
    received = Counter(str(mail["To"]) for mail in mails)
    assert sorted(received) == sorted(expected)
    assert set(received.values()) == {1}
    assert len({mail["Message-ID"] for mail in mails}) == len(expected)
    db.session.expire_all()
    assert Counter(db.session.scalars(select(Message.status))) == {"sent": len(expected)}


def sent_count() -> int:
    db.session.commit()  # a fresh snapshot each time
    return db.session.scalar(select(func.count()).where(Message.status == "sent"))


def test_a_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice(app, tmp_path, monkeypatch):
    # The sink holds the 5th mail's MAIL FROM until the worker is dead: the kill lands
    # mid-batch, mid-message, however slow the machine.
    sink = PickySink(hold_from=5)
    try:
        expected = enroll_many(20, utcnow())
        env = flask_env(
            app, tmp_path, sink.port, LODESTAR_NURTURE_BATCH_SIZE=10, LODESTAR_NURTURE_LEASE_SECONDS=60
        )
        process = flask("nurture", "worker", "--interval", "0.2", env=env)
        deadline = time.monotonic() + 60
        # The 4th's outcome commits while the 5th's envelope travels (its final "."
        # waits for that commit): once the 4th is marked sent, kill.
        while (
            (sink.mail_started < 5 or sent_count() < 4)
            and time.monotonic() < deadline
            and process.poll() is None
        ):
            time.sleep(0.005)
        assert process.poll() is None, process.stderr.read()
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=10)
        sink.release()
        db.session.expire_all()
        sending = db.session.scalars(select(Message).where(Message.status == "sending")).all()
        assert sending, "the kill should leave claimed messages behind"
        assert len(sink.messages) == 4

        monkeypatch.setattr(app.extensions["mail"], "port", sink.port)
        # The unclaimed rest goes at once; the dead worker's claim waits for its lease.
        assert tick(utcnow())["sent"] == 20 - 4 - len(sending)
        assert tick(utcnow() + timedelta(seconds=61))["sent"] == 0  # leases run on the real clock
        expire_leases()
        assert tick(utcnow())["sent"] == len(sending)
        assert_each_mail_once(sink.messages, expected)
    finally:
        sink.stop()


def test_a_mail_accepted_just_before_the_worker_died_goes_again_once_with_the_same_message_id(
    app, tmp_path, monkeypatch
):
    # The sink keeps the 3rd mail and holds its "250" until the worker is dead: the
    # mail is delivered and its row still says sending.
    sink = PickySink(hold_reply=3)
    try:
        expected = enroll_many(6, utcnow())
        env = flask_env(
            app, tmp_path, sink.port, LODESTAR_NURTURE_BATCH_SIZE=10, LODESTAR_NURTURE_LEASE_SECONDS=60
        )
        process = flask("nurture", "worker", "--interval", "0.2", env=env)
        deadline = time.monotonic() + 60
        while len(sink.messages) < 3 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.005)
        assert process.poll() is None, process.stderr.read()
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=10)
        sink.release()
        held = sink.messages[2]
        db.session.expire_all()
        row = db.session.scalar(select(Message).where(Message.to_address == str(held["To"])))
        assert row.status == "sending" and row.message_id == held["Message-ID"]

        monkeypatch.setattr(app.extensions["mail"], "port", sink.port)
        expire_leases()
        assert tick(utcnow())["sent"] == 6 - 2
        received = Counter(str(mail["To"]) for mail in sink.messages)
        assert sorted(received) == sorted(expected)
        assert received.pop(str(held["To"])) == 2 and set(received.values()) == {1}
        copies = [mail for mail in sink.messages if mail["To"] == held["To"]]
        assert copies[0]["Message-ID"] == copies[1]["Message-ID"] == held["Message-ID"]
        db.session.expire_all()
        assert Counter(db.session.scalars(select(Message.status))) == {"sent": 6}
        assert db.session.get(Message, row.id).message_id == held["Message-ID"]
    finally:
        sink.stop()


def test_sigterm_finishes_the_message_in_flight_and_stops(app, tmp_path):
    # The sink holds the second mail's MAIL FROM until SIGTERM has been sent.
    sink = PickySink(hold_from=2)
    try:
        enroll_many(10, utcnow())
        process = flask("nurture", "worker", "--interval", "0.2", env=flask_env(app, tmp_path, sink.port))
        deadline = time.monotonic() + 60
        while sink.mail_started < 2 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.005)
        process.send_signal(signal.SIGTERM)
        # The signal is handled between two bytecodes of the worker's main thread, which
        # is waiting for the held reply: well before the second mail's DATA can end.
        time.sleep(0.2)
        sink.release()
        out, err = process.communicate(timeout=30)
        assert process.returncode == 0, err
        assert "worker stopped" in out
        db.session.expire_all()
        statuses = Counter(db.session.scalars(select(Message.status)))
        # The second mail was finished; the rest were given back, not left leased.
        assert statuses["sent"] == len(sink.messages) == 2
        assert statuses["queued"] == 8 and statuses["sending"] == 0
    finally:
        sink.stop()


def test_four_concurrent_ticks_on_postgresql_send_each_mail_once(app, tmp_path):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SKIP LOCKED is the PostgreSQL scale-out path; SQLite has one writer")
    # Two processes' first mails wait at the sink for each other, so at least two have
    # claimed batches side by side however late the others start.
    sink = PickySink(gather=2)
    try:
        expected = enroll_many(300, utcnow())
        outputs = run_ticks(app, tmp_path, sink.port, [f"t{i}" for i in range(4)], batch_size=20)
        assert_each_mail_once(sink.messages, expected)
        # More than one process did real work (the claims interleaved).
        assert sink.gate.gathered == 2, outputs
        assert sum(1 for out, _err in outputs if "sent" in out) >= 2
    finally:
        sink.stop()


def test_two_concurrent_ticks_on_sqlite_send_each_mail_once(app, tmp_path):
    """SQLite has one writer: the second process must wait (busy timeout), not fail with
    "database is locked", and the claims must still never overlap."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the SQLite variant of the concurrent ticks (PostgreSQL has its own)")
    # Each process's first mail waits at the sink until the other has one waiting too, so
    # both have claimed a batch and send at the same time (a process may start seconds
    # late on a loaded machine: without this, the first could send everything alone).
    sink = PickySink(delay=0.05, gather=2)
    try:
        expected = enroll_many(100, utcnow())
        outputs = run_ticks(app, tmp_path, sink.port, ["s0", "s1"])
        assert not any("database is locked" in err for _out, err in outputs), outputs
        assert_each_mail_once(sink.messages, expected)
        # Both processes sent (their passes overlapped), so the wait on the lock was real.
        assert sink.gate.gathered == 2, outputs
        assert all("sent" in out for out, _err in outputs), outputs
    finally:
        sink.stop()
