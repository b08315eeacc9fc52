"""The marketer admin: build a sequence in the browser, preview, test-send, activate,
figures, enroll, the message log, the queue, suppressions and the Outbox."""

from datetime import timedelta

import pytest
from flask import current_app

from core.extensions import db
from core.timeutil import utcnow
from gated import signals
from nurture import enrolment, exits, mailqueue
from nurture.models import Enrollment, Message, Sequence, Suppression
from tests.nurture.conftest import MONDAY_10_SHANGHAI, make_lead, make_sequence, sequence_form, tick

pytestmark = pytest.mark.usefixtures("app")


def test_only_marketers_and_admins(login_as, client):
    assert client.get("/admin/nurture/").status_code == 302
    assert login_as("editor").get("/admin/nurture/").status_code == 403
    assert login_as("sales").get("/admin/nurture/queue").status_code == 403
    assert login_as("marketer").get("/admin/nurture/").status_code == 200
    assert login_as("admin").get("/admin/nurture/").status_code == 200


def test_build_preview_test_send_and_activate_in_the_browser(login_as, smtp_sink):
    marketer = login_as("marketer", email="marketer@example.com")
    page = marketer.get("/admin/nurture/new")
    assert page.status_code == 200 and 'name="steps-0-subject"' in page.get_data(as_text=True)

    preview = marketer.post("/admin/nurture/preview", data=sequence_form(step="0"))
    assert preview.status_code == 200
    assert "王小明,第一封" in preview.get_data(as_text=True)
    assert "<!DOCTYPE html>" in preview.get_data(as_text=True)
    assert "unsafe-inline" in preview.headers["Content-Security-Policy"]
    assert "script" not in preview.headers["Content-Security-Policy"]

    sent = marketer.post("/admin/nurture/test-send", data=sequence_form(step="0"))
    assert sent.status_code == 200 and "marketer@example.com" in sent.get_data(as_text=True)
    assert tick(utcnow())["sent"] == 1
    [mail] = smtp_sink.wait_for(1)
    assert mail["To"] == "marketer@example.com" and mail["Subject"].startswith(
        "【测试】"
    )  # a Chinese sequence

    saved = marketer.post("/admin/nurture/new", data=sequence_form())
    assert saved.status_code == 302
    sequence = Sequence.query.filter_by(slug="browser-built").one()
    assert sequence.status == "draft"
    assert [s.subject for s in sequence.steps] == [
        "{{ lead.first_name or '您好' }},第一封",
        "第二封",
        "第三封",
    ]
    assert sequence.steps[1].condition == {"skip_if": "clicked_previous"}

    detail = marketer.get(saved.headers["Location"])
    assert detail.status_code == 200 and "第三封" in detail.get_data(as_text=True)
    # The steps' subjects as the sample lead reads them, not their template code.
    assert "王小明,第一封" in detail.get_data(as_text=True) and "{{" not in detail.get_data(as_text=True)
    assert marketer.post(f"/admin/nurture/{sequence.id}/status", data={"status": "active"}).status_code == 302
    db.session.refresh(sequence)
    assert sequence.status == "active"

    edit = marketer.get(f"/admin/nurture/{sequence.id}/edit")
    assert edit.status_code == 200 and "第三封正文" in edit.get_data(as_text=True)


def test_a_broken_step_is_refused_with_its_reason(login_as):
    marketer = login_as("marketer")
    response = marketer.post(
        "/admin/nurture/new", data=sequence_form(**{"steps-1-body": "{{ lead.compnay }}"})
    )
    assert response.status_code == 422
    assert "compnay" in response.get_data(as_text=True)
    assert Sequence.query.count() == 0
    preview = marketer.post(
        "/admin/nurture/preview", data=sequence_form(step="1", **{"steps-1-body": "{{ lead.compnay }}"})
    )
    assert preview.status_code == 200 and "compnay" in preview.get_data(as_text=True)


