"""The mail as bytes: DKIM signing that verifies, Chinese footer, HTML escaping of what
the lead typed, the timeline, the development worker thread."""

import re
from pathlib import Path

import pytest

from core.extensions import db
from core.hooks import hooks, lead_timeline
from core.timeutil import utcnow
from nurture import enrolment, stats
from nurture.compose import inline_styles
from nurture.models import DAYS, Message
from tests.nurture.conftest import MONDAY_10_SHANGHAI, make_lead, make_sequence, tick

pytestmark = pytest.mark.usefixtures("app")


# A throwaway key made for these tests only (openssl genrsa 1024), and its public half.
DKIM_KEY = Path(__file__).with_name("dkim-test-key.pem")
DKIM_PUBLIC = "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQCS8R8Uj98ebZUtWnk0lWYch4JAkYhfz72lyuN7DHyhSanltkBKZuiE09IvIUG12uI8tVAhGrnYIfl0YbcAcBq736Pb+dAE7yi+VUDnU0vCeMMz3MCe4GFJuaMNWVwMGX7qPGr8HhEZ+fZpJYtfWQSRMdM/selcsavNNyPdMdRuiQIDAQAB"


def test_dkim_signature_verifies(app, monkeypatch, smtp_sink):
    import dkim

    monkeypatch.setitem(app.config, "DKIM_PRIVATE_KEY", str(DKIM_KEY))
    monkeypatch.setitem(app.config, "DKIM_DOMAIN", "lodestar.example")
    monkeypatch.setitem(app.config, "DKIM_SELECTOR", "s1")
    sequence = make_sequence(steps=[{"delay": "0h", "subject": "签名测试", "body": "长" * 3000}])
    enrolment.enroll([make_lead().id], sequence.id, now=MONDAY_10_SHANGHAI)
    assert tick(MONDAY_10_SHANGHAI)["sent"] == 1
    smtp_sink.wait_for(1)
    raw = smtp_sink.envelopes[0].original_content
    assert raw.startswith(b"DKIM-Signature:")
    record = b"v=DKIM1; k=rsa; p=" + DKIM_PUBLIC.encode()

    def dns(name, timeout=5):
        return record if name == b"s1._domainkey.lodestar.example." else None

    assert dkim.verify(raw, dnsfunc=dns)
    tampered = raw.replace(
        b"List-Unsubscribe-Post: List-Unsubscribe=One-Click", b"List-Unsubscribe-Post: none"
    )
    assert not dkim.verify(tampered, dnsfunc=dns)


def test_the_footer_is_in_the_sequences_language_and_lead_values_are_escaped(smtp_sink):
    lead = make_lead(name="<script>alert(1)</script>", company="A & B")
    zh = make_sequence(
        steps=[{"delay": "0h", "subject": "你好", "body": "{{ lead.name }} / {{ lead.company }}"}]
    )
    en = make_sequence(slug="en", locale="en", steps=[{"delay": "0h", "subject": "Hello", "body": "Hi"}])
    enrolment.enroll([lead.id], zh.id, now=MONDAY_10_SHANGHAI)
    enrolment.enroll([lead.id], en.id, now=MONDAY_10_SHANGHAI)
    tick(MONDAY_10_SHANGHAI)
    mails = {mail["Subject"]: mail for mail in smtp_sink.wait_for(2)}
    zh_html = mails["你好"].get_body(("html",)).get_content()
    assert "<script>" not in zh_html and "&lt;script&gt;" in zh_html and "A &amp; B" in zh_html
    assert "退订" in zh_html and 'lang="zh-CN"' in zh_html
    en_html = mails["Hello"].get_body(("html",)).get_content()
    assert "Unsubscribe" in en_html and 'lang="en"' in en_html
    assert "<script>" in mails["你好"].get_body(("plain",)).get_content()  # text is text
    # The plain text's unsubscribe line, its colon as each language writes it.
    assert re.search(r"^退订：http://\S+/u/", mails["你好"].get_body(("plain",)).get_content(), re.M)
    assert re.search(r"^Unsubscribe: http://\S+/u/", mails["Hello"].get_body(("plain",)).get_content(), re.M)
    # The postal address in each mail's language.
    assert "上海市浦东新区世纪大道 100 号" in zh_html and "Century Avenue" not in zh_html
    assert "100 Century Avenue, Pudong New Area, Shanghai" in en_html and "上海市" not in en_html
    assert "100 Century Avenue" in mails["Hello"].get_body(("plain",)).get_content()


