"""What a sequence shows and does over its life, through real ticks, a real SMTP sink
and the real routes: per-step figures (functions and the admin page's cells), the queue's
ETA, skip conditions, delays counted from the enrollment, pause, resume and archive
from the admin, a complaint from the provider's webhook, a click on the lead's timeline."""

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from core.extensions import db
from core.timeutil import utcnow
from gated.models import Download
from nurture import enrolment, mailqueue, stats, tracking
from nurture.models import Enrollment, Message, Suppression
from tests.factories import make_whitepaper
from tests.nurture.conftest import MONDAY_10_SHANGHAI, mail_to, make_lead, make_sequence, tick, tracking_path

pytestmark = pytest.mark.usefixtures("app")
NOW = MONDAY_10_SHANGHAI
TWO_STEPS = [
    {"delay": "0h", "subject": "一", "body": "[看看](https://example.com/a)"},
    {"delay": "1d", "subject": "二", "body": "2"},
]


def figure_cells(page: str) -> list[list[str]]:
    """The per-step table of the sequence page: each row's number cells, tags removed."""
    table = page.split('class="nurture-table figures"')[1].split("</table>")[0]
    rows = table.split("<tbody>")[1].split("</tr>")[:-1]
    return [
        [re.sub(r"<[^>]+>", "", cell).split()[0] for cell in re.findall(r'<td class="num">(.*?)</td>', row)]
        for row in rows
    ]


