"""A lead known by a mobile number: FORM_IDENTITY's rules on the forms, numbers normalised
to E.164 with clear messages, one lead per number (under concurrency too), a lead known
by one identity who gives the other stays one lead, and mail-only steps skip a lead that
has no address."""

import re

import pytest
from flask import current_app
from sqlalchemy import func, select

from app import create_app
from core.config import SettingsError
from core.extensions import db
from core.timeutil import utcnow
from gated.capture import RequestMeta, capture_lead
from gated.identity import default_identity, masked, normalise_phone
from gated.listing import import_leads
from gated.models import Lead, Submission
from gated.validation import InvalidSubmission
from nurture.models import Enrollment, Message
from tests.conftest import TEST_SECRET, post_at_once
from tests.factories import form_data

pytestmark = pytest.mark.usefixtures("app")
META = RequestMeta(ip="203.0.113.7", user_agent="Mozilla/5.0 test")
THREADS = 10


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def phone_only(**overrides):
    return form_data(email=None, name=None, company=None, job_title=None, role=None, **overrides)


@pytest.fixture
def by_phone(app, monkeypatch):
    """Forms identified by phone alone, without SMS codes (tests/gated/test_phone_codes.py
    has them)."""
    monkeypatch.setitem(app.config, "FORM_IDENTITY", "phone")
    monkeypatch.setitem(app.config, "SMS_CODE_FORMS", "off")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("138 0013 8000", "+8613800138000"),
        ("+86 138-0013-8000", "+8613800138000"),
        ("0086 13800138000", "+8613800138000"),
        ("+49 151 23456789", "+4915123456789"),
        ("", ""),
    ],
)
def test_numbers_are_normalised_to_e164(typed, expected):
    assert normalise_phone(typed) == expected


@pytest.mark.parametrize(
    ("typed", "allowed", "message"),
    [
        ("12345", (), "请输入有效的手机号码"),
        ("138 0013 800", (), "请输入有效的手机号码"),
        ("1" * 60, (), "请输入有效的手机号码"),
        ("010 6552 9988", (), "这不是手机号码"),
        ("+49 151 23456789", ("CN",), "中国大陆"),
        ("+49 151 23456789", ("CN", "HK"), "仅限 CN, HK"),
    ],
)
def test_bad_numbers_say_what_is_wrong(typed, allowed, message):
    # Messages are shown in the visitor's language; the tests run in Chinese.
    with pytest.raises(ValueError) as caught:
        normalise_phone(typed, allowed=allowed)
    assert message in str(caught.value.args[0])


def test_the_default_rule_follows_the_site_language_and_a_typo_stops_the_start(tmp_path):
    assert default_identity("zh_CN") == "email_or_phone" and default_identity("en") == "email"
    settings = {
        "TESTING": True,
        "SECRET_KEY": TEST_SECRET,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db",
    }
    english = create_app({**settings, "DEFAULT_LOCALE": "en"})
    assert english.config["FORM_IDENTITY"] == "email"
    with pytest.raises(SettingsError):
        create_app({**settings, "FORM_IDENTITY": "sms"})
    with pytest.raises(SettingsError):
        create_app({**settings, "FORM_IDENTITY_OVERRIDES": "demo=fax"})
    assert masked("+8613800138000") == "+86138****8000"


def test_a_phone_only_form_makes_a_lead_without_an_email(client, whitepaper, by_phone, recorder):
    page = client.get("/library/saas-renewal").get_data(as_text=True)
    assert 'name="phone"' in page and 'type="tel"' in page
    response = client.post("/library/saas-renewal", data=phone_only(phone="138 0013 8000"))
    assert response.status_code == 303
    lead = db.session.scalar(select(Lead))
    assert (lead.email, lead.phone) == ("", "+8613800138000")
    # No mailbox: nothing is queued, and the thank-you page does not blame a mail cap.
    assert recorder.of("mail_requested") == []
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "天内有效" in thanks and "发送了多封邮件" not in thanks
    assert "/download/" in thanks


def test_a_phone_form_without_a_number_or_with_a_bad_one_is_refused_beside_the_field(
    client, whitepaper, by_phone
):
    missing = client.post("/library/saas-renewal", data=phone_only(phone=""))
    assert missing.status_code == 422 and "请输入您的手机号码" in missing.get_data(as_text=True)
    landline = client.post("/library/saas-renewal", data=phone_only(phone="010 6552 9988"))
    body = landline.get_data(as_text=True)
    assert landline.status_code == 422 and "这不是手机号码" in body
    assert 'value="010 6552 9988"' in body  # what was typed is kept
    assert count(Lead) == 0 and count(Submission) == 0


def test_only_china_refuses_other_countries(client, whitepaper, by_phone, monkeypatch, app):
    monkeypatch.setitem(app.config, "PHONE_ALLOWED_REGIONS", ["CN"])
    response = client.post("/library/saas-renewal", data=phone_only(phone="+49 151 23456789"))
    assert response.status_code == 422 and "中国大陆" in response.get_data(as_text=True)
    assert count(Lead) == 0