def test_without_an_english_address_english_mails_carry_the_one_there_is(app, smtp_sink, monkeypatch):
    monkeypatch.setitem(app.config, "COMPANY_POSTAL_ADDRESS_EN", "")
    en = make_sequence(slug="en", locale="en", steps=[{"delay": "0h", "subject": "Hello", "body": "Hi"}])
    enrolment.enroll([make_lead().id], en.id, now=MONDAY_10_SHANGHAI)
    tick(MONDAY_10_SHANGHAI)
    [mail] = smtp_sink.wait_for(1)
    assert "上海市浦东新区世纪大道 100 号" in mail.get_body(("html",)).get_content()


def test_the_leads_timeline_shows_mail_opens_and_clicks(app, client, smtp_sink):
    from core import tokens

    lead = make_lead()
    sequence = make_sequence()
    enrolment.enroll([lead.id], sequence.id, now=MONDAY_10_SHANGHAI)
    tick(MONDAY_10_SHANGHAI)
    message = Message.query.one()
    client.get(f"/t/o/{tokens.sign('open', message.id)}")
    events = lead_timeline(app, lead.id)
    kinds = {event["kind"] for event in events}
    assert {"mail_sent", "mail_opened"} <= kinds
    assert all(event["url"].startswith("/admin/nurture/messages/") for event in events)


def test_the_development_worker_thread_delivers_and_stops(app, smtp_sink, monkeypatch):
    monkeypatch.setitem(app.config, "NURTURE_WORKER_INTERVAL", 0.1)
    start = dict(hooks(app).dev_services)["nurture worker"]
    window = {"days": list(DAYS), "start": "00:00", "end": "24:00", "timezone": "UTC"}
    sequence = make_sequence(send_window=window)
    enrolment.enroll([make_lead().id], sequence.id, now=utcnow())
    stop = start(app)
    try:
        assert len(smtp_sink.wait_for(1, timeout=10)) == 1
    finally:
        stop()
    db.session.expire_all()
    assert Message.query.one().status == "sent"
    assert stats.mail_status(utcnow())["last_heartbeat"]


def test_the_mail_stylesheet_is_inlined_and_keeps_a_cells_own_alignment():
    html = inline_styles(
        "<p>见 <a href='https://example.com/'>报告</a></p>"
        '<table><tr><th style="text-align: right">金额</th></tr><tr><td>12</td></tr></table>'
    )
    assert '<p style="margin: 0 0 14px;">' in html
    assert "color: #1d4ed8" in html.split("<a ", 1)[1].split(">", 1)[0]
    header = html.split("<th ", 1)[1].split(">", 1)[0]
    # One style attribute, the cell's own alignment winning over the sheet's `left`.
    assert header.count("style=") == 1 and "text-align: right" in header and "left" not in header
    assert "padding: 6px 10px" in html.split("<td ", 1)[1].split(">", 1)[0]


def test_the_lead_page_links_a_mail_only_for_those_who_may_open_it(app, login_as, smtp_sink):
    """Sales read the lead page but not the nurture admin: the mail events stay, as text,
    instead of links to a 403 page."""
    lead = make_lead()
    sequence = make_sequence()
    enrolment.enroll([lead.id], sequence.id, now=MONDAY_10_SHANGHAI)
    tick(MONDAY_10_SHANGHAI)
    message = Message.query.one()
    link = f'href="/admin/nurture/messages/{message.id}"'
    for role, linked in (("sales", False), ("marketer", True), ("admin", True)):
        page = login_as(role).get(f"/admin/leads/{lead.id}?lang=zh_CN").get_data(as_text=True)
        assert message.subject in page
        assert (link in page) is linked, role