def test_per_step_figures_in_the_functions_and_on_the_page(client, login_as, picky_sink, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_EVENTS_TOKEN", "events-token")
    sequence = make_sequence(steps=TWO_STEPS)
    addresses = ["opens@example.com", "clicks@example.com", "bounce@example.com", "spam@example.com"]
    addresses += ["later@example.com", "complains@example.com"]
    enrolment.enroll([make_lead(address).id for address in addresses], sequence.id, now=NOW)
    tick(NOW)
    assert client.get(tracking_path(mail_to(picky_sink, "opens@example.com"), "o")).status_code == 200
    assert client.get(tracking_path(mail_to(picky_sink, "clicks@example.com"), "c")).status_code == 302
    complaint = {"type": "complaint", "email": "complains@example.com"}
    response = client.post(
        "/api/mail/events", json=complaint, headers={"Authorization": "Bearer events-token"}
    )
    assert response.status_code == 200

    first, second = stats.step_figures(sequence)
    # later: 451, queued for a retry; bounce: 550, failed and bounced; spam: 554, failed;
    # complains: sent, then its complaint marks the mail (a complaint counts as a bounce).
    expected = {"queued": 1, "sent": 3, "opened": 2, "clicked": 1, "unsubscribed": 0}
    expected |= {"bounced": 2, "failed": 2, "skipped": 0, "suppressed": 0}
    assert {key: first[key] for key in expected} == expected
    assert (first["open_rate"], first["click_rate"]) == (2 / 3, 1 / 3)
    # Still on their way: opens, clicks, spam, later; bounce and complains left.
    assert (first["waiting"], second["waiting"]) == (0, 4)
    assert {key: second[key] for key in expected} == dict.fromkeys(expected, 0)
    assert second["open_rate"] is None

    page = login_as("marketer").get(f"/admin/nurture/{sequence.id}").get_data(as_text=True)
    # waiting, queued, sent, opened, clicked, unsubscribed, bounced, failed, skipped
    assert figure_cells(page) == [
        ["0", "1", "3", "2", "1", "0", "2", "2", "0"],
        ["4", "0", "0", "0", "0", "0", "0", "0", "0"],
    ]
    assert "67%" in page and "33%" in page


def test_the_queue_page_eta_at_the_rate_of_the_last_hour(app, login_as, monkeypatch):
    marketer = login_as("marketer")
    now = utcnow()
    for number in range(130):
        message = mailqueue.add_mail(to=f"q{number}@example.com", template="x", context={}, now=now)
        if number < 120:  # sent in the last hour: 2 a minute
            message.status, message.sent_at = "sent", now - timedelta(minutes=30)
    db.session.commit()
    queue = stats.queue(now)
    assert (queue["due"], queue["sent_last_hour"], queue["rate_per_minute"]) == (10, 120, 2.0)
    assert queue["eta"] == timedelta(minutes=5)
    page = marketer.get("/admin/nurture/queue").get_data(as_text=True)
    assert "0:05:00" in page and "2.0" in page

    Message.query.filter_by(status="sent").delete()
    db.session.commit()
    monkeypatch.setitem(app.config, "MAIL_RATE_PER_SECOND", 0)
    assert stats.queue(now)["eta"] is None  # nothing sent lately and no rate set: unknown
    assert "—" in marketer.get("/admin/nurture/queue").get_data(as_text=True)
    monkeypatch.setitem(app.config, "MAIL_RATE_PER_SECOND", 5)
    assert stats.queue(now)["eta"] == timedelta(seconds=2)  # the best the setting allows


def test_skip_if_downloaded(smtp_sink):
    _, asset = make_whitepaper(sequence_slug="")
    steps = [
        {"delay": "0h", "subject": "一", "body": "1"},
        {
            "delay": "1d",
            "subject": "下载了吗",
            "body": "2",
            "condition": {"skip_if": "downloaded", "asset": asset.slug},
        },
        {"delay": "1d", "subject": "三", "body": "3"},
    ]
    sequence = make_sequence(steps=steps)
    has, hasnt = make_lead("has@example.com"), make_lead("hasnt@example.com")
    enrolment.enroll([has.id, hasnt.id], sequence.id, now=NOW)
    tick(NOW)
    db.session.add(Download(lead_id=has.id, asset_id=asset.id, created_at=NOW + timedelta(hours=1)))
    db.session.commit()
    tick(NOW + timedelta(days=1))
    tick(NOW + timedelta(days=2))
    subjects = {address: [] for address in ("has@example.com", "hasnt@example.com")}
    for mail in smtp_sink.wait_for(5):
        subjects[mail["To"]].append(str(mail["Subject"]))
    assert subjects == {"has@example.com": ["一", "三"], "hasnt@example.com": ["一", "下载了吗", "三"]}
    skipped = Message.query.filter_by(status="skipped").one()
    assert (skipped.to_address, skipped.error) == ("has@example.com", "condition: downloaded")
    assert stats.step_figures(sequence)[1]["skipped"] == 1


def test_skip_if_opened_previous(client, smtp_sink):
    steps = [
        {"delay": "0h", "subject": "一", "body": "1"},
        {"delay": "1d", "subject": "没打开", "body": "2", "condition": {"skip_if": "opened_previous"}},
    ]
    sequence = make_sequence(steps=steps)
    enrolment.enroll(
        [make_lead("opens@example.com").id, make_lead("not@example.com").id], sequence.id, now=NOW
    )
    tick(NOW)
    assert client.get(tracking_path(mail_to(smtp_sink, "opens@example.com"), "o")).status_code == 200
    tick(NOW + timedelta(days=1))
    mails = smtp_sink.wait_for(3)
    assert sorted((mail["To"], str(mail["Subject"])) for mail in mails) == [
        ("not@example.com", "一"),
        ("not@example.com", "没打开"),
        ("opens@example.com", "一"),
    ]
    assert {e.status for e in Enrollment.query.all()} == {"completed"}


def test_a_delay_from_the_enrollment_ignores_a_late_previous_send(smtp_sink):
    steps = [
        {"delay": "1d", "subject": "一", "body": "1"},
        {"delay": "2d", "from": "enrollment", "subject": "二", "body": "2"},
        {"delay": "1h", "subject": "三", "body": "3"},
    ]
    sequence = make_sequence(steps=steps)
    enrolment.enroll([make_lead().id], sequence.id, now=NOW)  # Monday 10:00 in Shanghai
    assert tick(NOW + timedelta(days=1, hours=7))["sent"] == 1  # the worker was late: Tuesday 17:00
    enrollment = Enrollment.query.one()
    assert enrollment.next_send_at == NOW + timedelta(days=2)  # Wednesday 10:00, not Thursday 17:00
    assert tick(NOW + timedelta(days=2) - timedelta(minutes=1))["sent"] == 0
    assert tick(NOW + timedelta(days=2))["sent"] == 1
    db.session.expire_all()
    assert enrollment.next_send_at == NOW + timedelta(days=2, hours=1)  # from the previous send again
    assert tick(NOW + timedelta(days=2, hours=1))["sent"] == 1
    assert [str(mail["Subject"]) for mail in smtp_sink.wait_for(3)] == ["一", "二", "三"]


def test_pause_resume_and_archive_through_the_admin(login_as, smtp_sink):
    marketer = login_as("marketer")
    sequence = make_sequence(steps=TWO_STEPS)
    enrolment.enroll([make_lead().id], sequence.id, now=NOW)

    def set_status(status):
        response = marketer.post(f"/admin/nurture/{sequence.id}/status", data={"status": status})
        assert response.status_code == 302
        db.session.expire_all()

    set_status("paused")
    assert tick(NOW)["sent"] == 0 and Enrollment.query.one().status == "active"
    set_status("active")
    assert tick(NOW)["sent"] == 1
    set_status("archived")
    enrollment = Enrollment.query.one()
    assert (enrollment.status, enrollment.exit_reason, enrollment.next_send_at) == ("exited", "removed", None)
    assert tick(NOW + timedelta(days=7))["sent"] == 0
    assert len(smtp_sink.wait_for(2, timeout=0.3)) == 1
    assert marketer.post(f"/admin/nurture/{sequence.id}/status", data={"status": "gone"}).status_code == 400


def test_a_complaint_through_the_webhook_ends_the_enrollment_and_suppresses(
    app, client, smtp_sink, monkeypatch
):
    monkeypatch.setitem(app.config, "MAIL_EVENTS_TOKEN", "events-token")
    sequence = make_sequence(steps=TWO_STEPS)
    enrolment.enroll([make_lead("Angry@Example.com").id], sequence.id, now=NOW)
    tick(NOW)
    [mail] = smtp_sink.wait_for(1)
    event = {"type": "complaint", "email": "angry@example.com", "message_id": mail["Message-ID"]}
    response = client.post("/api/mail/events", json=event, headers={"Authorization": "Bearer events-token"})
    assert response.status_code == 200
    db.session.expire_all()
    enrollment = Enrollment.query.one()
    assert (enrollment.status, enrollment.exit_reason) == ("exited", "complained")
    assert Suppression.query.one().reason == "complained"
    assert Message.query.one().bounced_at is not None
    assert tick(NOW + timedelta(days=3))["sent"] == 0
    # Mail queued by anyone for the address afterwards is stopped at send time.
    mailqueue.add_mail(to="angry@example.com", template="x", context={}, now=NOW + timedelta(days=3))
    db.session.commit()
    assert tick(NOW + timedelta(days=3))["suppressed"] == 1
    assert len(smtp_sink.wait_for(2, timeout=0.3)) == 1


def test_a_click_appears_on_the_leads_timeline(client, login_as, smtp_sink):
    lead = make_lead()
    sequence = make_sequence(steps=TWO_STEPS)
    enrolment.enroll([lead.id], sequence.id, now=NOW)
    tick(NOW)
    [mail] = smtp_sink.wait_for(1)
    response = client.get(tracking_path(mail, "c"))
    assert response.status_code == 302 and response.headers["Location"] == "https://example.com/a"
    message = db.session.scalar(select(Message))
    assert (message.click_count, message.clicked_at is not None, message.opened_at is not None) == (
        1,
        True,
        True,
    )
    kinds = [event["kind"] for event in tracking.lead_timeline(lead.id)]
    assert kinds == ["mail_sent", "mail_opened", "mail_clicked"]
    page = login_as("marketer").get(f"/admin/leads/{lead.id}").get_data(as_text=True)
    assert "一" in page and f"/admin/nurture/messages/{message.id}" in page
    assert page.count(f"/admin/nurture/messages/{message.id}") >= 3  # sent, opened, clicked


def test_a_day_after_a_send_across_the_spring_change_keeps_the_clock_time(smtp_sink):
    london = {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "09:00", "end": "18:00"}
    sequence = make_sequence(steps=TWO_STEPS, send_window=dict(london, timezone="Europe/London"))
    saturday_1730 = datetime(2026, 3, 28, 17, 30)  # GMT: UTC
    enrolment.enroll([make_lead().id], sequence.id, now=saturday_1730)
    assert tick(saturday_1730)["sent"] == 1
    sunday_1730_bst = datetime(2026, 3, 29, 16, 30)
    assert Enrollment.query.one().next_send_at == sunday_1730_bst  # not Monday 09:00
    assert tick(sunday_1730_bst - timedelta(minutes=1))["sent"] == 0
    assert tick(sunday_1730_bst)["sent"] == 1
    assert [str(mail["Subject"]) for mail in smtp_sink.wait_for(2)] == ["一", "二"]