def test_either_identity_asks_for_one_of_the_two(client, whitepaper):
    response = client.post("/library/saas-renewal", data=form_data(email="", phone=""))
    assert response.status_code == 422
    assert "请输入您的邮箱地址或手机号码" in response.get_data(as_text=True)
    assert client.post("/library/saas-renewal", data=form_data(email="")).status_code == 303
    assert db.session.scalar(select(Lead.phone)) == "+8613800138000"


def test_a_per_form_override_asks_the_demo_form_for_an_email(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "FORM_IDENTITY_OVERRIDES", {"demo": "email"})
    response = client.post("/demo-request", data=form_data(email=""))
    assert response.status_code == 422 and "请输入您的邮箱地址" in response.get_data(as_text=True)
    assert count(Lead) == 0


def test_one_lead_per_number_however_it_is_typed(monkeypatch):
    # A newsletter that a team sends by text as well as by mail takes a number alone.
    monkeypatch.setitem(current_app.config["FORM_IDENTITY_OVERRIDES"], "newsletter", "email_or_phone")
    now = utcnow()
    first = capture_lead("whitepaper", phone_only(phone="138 0013 8000"), request_meta=META, now=now)
    again = capture_lead(
        "newsletter", phone_only(phone="+86 13800138000", consent="y"), request_meta=META, now=now
    )
    assert first.lead_id == again.lead_id and not again.created
    assert count(Lead) == 1 and count(Submission) == 2


def test_a_lead_known_by_phone_who_gives_an_email_stays_one_lead_and_the_reverse():
    now = utcnow()
    by_phone = capture_lead("whitepaper", phone_only(phone="13800138000"), request_meta=META, now=now)
    later = capture_lead("whitepaper", form_data(phone="13800138000"), request_meta=META, now=now)
    assert later.lead_id == by_phone.lead_id
    lead = db.session.get(Lead, by_phone.lead_id)
    assert (lead.email, lead.name) == ("Wang.Fang@example.com", "王芳")

    by_email = capture_lead(
        "whitepaper", form_data(email="li@example.cn", phone=""), request_meta=META, now=now
    )
    again = capture_lead(
        "whitepaper", form_data(email="li@example.cn", phone="139 0013 9000"), request_meta=META, now=now
    )
    assert again.lead_id == by_email.lead_id
    assert db.session.get(Lead, by_email.lead_id).phone == "+8613900139000"
    assert count(Lead) == 2


def test_unverified_submissions_only_propose_another_number_or_one_someone_holds():
    now = utcnow()
    wang = capture_lead("whitepaper", form_data(), request_meta=META, now=now)
    # Wang's address with another number: the stored number stays, the new one is proposed.
    other_number = capture_lead("whitepaper", form_data(phone="139 0013 9000"), request_meta=META, now=now)
    assert other_number.lead_id == wang.lead_id
    assert db.session.get(Lead, wang.lead_id).phone == "+8613800138000"
    assert db.session.get(Submission, other_number.submission_id).proposed_fields == ["phone"]
    # A new address with Wang's number: a lead of its own; the number stays Wang's.
    stranger = capture_lead("whitepaper", form_data(email="li@example.cn"), request_meta=META, now=now)
    assert stranger.created and stranger.lead_id != wang.lead_id
    assert db.session.get(Lead, stranger.lead_id).phone == ""
    assert db.session.get(Submission, stranger.submission_id).proposed_fields == ["phone"]


def test_a_phone_only_lead_is_not_enrolled_in_mail_sequences(client, whitepaper, by_phone, monkeypatch):
    from nurture.enrolment import enroll, enrollment_refusal

    monkeypatch.setitem(current_app.config["FORM_IDENTITY_OVERRIDES"], "newsletter", "email_or_phone")
    from tests.nurture.conftest import make_sequence

    sequence = make_sequence(trigger={"form": "newsletter"})
    db.session.commit()
    capture = capture_lead(
        "newsletter", phone_only(phone="13800138000", consent="y"), request_meta=META, now=utcnow()
    )
    lead = db.session.get(Lead, capture.lead_id)
    assert lead.marketing_consent
    assert enrollment_refusal(lead, sequence) == "no_email"
    assert enroll([lead.id], sequence.id, now=utcnow(), source="manual") == 0
    assert count(Enrollment) == 0 and count(Message) == 0