def test_csrf_is_required_on_admin_posts(make_app, login_as):
    strict = make_app(WTF_CSRF_ENABLED=True)
    with strict.app_context():
        client = login_as("marketer", client=strict.test_client())
        assert client.post("/admin/nurture/new", data=sequence_form()).status_code in (400, 422)
        assert Sequence.query.count() == 0


def test_figures_enroll_remove_and_export(login_as, smtp_sink):
    marketer = login_as("marketer")
    sequence = make_sequence()
    first = make_lead("one@example.com")
    make_lead("two@example.com")
    response = marketer.post(
        f"/admin/nurture/{sequence.id}/enroll",
        data={"leads": f"{first.id}\ntwo@example.com, nobody@example.com"},
    )
    assert response.status_code == 302
    assert Enrollment.query.count() == 2
    tick(max(enrollment.next_send_at for enrollment in Enrollment.query))
    page = marketer.get(f"/admin/nurture/{sequence.id}?lang=en").get_data(as_text=True)
    assert "one@example.com" in page and page.count("1 of 2 sent") == 2
    assert marketer.post(f"/admin/nurture/{sequence.id}/leads/{first.id}/remove").status_code == 302
    assert Enrollment.query.filter_by(lead_id=first.id).one().exit_reason == "removed"
    exported = marketer.get(f"/admin/nurture/{sequence.id}/export")
    assert exported.status_code == 200 and b"slug: follow" in exported.data


def test_message_log_and_a_mail_as_sent(login_as, smtp_sink):
    marketer = login_as("marketer")
    sequence = make_sequence()
    enrolment.enroll([make_lead().id], sequence.id, now=MONDAY_10_SHANGHAI)
    tick(MONDAY_10_SHANGHAI)
    message = Message.query.one()
    log = marketer.get("/admin/nurture/messages?status=sent").get_data(as_text=True)
    assert "lead@example.com" in log
    page = marketer.get(f"/admin/nurture/messages/{message.id}")
    assert page.status_code == 200 and message.message_id.strip("<>") in page.get_data(as_text=True)
    frame = marketer.get(f"/admin/nurture/messages/{message.id}/html")
    assert "<!DOCTYPE html>" in frame.get_data(as_text=True)
    assert frame.headers["X-Frame-Options"] == "SAMEORIGIN"


def test_queue_page_and_worker_warning(login_as):
    marketer = login_as("marketer")
    lead = make_lead()
    mailqueue.add_mail(
        to=lead.email, template="x", context={}, lead_id=lead.id, now=utcnow() - timedelta(minutes=5)
    )
    db.session.commit()
    page = marketer.get("/admin/nurture/queue").get_data(as_text=True)
    assert 'class="nurture-banner"' in page
    tick(utcnow() + timedelta(days=365))  # a worker ran (the mail fails: no such template)
    page = marketer.get("/admin/nurture/queue").get_data(as_text=True)
    assert 'class="nurture-banner"' not in page
    assert "could not render" in page


def test_suppressions_page(login_as):
    marketer = login_as("marketer")
    assert marketer.post("/admin/nurture/suppressions", data={"email": "no@example.com"}).status_code == 302
    assert Suppression.query.one().reason == "manual"
    assert (
        marketer.post(f"/admin/nurture/suppressions/{Suppression.query.one().id}/remove").status_code == 403
    )
    admin = login_as("admin")
    assert admin.post(f"/admin/nurture/suppressions/{Suppression.query.one().id}/remove").status_code == 302
    assert Suppression.query.count() == 0


