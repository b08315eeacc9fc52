"""Delivery through a real SMTP sink: the mail itself, suppression at send time,
unsubscribe, retries, bounces, leases, windows, caps, conditions, the clock jumping."""

import contextlib
import socket
import threading
import time
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from flask import current_app
from sqlalchemy import create_engine, event, func, select, update

from core.extensions import db
from core.timeutil import utcnow
from nurture import delivery, email, enrolment, exits, mailqueue, sequences, stats, suppression
from nurture.delivery import materialising, rendering
from nurture.models import Enrollment, Message, Step, Suppression, WorkerHeartbeat, email_hash
from nurture.recorder import Recorder
from tests.conftest import free_port
from tests.nurture.conftest import (
    MONDAY_10_SHANGHAI,
    TEST_MAIL,
    PickySink,
    expire_leases,
    make_lead,
    make_sequence,
    tick,
)

pytestmark = pytest.mark.usefixtures("app")
NOW = MONDAY_10_SHANGHAI


def queue_test_mails(*addresses: str) -> None:
    """Queue the transactional test mail to each address, in order, and commit."""
    for to in addresses:
        mailqueue.add_mail(
            to=to, template=TEST_MAIL, context={"link": "http://localhost/d", "title": "T"}, now=NOW
        )
    db.session.commit()


def enrolled(email="lead@example.com", **sequence_fields):
    sequence = make_sequence(**sequence_fields)
    lead = make_lead(email)
    enrolment.enroll([lead.id], sequence.id, now=NOW)
    return sequence, lead


def status_by_address() -> dict[str, str]:
    return dict(db.session.execute(select(Message.to_address, Message.status)).all())


def statuses():
    return sorted(db.session.scalars(select(Message.status)))


def test_a_delivered_mail_has_the_headers_and_parts_it_must(smtp_sink):
    long_paragraph = "长" * 5000
    enrolled(
        steps=[
            {
                "delay": "0h",
                "subject": "{{ lead.first_name or '您好' }},你好",
                "body": long_paragraph + "\n\n" + "x" * 3000,
            }
        ]
    )
    assert tick(NOW)["sent"] == 1
    [mail] = smtp_sink.wait_for(1)
    raw = smtp_sink.envelopes[0].original_content
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    assert mail["To"] == "lead@example.com"
    assert mail["Subject"] == "李雷,你好"
    assert (
        mail["Date"]
        and mail["Message-ID"].startswith("<")
        and mail["Message-ID"].endswith("@lodestar.example>")
    )
    assert mail["List-Id"]
    https_url, mailto = [part.strip().strip("<>") for part in str(mail["List-Unsubscribe"]).split(",")]
    assert https_url.startswith("http://localhost/u/") and mailto.startswith("mailto:")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert text["Content-Transfer-Encoding"] == "quoted-printable"
    assert long_paragraph in text.get_content()
    html_content = html.get_content()
    assert html_content.lstrip().startswith("<!DOCTYPE html>") and "</html>" in html_content
    assert "上海市" in html_content and "Lodestar" in html_content  # postal address and sender in the footer
    assert "http://localhost/t/o/" in html_content  # the open pixel
    [message] = Message.query.all()
    assert (message.status, message.message_id) == ("sent", mail["Message-ID"])
    assert message.subject == "李雷,你好" and long_paragraph in message.body_text