def test_the_newsletter_asks_for_an_address_on_a_site_that_takes_numbers(client, monkeypatch):
    """Its promise is a mail: a number alone is refused beside the email field, not
    thanked for an issue that could never reach it."""
    monkeypatch.setitem(current_app.config, "FORM_IDENTITY", "email_or_phone")
    response = client.post("/newsletter", data={"phone": "13812345606", "consent": "y"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="email-error">请输入您的邮箱地址' in page
    assert 'name="phone"' not in client.get("/newsletter").get_data(as_text=True)  # not offered
    assert count(Lead) == 0


def test_import_takes_rows_known_by_phone_and_office_lines():
    result = import_leads(
        "phone,name,company\n138 0013 8000,王芳,星河软件\n010 6552 9988,李雷,远景制造\n",
        now=utcnow(),
    )
    assert (result.created, result.errors) == (2, [])
    assert set(db.session.scalars(select(Lead.phone))) == {"+8613800138000", "+861065529988"}
    again = import_leads("phone,email\n+86 138 0013 8000,wang@example.cn\n", now=utcnow())
    assert (again.created, again.updated) == (0, 1)
    assert db.session.scalar(select(Lead.email).where(Lead.phone == "+8613800138000")) == "wang@example.cn"


def test_import_refuses_a_row_without_either():
    result = import_leads("email,phone,name\n,,王芳\n", now=utcnow())
    assert result.errors and "email" in result.errors[0][1]
    assert count(Lead) == 0


def test_concurrent_submissions_by_one_number_make_one_lead(live_server, whitepaper, app, monkeypatch):
    monkeypatch.setitem(app.config, "FORM_IDENTITY", "phone")
    monkeypatch.setitem(app.config, "SMS_CODE_FORMS", "off")
    answers = post_at_once(f"{live_server}/library/saas-renewal", phone_only(phone="138 0013 8000"), THREADS)
    assert [status for status, _ in answers] == [303] * THREADS
    db.session.rollback()
    assert count(Lead) == 1 and count(Submission) == THREADS


def test_check_submission_is_refused_like_capture():
    with pytest.raises(InvalidSubmission):
        capture_lead("whitepaper", form_data(email="", phone="12"), request_meta=META, now=utcnow())
    assert count(Lead) == 0


def test_a_lead_known_by_phone_is_erased_with_its_texts_and_codes(runner, app):
    from gated.models import PhoneCode
    from nurture.sms.queue import send_sms

    now = utcnow()
    capture = capture_lead("whitepaper", phone_only(phone="138 0013 8000"), request_meta=META, now=now)
    send_sms(db.session.get(Lead, capture.lead_id), "download_link", {"title": "t", "url": "u"}, now=now)
    db.session.add(PhoneCode(phone="+8613800138000", code_hash="x" * 64, created_at=now, expires_at=now))
    db.session.commit()
    result = runner.invoke(args=["leads", "erase", "138 0013 8000"])
    assert result.exit_code == 0, result.output
    from nurture.models import Suppression
    from nurture.sms.models import SmsMessage

    assert count(Lead) == 0 and count(SmsMessage) == 0 and count(PhoneCode) == 0
    assert count(Suppression) == 0  # no address to suppress


WECHAT = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) MicroMessenger/8.0.47"


def test_wechat_thanks_offers_no_mail_to_a_number_alone(client, whitepaper, by_phone):
    sent = client.post(
        "/library/saas-renewal", data=phone_only(phone="13812345603"), headers={"User-Agent": WECHAT}
    )
    assert sent.status_code == 303
    page = client.get(sent.headers["Location"], headers={"User-Agent": WECHAT}).get_data(as_text=True)
    assert "打开白皮书" in page and "把链接发到我的邮箱" not in page and "邮箱" not in page
    # A link-by-mail request for that lead (an old page, a crafted post) says why nothing went.
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    notice = client.post("/download/fresh", data={"token": token}).get_data(as_text=True)
    assert "没有邮箱地址" in notice and "最近已收到我们的多封邮件" not in notice
    assert count(Message) == 0


def test_a_number_alone_that_belongs_to_a_lead_with_an_address_mails_nobody(
    client, app, whitepaper, by_phone, recorder, monkeypatch
):
    monkeypatch.setitem(app.config, "FORM_IDENTITY", "email_or_phone")
    first = client.post("/library/saas-renewal", data=form_data(phone="139 1234 5678"))
    assert first.status_code == 303
    assert "已发送到您的邮箱" in client.get(first.headers["Location"]).get_data(as_text=True)
    known = db.session.scalar(select(Lead))
    assert known.email.lower() == "wang.fang@example.com" and recorder.of("mail_requested")
    recorder.calls.clear()
    # Someone types that number alone: the page offers the download, says nothing was
    # mailed, and gives away nothing of the address on file.
    monkeypatch.setitem(app.config, "FORM_IDENTITY", "phone")
    sent = client.post("/library/saas-renewal", data=phone_only(phone="+86 139-1234-5678"))
    assert sent.status_code == 303
    assert count(Lead) == 1 and recorder.of("mail_requested") == []
    thanks = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "/download/" in thanks and "天内有效" in thanks
    assert "已发送到您的邮箱" not in thanks and "wang.fang" not in thanks.lower()
    wechat = client.get(sent.headers["Location"], headers={"User-Agent": WECHAT}).get_data(as_text=True)
    assert "把链接发到我的邮箱" not in wechat