def test_outbox_lists_and_shows_caught_mail(app, login_as, smtp_sink):
    from pathlib import Path

    marketer = login_as("marketer")
    sequence = make_sequence()
    enrolment.enroll([make_lead().id], sequence.id, now=MONDAY_10_SHANGHAI)
    tick(MONDAY_10_SHANGHAI)
    outbox = Path(app.config["OUTBOX_DIR"])
    outbox.mkdir(parents=True, exist_ok=True)
    name = "1700000000.123456-abcdef01.eml"
    (outbox / name).write_bytes(smtp_sink.envelopes[0].original_content)
    try:
        listing = marketer.get("/admin/nurture/outbox").get_data(as_text=True)
        assert name in listing and "lead@example.com" in listing
        page = marketer.get(f"/admin/nurture/outbox/{name}")
        assert page.status_code == 200 and "List-Unsubscribe" in page.get_data(as_text=True)
        frame = marketer.get(f"/admin/nurture/outbox/{name}/html")
        assert "<!DOCTYPE html>" in frame.get_data(as_text=True)
        assert "default-src 'none'" in frame.headers["Content-Security-Policy"]
        assert marketer.get("/admin/nurture/outbox/..%2Fsecret_key").status_code == 404
        assert marketer.get("/admin/nurture/outbox/nope.eml").status_code == 404
    finally:
        (outbox / name).unlink()


def test_enroll_a_filtered_list(login_as):
    marketer = login_as("marketer")
    sequence = make_sequence()
    make_lead("mql@example.com", stage="mql", source="baidu")
    make_lead("new@example.com", stage="new", source="baidu")
    make_lead("noconsent@example.com", stage="mql", source="baidu", consent=False)
    response = marketer.post(
        f"/admin/nurture/{sequence.id}/enroll-filtered", data={"stage": "mql", "source": "bai", "since": ""}
    )
    assert response.status_code == 302
    assert [e.lead.email for e in Enrollment.query.all()] == ["mql@example.com"]
    assert (
        marketer.post(f"/admin/nurture/{sequence.id}/enroll-filtered", data={"stage": "nope"}).status_code
        == 302
    )
    assert Enrollment.query.count() == 1


@pytest.mark.parametrize(
    ("reason", "zh", "en"),
    [
        ("stage", "已交给销售", "handed to sales"),
        ("removed", "被移出序列", "removed from the sequence"),
        ("suppressed", "地址已屏蔽", "address suppressed"),
    ],
)
def test_why_a_lead_left_a_sequence_is_a_translated_label(login_as, reason, zh, en):
    marketer = login_as("marketer")
    sequence = make_sequence()
    lead = make_lead()
    enrolment.enroll([lead.id], sequence.id, now=MONDAY_10_SHANGHAI)
    exits.exit_lead(lead.id, reason, now=MONDAY_10_SHANGHAI)
    for page in (f"/admin/leads/{lead.id}", f"/admin/nurture/{sequence.id}"):
        chinese = marketer.get(f"{page}?lang=zh_CN").get_data(as_text=True)
        assert zh in chinese and f'<span class="help">{reason}</span>' not in chinese
        assert en in marketer.get(f"{page}?lang=en").get_data(as_text=True)


@pytest.mark.parametrize("lead_exists", [True, False])
def test_a_mail_without_an_address_says_so_in_the_admin_language(app, login_as, lead_exists):
    lead = make_lead("")
    lead_id = lead.id if lead_exists else lead.id + 1000
    signals.mail_requested.send(
        current_app._get_current_object(), lead_id=lead_id, template="gated/email/download_link", context={}
    )
    db.session.commit()
    message = Message.query.one()
    marketer = login_as("marketer")
    zh = "该线索没有邮箱地址" if lead_exists else f"没有邮箱地址：线索 {lead_id} 不存在"
    en = "The lead has no email address" if lead_exists else f"No email address: there is no lead {lead_id}"
    for page in (
        "/admin/nurture/queue",
        "/admin/nurture/messages?status=failed",
        f"/admin/nurture/messages/{message.id}",
    ):
        joiner = "&" if "?" in page else "?"
        assert zh in marketer.get(f"{page}{joiner}lang=zh_CN").get_data(as_text=True)
        assert en in marketer.get(f"{page}{joiner}lang=en").get_data(as_text=True)


