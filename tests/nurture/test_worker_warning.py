"""The "mail is not going out" warning: due sequence steps count as due mail even
before a worker has turned them into messages (only a worker does that)."""

from datetime import timedelta

import pytest

from core.extensions import db
from core.timeutil import utcnow
from nurture import enrolment, sequences, stats
from nurture.models import Enrollment, Message
from tests.nurture.conftest import make_lead, make_sequence, tick

pytestmark = pytest.mark.usefixtures("app")

ALWAYS = {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "00:00", "end": "24:00"}


def due_enrollment(status="active"):
    """One lead enrolled an hour ago in a sequence whose first step is due at once; no message yet."""
    sequence = make_sequence(send_window=dict(ALWAYS, timezone="Asia/Shanghai"), status=status)
    enrolment.enroll([make_lead().id], sequence.id, now=utcnow() - timedelta(hours=1))
    if status != "active":
        sequences.set_status(sequence.id, status, now=utcnow())
    assert Message.query.count() == 0
    return sequence


def test_a_due_step_with_no_worker_ever_run_is_due_mail():
    due_enrollment()
    state = stats.mail_status(utcnow())
    assert (state["due"], state["due_messages"], state["due_steps"]) == (1, 0, 1)
    assert state["worker_stale"] is True and state["no_worker_seen"] is True
    warning = stats.worker_warning()
    assert "1" in warning and "flask nurture worker" in warning


def test_a_step_not_yet_due_or_paused_is_not_due():
    sequence = due_enrollment(status="paused")
    assert stats.mail_status(utcnow())["due"] == 0
    sequences.set_status(sequence.id, "active", now=utcnow())
    enrollment = Enrollment.query.one()
    enrollment.next_send_at = utcnow() + timedelta(hours=1)
    db.session.commit()
    assert stats.mail_status(utcnow())["due"] == 0
    assert stats.worker_warning() is None


def test_banner_on_the_admin_overview_and_the_nurture_admin(login_as, smtp_sink):
    due_enrollment()
    marketer = login_as("marketer")
    overview = marketer.get("/admin/").get_data(as_text=True)
    assert 'class="flash flash-warning"' in overview and "flask nurture worker" in overview
    assert "邮件没有发出。" in overview  # the headline, translated like the rest of the page
    nurture = marketer.get("/admin/nurture/").get_data(as_text=True)
    assert 'class="nurture-banner"' in nurture and "flask nurture worker" in nurture
    tick(utcnow())  # a worker runs: the step goes out and the warning goes away
    assert smtp_sink.wait_for(1)
    assert "flash-warning" not in marketer.get("/admin/").get_data(as_text=True)
    assert 'class="nurture-banner"' not in marketer.get("/admin/nurture/").get_data(as_text=True)


def test_healthz_fails_while_a_due_step_waits_for_a_worker(client, smtp_sink):
    due_enrollment()
    response = client.get("/healthz")
    health = response.get_json()["checks"]["mail_queue"]
    assert response.status_code == 503 and health["ok"] is False and health["due"] == 1
    tick(utcnow())
    assert client.get("/healthz").get_json()["checks"]["mail_queue"]["ok"] is True


def test_the_health_check_sees_due_steps():
    due_enrollment()
    health = stats.health_check()
    assert health["ok"] is False and health["due_steps"] == 1