def test_transactional_mail_goes_first_and_carries_unsubscribe_too(smtp_sink):
    sequence, lead = enrolled()
    mailqueue.add_mail(
        to=lead.email, template=TEST_MAIL, lead_id=lead.id, now=NOW,
        context={"link": "http://localhost/download/abc", "title": "续费白皮书"},
    )  # fmt: skip
    db.session.commit()
    assert tick(NOW, batch_size=1)["sent"] == 2
    first, second = smtp_sink.wait_for(2)
    assert "http://localhost/download/abc" in first.get_body(("plain",)).get_content()
    assert first["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "第一封" in second["Subject"]


def test_each_step_is_sent_once_at_its_time(smtp_sink):
    sequence, lead = enrolled()
    assert tick(NOW)["sent"] == 1
    assert tick(NOW)["sent"] == 0
    assert tick(NOW + timedelta(days=1))["sent"] == 0
    assert tick(NOW + timedelta(days=2))["sent"] == 1
    assert tick(NOW + timedelta(days=9))["sent"] == 0
    assert len(smtp_sink.wait_for(2)) == 2
    enrollment = Enrollment.query.one()
    assert enrollment.status == "completed"


def test_the_clock_jumping_far_ahead_sends_what_is_due_once_in_the_window(runner, smtp_sink):
    enrolled(
        steps=[
            {"delay": "0h", "subject": "一", "body": "1"},
            {"delay": "1d", "subject": "二", "body": "2"},
            {"delay": "1d", "subject": "三", "body": "3"},
        ]
    )
    # A Saturday a month later: outside the weekday window, nothing goes.
    result = runner.invoke(args=["nurture", "tick", "--now", "2026-12-26T10:00:00+08:00"])
    assert result.exit_code == 0, result.output
    assert statuses() == []
    assert Enrollment.query.one().next_send_at == NOW.replace(
        day=28, hour=1, month=12
    )  # Monday 09:00 Shanghai
    # The Monday after, in the window: the first step only, once.
    for _ in range(2):
        result = runner.invoke(args=["nurture", "tick", "--now", "2026-12-28T10:00:00+08:00"])
    assert statuses() == ["sent"]
    assert len(smtp_sink.wait_for(1)) == 1
    assert runner.invoke(args=["nurture", "tick", "--now", "tomorrow"]).exit_code == 2


def test_suppression_beats_queued_mail(smtp_sink):
    sequence, lead = enrolled()
    delivery.materialise(NOW, limit=10)
    assert statuses() == ["queued"]
    suppression.suppress(lead.email, "manual", now=NOW)
    counts = tick(NOW)
    assert counts["suppressed"] == 1 and counts["sent"] == 0
    assert statuses() == ["suppressed"]
    assert smtp_sink.wait_for(1, timeout=0.3) == []


def test_one_click_unsubscribe_then_no_more_mail(client, smtp_sink):
    enrolled()
    tick(NOW)
    [mail] = smtp_sink.wait_for(1)
    url = str(mail["List-Unsubscribe"]).split(",")[0].strip().strip("<>")
    # What a mail provider sends: no cookies, no CSRF token.
    response = client.post(url.removeprefix("http://localhost"), data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 204
    assert Suppression.query.one().reason == "unsubscribed"
    enrollment = Enrollment.query.one()
    assert (enrollment.status, enrollment.exit_reason) == ("exited", "unsubscribed")
    assert tick(NOW + timedelta(days=3))["sent"] == 0
    assert len(smtp_sink.wait_for(2, timeout=0.3)) == 1


def test_unsubscribe_stops_transactional_mail_too(client, smtp_sink):
    lead = make_lead()
    mailqueue.add_mail(
        to=lead.email,
        template=TEST_MAIL,
        lead_id=lead.id,
        now=NOW,
        context={"link": "http://localhost/c", "title": "t"},
    )
    db.session.commit()
    tick(NOW)
    [mail] = smtp_sink.wait_for(1)
    path = str(mail["List-Unsubscribe"]).split(",")[0].strip().strip("<>").removeprefix("http://localhost")
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 204
    mailqueue.add_mail(
        to=lead.email,
        template=TEST_MAIL,
        lead_id=lead.id,
        now=NOW,
        context={"link": "http://localhost/c", "title": "t"},
    )
    db.session.commit()
    assert tick(NOW)["suppressed"] == 1


def test_smtp_down_then_back_delivers_once(smtp_sink):
    enrolled()
    smtp_sink.stop()
    counts = tick(NOW)
    assert counts["retry"] == 1 and counts["sent"] == 0
    [message] = Message.query.all()
    assert message.status == "queued" and "SMTP unreachable" in message.error
    assert message.next_attempt_at > NOW
    smtp_sink.start()
    assert tick(NOW)["sent"] == 0  # not before its backoff
    assert tick(NOW + timedelta(minutes=2))["sent"] == 1
    assert tick(NOW + timedelta(minutes=30))["sent"] == 0
    assert len(smtp_sink.wait_for(1)) == 1
    db.session.refresh(message)
    assert (message.status, message.attempts) == ("sent", 2)


def test_a_permanently_refused_address_fails_and_is_suppressed(picky_sink):
    enrolled("bounce@example.com")
    counts = tick(NOW)
    assert counts["failed"] == 1
    [message] = Message.query.all()
    assert message.status == "failed" and message.error.startswith("550")
    assert Suppression.query.one().reason == "bounced"
    assert Enrollment.query.one().exit_reason == "bounced"


def test_a_refused_address_leaves_the_connection_ready_for_the_next_mail(picky_sink):
    """After a refused RCPT the transaction is reset on the same connection; without the
    reset the next MAIL FROM is a nested command the server refuses."""
    sequence, _ = enrolled("bounce@example.com")
    enrolment.enroll([make_lead("fine@example.com").id], sequence.id, now=NOW)
    counts = tick(NOW)
    assert (counts["failed"], counts["sent"]) == (1, 1)
    assert status_by_address() == {"bounce@example.com": "failed", "fine@example.com": "sent"}
    assert [str(mail["To"]) for mail in picky_sink.messages] == ["fine@example.com"]


def test_a_temporary_refusal_retries_with_backoff_then_gives_up(app, picky_sink, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_MAX_ATTEMPTS", 3)
    enrolled("later@example.com")
    when = NOW
    for _ in range(3):
        tick(when)
        [message] = Message.query.all()
        when = message.next_attempt_at
    assert message.status == "failed" and "gave up after 3 attempts" in message.error
    assert Suppression.query.count() == 0


def test_backoff_doubles(picky_sink):
    enrolled("later@example.com")
    tick(NOW)
    first = Message.query.one().next_attempt_at
    tick(first)
    second = Message.query.one().next_attempt_at
    assert (first - NOW) == timedelta(minutes=1)
    assert (second - first) == timedelta(minutes=2)


def test_a_step_that_no_longer_renders_fails_with_its_reason(smtp_sink):
    sequence, lead = enrolled()
    step = Step.query.filter_by(position=0).one()
    step.body = "{{ lead.missing }}"  # edited behind the validation's back
    db.session.commit()
    assert tick(NOW)["failed"] == 1
    assert "could not render" in Message.query.one().error and "missing" in Message.query.one().error


def test_a_crashed_workers_claim_comes_back_after_the_lease(app, smtp_sink):
    enrolled()
    delivery.materialise(NOW, limit=10)
    [claimed] = delivery.claim(NOW, limit=10, worker="crashed", lease_seconds=300)
    db.session.expire_all()
    assert tick(NOW + timedelta(minutes=1))["sent"] == 0  # still leased
    # A pass whose `now` is far ahead (tick --now) must not take a lease the real
    # clock has not run out: the crashed worker might still be sending it.
    assert delivery.claim(utcnow() + timedelta(days=30), limit=10, worker="w", lease_seconds=300) == []
    expire_leases()
    assert tick(NOW + timedelta(minutes=6))["sent"] == 1
    assert len(smtp_sink.wait_for(1)) == 1
    assert Message.query.one().attempts == 2


def test_a_claim_that_loses_its_rows_to_another_worker_picks_again():
    """SQLite has no SKIP LOCKED: workers that start together all pick the same first
    rows and only one update wins them. The losers pick again, rather than taking the
    empty batch for "nothing due" and stopping their pass while mail waits."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL locks the rows a claim picks (SKIP LOCKED): no other worker can take them")
    queue_test_mails("a@example.com", "b@example.com", "c@example.com")
    taken = []

    def another_worker_claims_first(conn, cursor, statement, parameters, context, executemany):
        # Between this claim's select and its update, another worker's claim of the same
        # rows commits on its own connection.
        if statement.startswith("UPDATE messages SET status") and not taken:
            with db.engine.connect() as other:
                taken.extend(other.scalars(select(Message.to_address).order_by(Message.id).limit(2)).all())
                other.execute(
                    update(Message)
                    .where(Message.to_address.in_(taken))
                    .values(
                        status="sending", claimed_by="other:1", lease_until=utcnow() + timedelta(minutes=5)
                    )
                )
                other.commit()

    event.listen(db.engine, "before_cursor_execute", another_worker_claims_first)
    try:
        batch = delivery.claim(NOW, limit=2, worker="late", lease_seconds=300)
    finally:
        event.remove(db.engine, "before_cursor_execute", another_worker_claims_first)
    assert taken == ["a@example.com", "b@example.com"]
    assert [job.to_address for job in batch] == ["c@example.com"]
    db.session.expire_all()
    assert dict(db.session.execute(select(Message.to_address, Message.claimed_by)).all()) == {
        "a@example.com": "other:1",
        "b@example.com": "other:1",
        "c@example.com": batch[0].claimed_by,
    }
    assert batch[0].claimed_by.startswith("late:")


def test_expired_leases_are_claimed_before_queued_mail_and_transactional_still_goes_first(smtp_sink):
    sequence = make_sequence()
    crashed, waiting = make_lead("crashed@example.com"), make_lead("waiting@example.com")
    enrolment.enroll([crashed.id, waiting.id], sequence.id, now=NOW)
    delivery.materialise(NOW, limit=10)
    [left] = delivery.claim(NOW, limit=1, worker="crashed", lease_seconds=300)
    assert left.to_address == "crashed@example.com"
    # Queued for longer than the crashed worker's mail: it would sort first in one query.
    db.session.execute(
        update(Message)
        .where(Message.to_address == "waiting@example.com")
        .values(next_attempt_at=NOW - timedelta(hours=1))
    )
    queue_test_mails("buyer@example.com")
    later = NOW + timedelta(minutes=6)
    expire_leases()

    batch = delivery.claim(later, limit=2, worker="w", lease_seconds=300)
    assert [job.to_address for job in batch] == ["buyer@example.com", "crashed@example.com"]
    assert delivery.deliver(batch, later)["sent"] == 2
    assert tick(later)["sent"] == 1
    assert [str(mail["To"]) for mail in smtp_sink.wait_for(3)] == [
        "buyer@example.com",
        "crashed@example.com",
        "waiting@example.com",
    ]
    assert db.session.scalar(select(Message.attempts).where(Message.to_address == "crashed@example.com")) == 2


def test_hourly_cap(smtp_sink):
    sequence = make_sequence(hourly_cap=2)
    leads = [make_lead(f"c{i}@example.com") for i in range(5)]
    enrolment.enroll([lead.id for lead in leads], sequence.id, now=NOW)
    assert tick(NOW)["sent"] == 2
    assert tick(NOW + timedelta(minutes=30))["sent"] == 0
    assert tick(NOW + timedelta(minutes=61))["sent"] == 2
    assert tick(NOW + timedelta(minutes=122))["sent"] == 1


def test_rate_per_hour_setting(app, smtp_sink, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_RATE_PER_HOUR", 3)
    sequence = make_sequence()
    enrolment.enroll([make_lead(f"r{i}@example.com").id for i in range(5)], sequence.id, now=NOW)
    assert tick(NOW)["sent"] == 3
    assert tick(NOW + timedelta(minutes=61))["sent"] == 2


def test_skip_if_clicked_previous(client, smtp_sink):
    steps = [
        {"delay": "0h", "subject": "一", "body": "[看看](https://example.com/a)"},
        {"delay": "1d", "subject": "二", "body": "2", "condition": {"skip_if": "clicked_previous"}},
        {"delay": "1d", "subject": "三", "body": "3"},
    ]
    enrolled(steps=steps)
    tick(NOW)
    [mail] = smtp_sink.wait_for(1)
    html = mail.get_body(("html",)).get_content()
    click_path = html.split('href="http://localhost/t/c/')[1].split('"')[0]
    response = client.get(f"/t/c/{click_path}")
    assert response.status_code == 302 and response.headers["Location"] == "https://example.com/a"
    tick(NOW + timedelta(days=1))
    tick(NOW + timedelta(days=2))
    assert [m.status for m in Message.query.order_by(Message.id)] == ["sent", "skipped", "sent"]
    assert [m["Subject"] for m in smtp_sink.wait_for(2)] == ["一", "三"]


def test_an_exited_enrollments_queued_mail_is_not_sent(smtp_sink):
    sequence, lead = enrolled()
    delivery.materialise(NOW, limit=10)
    exits.exit_lead(lead.id, "removed", now=NOW)
    assert tick(NOW)["skipped"] == 1
    assert smtp_sink.wait_for(1, timeout=0.3) == []


def test_paused_sequences_hold_and_resume(smtp_sink):
    sequence, lead = enrolled()
    sequences.set_status(sequence.id, "paused", now=NOW)
    assert tick(NOW)["sent"] == 0
    sequences.set_status(sequence.id, "active", now=NOW)
    assert tick(NOW)["sent"] == 1


def test_heartbeat_and_health(client, smtp_sink):
    enrolled()
    health = client.get("/healthz").get_json()["checks"]["mail_queue"]
    assert health["no_worker_seen"] is True
    tick(NOW)
    tick(NOW)
    beat = WorkerHeartbeat.query.one()
    assert (beat.name, beat.ticks, beat.sent) == ("test", 2, 1)
    health = client.get("/healthz").get_json()["checks"]["mail_queue"]
    assert health["ok"] is True and health["last_heartbeat"]
    status = stats.mail_status(NOW)
    assert status["failed"] == 0 and status["worker_stale"] is False


def test_stale_worker_is_reported(app, monkeypatch):
    lead = make_lead()
    mailqueue.add_mail(to=lead.email, template=TEST_MAIL, context={}, lead_id=lead.id, now=NOW)
    db.session.commit()
    status = stats.mail_status(utcnow())
    assert status["worker_stale"] is True and status["due"] == 1
    assert stats.health_check()["ok"] is False


def test_a_batch_of_expired_nurture_leases_does_not_hold_back_a_download_link(smtp_sink):
    sequence = make_sequence()
    crashed = [make_lead(f"crashed{n}@example.com") for n in range(2)]
    enrolment.enroll([lead.id for lead in crashed], sequence.id, now=NOW)
    delivery.materialise(NOW, limit=10)
    assert len(delivery.claim(NOW, limit=2, worker="crashed", lease_seconds=300)) == 2
    queue_test_mails("buyer@example.com")
    later = NOW + timedelta(minutes=6)
    expire_leases()

    batch = delivery.claim(later, limit=2, worker="w", lease_seconds=300)
    assert [job.to_address for job in batch] == ["buyer@example.com", "crashed0@example.com"]


def test_a_stop_request_gives_claimed_mail_back_at_once(smtp_sink):
    import threading

    sequence = make_sequence()
    enrolment.enroll([make_lead(f"s{i}@example.com").id for i in range(3)], sequence.id, now=NOW)
    delivery.materialise(NOW, limit=10)
    batch = delivery.claim(NOW, limit=10, worker="w", lease_seconds=300)
    stop = threading.Event()
    stop.set()
    counts = delivery.deliver(batch, NOW, stop=stop)
    assert counts["released"] == 3
    assert statuses() == ["queued"] * 3
    assert tick(NOW)["sent"] == 3


def test_raw_bytes_parse_back(smtp_sink):
    enrolled(steps=[{"delay": "0h", "subject": "A very long English subject line " * 4, "body": "b"}])
    tick(NOW)
    raw = smtp_sink.envelopes[0].original_content
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed["Subject"] == " ".join(("A very long English subject line " * 4).split())
    assert email_hash(" LEAD@example.com ") == email_hash("lead@example.com")


def test_asynchronous_commit_delivers_once_and_leaves_the_pool_as_it_was(app, smtp_sink, monkeypatch):
    monkeypatch.setitem(app.config, "NURTURE_SYNCHRONOUS_COMMIT", "off")
    for index in range(3):
        enrolled(f"p{index}@example.com", slug=f"s{index}")
    assert tick(NOW)["sent"] == 3
    assert len(smtp_sink.wait_for(3)) == 3
    db.session.expire_all()
    assert statuses() == ["sent"] * 3
    if db.engine.dialect.name == "postgresql":
        # Every pooled connection still commits synchronously for everyone else.
        connections = [db.engine.connect() for _ in range(3)]
        try:
            assert {c.exec_driver_sql("SHOW synchronous_commit").scalar() for c in connections} == {"on"}
            # The recorder's connection ran in autocommit; the pool's do not.
            assert {c.connection.dbapi_connection.autocommit for c in connections} == {False}
        finally:
            for connection in connections:
                connection.close()


def test_an_outcome_whose_claim_was_taken_over_is_not_recorded_and_still_checks_the_address(caplog):
    """The recorder's UPDATE only touches a row still claimed by this batch; the
    suppression check that rides with it answers whether or not the row was ours."""
    queue_test_mails("gone@example.com", "kept@example.com")
    jobs = delivery.claim(NOW, limit=2, worker="slow", lease_seconds=300)
    db.session.execute(update(Message).values(claimed_by="other:1"))
    db.session.add(Suppression(email_hash=email_hash("gone@example.com"), reason="unsubscribed"))
    db.session.commit()
    recorder = Recorder(db.engine)
    try:
        for job in jobs:
            recorder.record_later(job, check_address=job.to_address, status="sent", sent_at=NOW)
            assert recorder.suppressed(job.to_address) is (job.to_address == "gone@example.com")
        # And on its own, with no outcome in flight.
        assert recorder.suppressed("gone@example.com") is True
        assert recorder.suppressed("kept@example.com") is False
    finally:
        recorder.close()
    db.session.expire_all()
    assert statuses() == ["sending", "sending"]
    assert caplog.text.count("its claim was taken over") == 2


class _ClosedUntilStarted:
    """A TCP forwarder to the test database that refuses connections until start(): the
    database as a worker sees it while the server restarts."""

    def __init__(self, host: str, port: int):
        self.target, self.port, self.server = (host, port), free_port(), None

    def start(self) -> None:
        self.server = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, target), daemon=True).start()

    @staticmethod
    def _pipe(source, target) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                target.sendall(data)
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        if self.server is not None:
            self.server.close()


def test_an_outcome_waits_for_a_restarting_database_instead_of_the_mail_going_again():
    """The server accepted the mail while the database restarts: the recorder keeps
    trying to write "sent" (within the lease) rather than leave the row to be sent again."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("a database server that restarts: PostgreSQL")
    queue_test_mails("lead@example.com")
    [job] = delivery.claim(NOW, limit=1, worker="w:1", lease_seconds=300)
    url = db.engine.url
    forwarder = _ClosedUntilStarted(url.host or "127.0.0.1", url.port or 5432)
    engine = create_engine(url.set(host="127.0.0.1", port=forwarder.port))
    recorder = Recorder(engine, reconnect_seconds=60)
    opens = threading.Timer(0.5, forwarder.start)
    try:
        opens.start()
        recorder.record_later(job, status="sent", sent_at=NOW)
        recorder.close()  # settles the outcome: raises if it was never written
    finally:
        opens.cancel()
        forwarder.close()
        engine.dispose()
    db.session.expire_all()
    assert statuses() == ["sent"]


def test_an_unknown_synchronous_commit_setting_is_refused(app):
    with pytest.raises(ValueError, match="NURTURE_SYNCHRONOUS_COMMIT"):
        Recorder(db.engine, synchronous_commit="sometimes")


def test_an_internationalised_domain_is_delivered_in_its_ascii_form(smtp_sink):
    enrolled("lead@例子.中国")
    assert tick(NOW)["sent"] == 1
    [mail] = smtp_sink.wait_for(1)
    assert smtp_sink.envelopes[0].rcpt_tos == ["lead@xn--fsqu00a.xn--fiqs8s"]
    assert mail["To"] == "lead@xn--fsqu00a.xn--fiqs8s"
    assert statuses() == ["sent"]


def test_a_batch_goes_in_order_and_each_mail_only_when_it_may(smtp_sink):
    queue_test_mails("first@example.com", "no-at-sign", "gone@example.com", "last@example.com")
    suppression.suppress("gone@example.com", "manual", now=NOW)
    counts = tick(NOW, batch_size=10)
    assert (counts["sent"], counts["failed"], counts["suppressed"]) == (2, 1, 1)
    assert [str(mail["To"]) for mail in smtp_sink.wait_for(2)] == ["first@example.com", "last@example.com"]
    outcomes = status_by_address()
    assert outcomes == {
        "first@example.com": "sent",
        "no-at-sign": "failed",
        "gone@example.com": "suppressed",
        "last@example.com": "sent",
    }
    assert "could not render" in db.session.scalar(
        select(Message.error).where(Message.to_address == "no-at-sign")
    )


def test_the_message_id_is_fixed_when_the_mail_is_queued_and_every_attempt_sends_it(picky_sink):
    queue_test_mails("busy@example.com")  # the server closes at its first content: 421
    queued = db.session.scalar(select(Message.message_id))
    assert queued.startswith("<") and queued.endswith("@lodestar.example>")
    assert tick(NOW)["retry"] == 1
    assert db.session.scalar(select(Message.message_id)) == queued
    later = db.session.scalar(select(Message.next_attempt_at))
    assert tick(later)["sent"] == 1
    [mail] = picky_sink.messages
    assert mail["Message-ID"] == queued == db.session.scalar(select(Message.message_id))


def test_a_step_queued_for_a_lead_has_its_message_id_before_it_is_sent(smtp_sink):
    enrolled()
    delivery.materialise(NOW, limit=10)
    [queued] = db.session.scalars(select(Message.message_id)).all()
    assert queued.startswith("<") and queued.endswith("@lodestar.example>")
    assert tick(NOW)["sent"] == 1
    [mail] = smtp_sink.wait_for(1)
    assert mail["Message-ID"] == queued


def test_a_row_queued_without_a_message_id_sends_the_same_one_on_every_attempt(picky_sink):
    queue_test_mails("busy@example.com")
    db.session.execute(update(Message).values(message_id=""))  # queued by an earlier version
    db.session.commit()
    assert tick(NOW)["retry"] == 1
    later = db.session.scalar(select(Message.next_attempt_at))
    assert tick(later)["sent"] == 1
    [mail] = picky_sink.messages
    [row] = Message.query.all()
    expected = email.stable_message_id(row.id, "lodestar.example", current_app.config["SECRET_KEY"])
    assert mail["Message-ID"] == row.message_id == expected


def test_the_mail_rendered_during_a_refused_content_goes_once(picky_sink):
    """The next mail is rendered while the content travels: a refusal of the content
    still lets it go, and a server closing at that reply gives it back."""
    order = ("spam@example.com", "second@example.com", "busy@example.com", "fourth@example.com")
    queue_test_mails(*order)
    counts = tick(NOW, batch_size=10)
    assert (counts["sent"], counts["failed"], counts["retry"]) == (1, 1, 2)
    outcomes = status_by_address()
    assert outcomes == {
        "spam@example.com": "failed",
        "second@example.com": "sent",
        "busy@example.com": "queued",
        "fourth@example.com": "queued",
    }
    assert Suppression.query.count() == 0
    later = db.session.scalar(select(func.max(Message.next_attempt_at)))
    assert tick(later, batch_size=10)["sent"] == 2
    assert [str(mail["To"]) for mail in picky_sink.messages] == [
        "second@example.com",
        "busy@example.com",
        "fourth@example.com",
    ]


def test_an_unexpected_error_preparing_the_next_mail_never_unmarks_the_mail_sent(smtp_sink, monkeypatch):
    """The next mail is prepared while the current one's content travels; an
    error nobody expected there, outside building the mail (which only fails that mail),
    stops the batch only after the current mail is marked sent, so it is never sent again."""
    queue_test_mails("first@example.com", "second@example.com")
    real_why_not = rendering.why_not

    def why_not_failing_for_second(message, now):
        if message.to_address == "second@example.com":
            raise RuntimeError("disk full")  # fault injection
        return real_why_not(message, now)

    monkeypatch.setattr(rendering, "why_not", why_not_failing_for_second)
    batch = delivery.claim(NOW, limit=10, worker="w", lease_seconds=300)
    with pytest.raises(RuntimeError, match="disk full"):
        delivery.deliver(batch, NOW)
    db.session.expire_all()
    outcomes = status_by_address()
    assert outcomes == {"first@example.com": "sent", "second@example.com": "sending"}

    monkeypatch.setattr(rendering, "why_not", real_why_not)
    expire_leases()
    assert tick(NOW + timedelta(minutes=6))["sent"] == 1  # the second, after its lease
    assert [str(mail["To"]) for mail in smtp_sink.wait_for(2)] == ["first@example.com", "second@example.com"]


def test_a_batch_stops_before_its_lease_runs_out_and_gives_the_rest_back(smtp_sink):
    """A batch the worker could not finish within its lease (a slow server, a low
    send rate) is not sent on after another worker may have taken it back."""
    queue_test_mails("a@example.com", "b@example.com", "c@example.com")
    batch = delivery.claim(NOW, limit=10, worker="w", lease_seconds=0)
    counts = delivery.deliver(batch, NOW)
    assert counts == {"released": 3}
    db.session.expire_all()
    assert statuses() == ["queued"] * 3
    assert set(db.session.scalars(select(Message.attempts))) == {0}
    assert tick(NOW)["sent"] == 3
    assert len(smtp_sink.wait_for(3)) == 3


def unsubscribe_while_rendering(monkeypatch, address: str) -> None:
    """The person at `address` unsubscribes while the worker renders their mail (after
    the batch was claimed and its suppressions read)."""
    real_render = rendering.render

    def render(message):
        if message.to_address == address:
            with db.engine.begin() as connection:
                connection.execute(
                    Suppression.__table__.insert().values(
                        email_hash=email_hash(address), reason="unsubscribed", detail="", created_at=NOW
                    )
                )
        return real_render(message)

    monkeypatch.setattr(rendering, "render", render)


def test_an_address_suppressed_while_the_batch_is_sent_gets_nothing(app, smtp_sink, monkeypatch):
    """Suppression is checked at send time, not only when the batch was claimed: an
    unsubscribe arriving while the previous mail is at the server stops the next one."""
    queue_test_mails("first@example.com", "leaves@example.com", "third@example.com")
    unsubscribe_while_rendering(monkeypatch, "leaves@example.com")
    counts = tick(NOW)
    assert counts["sent"] == 2 and counts["suppressed"] == 1
    assert [str(mail["To"]) for mail in smtp_sink.wait_for(2)] == ["first@example.com", "third@example.com"]
    assert status_by_address() == {
        "first@example.com": "sent",
        "leaves@example.com": "suppressed",
        "third@example.com": "sent",
    }


@pytest.mark.parametrize("before", [[], ["bounce@example.com"]], ids=["first-of-batch", "after-a-refusal"])
def test_suppression_is_checked_for_a_mail_no_sent_outcome_came_before(app, picky_sink, monkeypatch, before):
    """The first mail of a batch, and a mail after one the server refused, have no
    previous outcome to check with: they are checked on their own."""
    queue_test_mails(*before, "leaves@example.com", "stays@example.com")
    unsubscribe_while_rendering(monkeypatch, "leaves@example.com")
    counts = tick(NOW)
    assert counts["suppressed"] == 1 and counts["sent"] == 1
    assert status_by_address()["leaves@example.com"] == "suppressed"
    assert [str(mail["To"]) for mail in picky_sink.messages] == ["stays@example.com"]


def test_a_mail_still_at_the_server_when_the_lease_runs_low_is_abandoned_and_given_back(app, monkeypatch):
    """The lease's deadline is checked again just before the final ".": a slow server
    must not keep a mail going past the point where another worker may take it back."""
    sink = PickySink(delay=0.5)  # each MAIL FROM waits half a second
    try:
        monkeypatch.setattr(app.extensions["mail"], "port", sink.port)
        queue_test_mails("a@example.com", "b@example.com", "c@example.com")
        # A 1-second lease: its deadline (0.75 s) passes while the second mail's MAIL
        # FROM is held, after the first mail (0.5 s) went through.
        batch = delivery.claim(NOW, limit=10, worker="w", lease_seconds=1)
        counts = delivery.deliver(batch, NOW)
        assert sink.mail_started >= counts["sent"] + 1  # a mail was begun and abandoned
        assert counts["sent"] + counts["released"] == 3 and counts["released"] >= 2
        assert len(sink.messages) == counts["sent"]
        db.session.expire_all()
        assert sorted(status_by_address().values()) == sorted(
            ["sent"] * counts["sent"] + ["queued"] * counts["released"]
        )
    finally:
        sink.stop()


def test_a_claims_deadline_is_three_quarters_of_its_lease():
    queue_test_mails("a@example.com")
    started = time.monotonic()
    [job] = delivery.claim(NOW, limit=10, worker="w", lease_seconds=400)
    assert started + 300 <= job.lease_ends <= time.monotonic() + 300


def test_an_error_mid_batch_gives_the_unsent_hourly_budget_back(app, smtp_sink, monkeypatch):
    """The hourly budget is shared by every worker: a batch that ends in an error must
    give back what it did not send, or a few errors would stop all mail for an hour."""
    monkeypatch.setitem(app.config, "MAIL_RATE_PER_HOUR", 3)
    queue_test_mails("first@example.com", "second@example.com", "third@example.com")
    real_why_not = rendering.why_not

    def why_not_failing_for_second(message, now):
        if message.to_address == "second@example.com":
            raise RuntimeError("disk full")  # fault injection
        return real_why_not(message, now)

    monkeypatch.setattr(rendering, "why_not", why_not_failing_for_second)
    with pytest.raises(RuntimeError, match="disk full"):
        tick(NOW)
    monkeypatch.setattr(rendering, "why_not", real_why_not)
    expire_leases()
    assert tick(NOW)["sent"] == 2  # the two the budget still has room for
    assert len(smtp_sink.wait_for(3)) == 3


def test_the_next_mail_is_not_accepted_before_the_previous_outcome_is_committed(app, smtp_sink, monkeypatch):
    """The final "." of mail N+1 goes only after mail N's outcome is committed: when
    that commit fails, the server never accepts N+1 (its content was already sent)."""
    queue_test_mails("first@example.com", "second@example.com", "third@example.com")
    real_commit = Recorder._commit

    def commit_failing_for_the_first_sent(self, statement, params, check):
        if params and params.get("v_status") == "sent":
            raise RuntimeError("database went away")  # fault injection
        return real_commit(self, statement, params, check)

    monkeypatch.setattr(Recorder, "_commit", commit_failing_for_the_first_sent)
    batch = delivery.claim(NOW, limit=10, worker="w", lease_seconds=300)
    with pytest.raises(RuntimeError, match="database went away"):
        delivery.deliver(batch, NOW)
    # The server accepted only the first mail; the second's content arrived without its "."
    assert [str(mail["To"]) for mail in smtp_sink.wait_for(1)] == ["first@example.com"]
    assert len(smtp_sink.messages) == 1
    monkeypatch.setattr(Recorder, "_commit", real_commit)
    db.session.expire_all()
    assert statuses() == ["sending"] * 3  # nothing recorded: all wait for their lease


def test_a_paused_sequence_holds_its_queued_mail_until_it_is_resumed(smtp_sink):
    sequence, _lead = enrolled("held@example.com")
    delivery.materialise(NOW, limit=10)
    sequences.set_status(sequence.id, "paused", now=NOW)
    message = Message.query.one()
    assert (message.status, message.error, message.next_attempt_at) == (
        "queued",
        mailqueue.HELD,
        mailqueue.HELD_UNTIL,
    )
    # Held mail is not due: no pass claims it, however late (nothing churns).
    assert tick(NOW)["sent"] == 0
    assert tick(NOW + timedelta(days=30))["held"] == 0
    assert smtp_sink.messages == []

    # Resuming makes the held mail due at once.
    sequences.set_status(sequence.id, "active", now=NOW + timedelta(minutes=10))
    assert tick(NOW + timedelta(minutes=10))["sent"] == 1
    assert [str(mail["To"]) for mail in smtp_sink.wait_for(1)] == ["held@example.com"]


def test_mail_queued_again_after_the_pause_is_held_by_the_worker(smtp_sink):
    """A mail that was being sent when the sequence was paused, and came back to the
    queue after (a retry), is not caught by the pause's hold: the worker holds it."""
    sequence, _lead = enrolled("retried@example.com")
    delivery.materialise(NOW, limit=10)
    [job] = delivery.claim(NOW, limit=10, worker="w", lease_seconds=300)
    sequences.set_status(sequence.id, "paused", now=NOW)
    db.session.execute(update(Message).values(status="queued", claimed_by="", attempts=1))
    db.session.commit()
    counts = tick(NOW)
    assert counts["sent"] == 0 and counts["held"] == 1
    message = Message.query.one()
    assert (message.status, message.attempts, message.error) == ("queued", 1, mailqueue.HELD)
    assert message.next_attempt_at == NOW + mailqueue.HOLD
    sequences.set_status(sequence.id, "active", now=NOW)
    assert tick(NOW)["sent"] == 1


def test_an_archived_sequences_queued_mail_is_skipped(smtp_sink):
    sequence, _lead = enrolled("archived@example.com")
    delivery.materialise(NOW, limit=10)
    sequences.set_status(sequence.id, "archived", now=NOW)
    assert tick(NOW)["skipped"] == 1
    assert Message.query.one().status == "skipped"
    assert smtp_sink.messages == []


def test_an_address_that_needs_smtputf8_fails_with_its_reason_and_the_batch_goes_on(smtp_sink):
    """Gated's forms take an address with a non-ASCII name before the @; carrying it
    needs SMTPUTF8. That mail fails, visibly, and the mail after it still goes."""
    queue_test_mails("a@example.com", "用户@例子.中国", "z@example.com", "lead@例子.中国")
    counts = tick(NOW)
    assert counts["sent"] == 3 and counts["failed"] == 1
    assert status_by_address() == {
        "a@example.com": "sent",
        "用户@例子.中国": "failed",
        "z@example.com": "sent",
        "lead@例子.中国": "sent",  # an internationalised domain alone goes, in punycode
    }
    failed = db.session.scalar(select(Message.error).where(Message.status == "failed"))
    assert "SMTPUTF8" in failed
    assert sorted(str(mail["To"]) for mail in smtp_sink.wait_for(3)) == [
        "a@example.com",
        "lead@xn--fsqu00a.xn--fiqs8s",
        "z@example.com",
    ]


def test_a_mail_that_cannot_be_built_waits_with_its_reason_then_fails_and_the_rest_go(
    app, smtp_sink, monkeypatch
):
    """An error no one foresaw while building one mail (here a locale set behind the
    form's back) must not stop the pass at that mail, over and over: the mail waits for
    a retry with its reason, fails after MAIL_MAX_ATTEMPTS, and the rest go."""
    monkeypatch.setitem(app.config, "MAIL_MAX_ATTEMPTS", 2)
    sequence, _lead = enrolled("broken@example.com")
    db.session.execute(update(type(sequence)).values(locale="xx-nowhere"))
    db.session.commit()
    queue_test_mails("buyer@example.com")
    first = tick(NOW)
    assert first["sent"] == 1 and first["retry"] == 1
    assert status_by_address() == {"buyer@example.com": "sent", "broken@example.com": "queued"}
    error = db.session.scalar(select(Message.error).where(Message.to_address == "broken@example.com"))
    assert error.startswith("could not build: ") and "xx" in error
    assert tick(NOW + timedelta(hours=1))["failed"] == 1
    assert status_by_address()["broken@example.com"] == "failed"
    later = tick(NOW + timedelta(days=1))  # nothing left to try
    assert (later["sent"], later["retry"], later["failed"]) == (0, 0, 0)
    assert [str(mail["To"]) for mail in smtp_sink.wait_for(1)] == ["buyer@example.com"]


def test_a_mail_whose_worker_died_every_time_fails_after_the_attempts(app, smtp_sink, monkeypatch):
    """A mail claimed again each time its lease ran out (the worker sending it was
    killed or hung, perhaps after the server took it) is not tried forever."""
    monkeypatch.setitem(app.config, "MAIL_MAX_ATTEMPTS", 3)
    queue_test_mails("fatal@example.com")
    for _attempt in range(3):
        assert len(delivery.claim(NOW, limit=10, worker="dies", lease_seconds=300)) == 1
        expire_leases()
    counts = tick(NOW)
    assert counts["failed"] == 1 and counts["sent"] == 0
    message = db.session.scalars(select(Message)).one()
    assert (message.status, message.attempts) == ("failed", 4)
    assert message.error == "gave up after 3 attempts: the worker stopped while sending it"
    assert smtp_sink.wait_for(1, timeout=0.3) == []


def test_a_mail_queued_before_the_lead_was_enrolled_again_is_not_sent_twice(smtp_sink):
    """Held while the sequence was paused, the first round's step 1 outlives the lead's
    removal and re-enrollment: the new round sends step 1 once, the old copy is skipped."""
    from nurture import enrolling

    sequence, lead = enrolled("again@example.com")
    delivery.materialise(NOW, limit=10)  # round 1's step 1, queued
    sequences.set_status(sequence.id, "paused", now=NOW)  # and held
    exits.exit_lead(lead.id, "removed", now=NOW, sequence_id=sequence.id)
    enrolling.enroll_lead(db.session.get(type(lead), lead.id), sequence.id, now=NOW, again=True)
    db.session.commit()
    sequences.set_status(sequence.id, "active", now=NOW)
    counts = tick(NOW)
    assert counts["sent"] == 1 and counts["skipped"] == 1
    # tick returns once the server has answered every mail: all that went is here.
    assert [mail["Subject"] for mail in smtp_sink.messages] == ["李雷,第一封"]
    rounds = dict(db.session.execute(select(Message.round, Message.status)).all())
    assert rounds == {1: "skipped", 2: "sent"}
    skipped = db.session.scalar(select(Message.error).where(Message.round == 1))
    assert skipped == "from an earlier enrollment in the sequence"


def test_an_enrollment_that_cannot_be_scheduled_leaves_with_a_reason_and_the_rest_still_go(smtp_sink):
    """A window that slipped past validation (or a bug) fails for each of its
    enrollments: they leave the sequence with a reason the admin shows, and the pass
    goes on for every other sequence and for transactional mail, now and next time."""
    broken, broken_lead = enrolled("broken@example.com")
    db.session.execute(update(type(broken)).values(timezone="Mars/Olympus_Mons"))  # past the form
    db.session.commit()
    _fine, _ = enrolled("fine@example.com", slug="fine")
    queue_test_mails("buyer@example.com")
    counts = tick(NOW)
    assert counts["error"] == 1 and counts["sent"] == 2
    assert sorted(str(mail["To"]) for mail in smtp_sink.wait_for(2)) == [
        "buyer@example.com",
        "fine@example.com",
    ]
    enrollment = db.session.scalars(select(Enrollment).where(Enrollment.lead_id == broken_lead.id)).one()
    assert (enrollment.status, enrollment.exit_reason) == ("exited", materialising.CANNOT_SCHEDULE)
    assert enrollment.next_send_at is None
    assert tick(NOW + timedelta(minutes=1))["error"] == 0  # not picked again


def test_a_download_condition_whose_asset_yaml_made_a_number_still_works():
    """`asset: 2024` in a sequence file is a number to YAML; the slug it names is text."""
    from gated.models import Download
    from tests.factories import AssetFactory

    steps = [
        {"delay": "0h", "subject": "S", "body": "B", "condition": {"skip_if": "downloaded", "asset": "2024"}}
    ]
    sequence, lead = enrolled(steps=steps)
    step = Step.query.filter_by(sequence_id=sequence.id).one()
    step.condition = {"skip_if": "downloaded", "asset": 2024}  # as a YAML import could store it
    asset = AssetFactory(slug="2024")
    db.session.add(Download(lead_id=lead.id, asset_id=asset.id))
    db.session.commit()
    assert delivery.materialise(NOW, limit=10)["skipped"] == 1