@pytest.mark.parametrize(("count", "button"), [(1, "Enroll 1 lead<"), (2, "Enroll 2 leads<")])
def test_the_bulk_enroll_button_counts_in_the_singular_and_the_plural(login_as, count, button):
    marketer = login_as("marketer")
    sequence = make_sequence()
    for number in range(count):
        make_lead(f"fair{number}@example.com", source="fair-2026")
    page = marketer.get(
        "/admin/nurture/leads/enroll",
        query_string={"source": "fair-2026", "sequence": sequence.id, "lang": "en"},
    ).get_data(as_text=True)
    assert button in page
    assert f"The filtered list has {count} {'lead' if count == 1 else 'leads'};" in page


def test_a_sequence_page_speaks_words_not_codes(login_as):
    sequence = make_sequence(
        trigger={"asset": "saas-renewal"},
        send_window={
            "days": ["mon", "wed"],
            "start": "09:00",
            "end": "18:00",
            "timezone": "America/New_York",
        },
        steps=[
            {"delay": "0h", "subject": "第一封", "body": "正文"},
            {
                "delay": "2d",
                "subject": "第二封",
                "body": "正文",
                "condition": {"skip_if": "clicked_previous"},
            },
        ],
    )
    from tests.factories import AssetFactory

    page = login_as("marketer").get(f"/admin/nurture/{sequence.id}?lang=zh_CN").get_data(as_text=True)
    # An asset the site no longer has is named by its slug; one it has, by its title.
    assert "触发方式：下载资料“saas-renewal”" in page
    AssetFactory(slug="saas-renewal", title="SaaS 续费指南")
    page = login_as("marketer").get(f"/admin/nurture/{sequence.id}?lang=zh_CN").get_data(as_text=True)
    assert "触发方式：下载资料“SaaS 续费指南”" in page
    assert "发送时段：周一和周三 09:00–18:00（北美东部时间）" in page
    assert "跳过条件：线索点击了上一封邮件" in page
    listed = login_as("marketer").get("/admin/nurture/?lang=en").get_data(as_text=True)
    assert "download of an asset “SaaS 续费指南”" in listed


def test_a_caught_mail_reads_in_chinese_with_the_raw_headers_folded_away(app, login_as):
    from pathlib import Path

    outbox = Path(app.config["OUTBOX_DIR"])
    outbox.mkdir(parents=True, exist_ok=True)
    name = "1700000001.000001-abcdef02.eml"
    (outbox / name).write_bytes(
        b"From: Lodestar <hello@example.com>\r\nTo: lead@example.cn\r\n"
        b"Subject: =?utf-8?b?5oKo55qE6LWE5paZ?=\r\nDate: Sat, 05 Dec 2026 23:30:00 -0000\r\n"
        b"Message-ID: <abc@example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhello\r\n"
    )
    try:
        page = login_as("marketer").get(f"/admin/nurture/outbox/{name}?lang=zh_CN").get_data(as_text=True)
        summary, _sep, raw = page.partition("<details>")
        assert "<h1>您的资料</h1>" in summary
        assert "<dt>发件人</dt><dd>Lodestar &lt;hello@example.com&gt;</dd>" in summary
        assert "<dt>发送时间</dt><dd>2026年12月6日 07:30</dd>" in summary
        assert "-0000" not in summary and "Message-ID" not in summary and "HTML" not in summary
        # The raw headers are still there for whoever checks the plumbing, folded.
        assert "Sat, 05 Dec 2026 23:30:00 -0000" in raw and "<details open>" not in page
    finally:
        (outbox / name).unlink()


def test_a_sequences_page_says_each_wait_in_words(login_as):
    sequence = make_sequence(
        steps=[
            {"delay": "0h", "subject": "欢迎", "body": "正文"},
            {"delay": "3d", "subject": "第二封", "body": "正文"},
            {"delay": "36h", "subject": "第三封", "body": "正文"},
        ]
    )
    page = login_as("marketer").get(f"/admin/nurture/{sequence.id}?lang=zh_CN").get_data(as_text=True)
    assert "<td>立即</td>" in page and "<td>3 天</td>" in page and "<td>36 小时</td>" in page
    assert "<td>3d</td>" not in page and "<td>0h</td>" not in page
