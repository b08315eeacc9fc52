"""SMS verification codes on a phone form, end to end with the sink provider: the code
goes through the SMS queue (read back from the queued text, as a phone would), proves
the number once, and then lets the submission change what the lead stored and gives the
browser the lead's cookie. Wrong, expired, reused and flooded codes are refused with
clear messages; codes are hashed at rest and blanked from the queue once sent."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.timeutil import utcnow
from gated import phonecodes
from gated.models import Lead, PhoneCode, Submission
from gated.visitor import COOKIE
from nurture.sms.models import SmsMessage
from nurture.sms.queue import deliver_due
from tests.factories import form_data

pytestmark = pytest.mark.usefixtures("app")
NUMBER = "+8613800138000"


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def phone_form(app, monkeypatch, cheap_challenges):
    monkeypatch.setitem(app.config, "FORM_IDENTITY", "phone")
    monkeypatch.setitem(app.config, "SMS_PROVIDER", "sink")


def ask_code(client, solve, phone="138 0013 8000", **extra):
    return client.post("/forms/sms-code", data={"phone": phone, "altcha": solve(), **extra})


def texted_code(number=NUMBER) -> str:
    """The code in the newest text queued for the number, as the phone would show it."""
    message = db.session.scalars(
        select(SmsMessage).where(SmsMessage.to_number == number).order_by(SmsMessage.id.desc())
    ).first()
    return message.params["code"]


def phone_submission(**overrides):
    return form_data(
        **{"email": None, "name": "王芳", "company": None, "job_title": None, "role": None, **overrides}
    )


def test_the_form_shows_the_code_field_and_its_button(client, whitepaper, phone_form):
    page = client.get("/library/saas-renewal").get_data(as_text=True)
    assert 'name="sms_code"' in page and "发送验证码" in page and "js/sms-code.js" in page
    assert 'autocomplete="one-time-code"' in page


def test_a_code_proves_the_number_once_and_counts_as_a_mailed_link(client, whitepaper, phone_form, solve):
    answer = ask_code(client, solve)
    assert answer.status_code == 200 and answer.get_json() == {"ok": True, "resend_after": 60}
    code = texted_code()
    stored = db.session.scalar(select(PhoneCode))
    assert len(code) == 6 and code.isdigit()
    assert code not in stored.code_hash and stored.phone == NUMBER

    sent = client.post("/library/saas-renewal", data=phone_submission(phone="138 0013 8000", sms_code=code))
    assert sent.status_code == 303
    assert COOKIE in sent.headers.get("Set-Cookie", "")
    lead = db.session.scalar(select(Lead))
    assert (lead.phone, lead.name) == (NUMBER, "王芳")

    # Used once: the same code again is refused, beside the code field.
    again = client.post("/library/saas-renewal", data=phone_submission(phone="138 0013 8000", sms_code=code))
    assert again.status_code == 422 and "请先点击“发送验证码”" in again.get_data(as_text=True)
    assert count(Submission) == 1


def test_a_proven_submission_may_change_what_the_lead_stored(
    client, whitepaper, phone_form, solve, app, monkeypatch
):
    client.post("/forms/sms-code", data={"phone": NUMBER, "altcha": solve()})
    client.post("/library/saas-renewal", data=phone_submission(phone=NUMBER, sms_code=texted_code()))
    # A stranger (another browser) without a code may only propose; with a fresh code the
    # owner may change it.
    monkeypatch.setitem(app.config, "SMS_CODE_FORMS", "off")
    stranger = app.test_client().post(
        "/library/saas-renewal", data=phone_submission(phone=NUMBER, name="冒名")
    )
    assert stranger.status_code == 303
    assert db.session.scalar(select(Lead.name)) == "王芳"
    monkeypatch.setitem(app.config, "SMS_CODE_FORMS", "auto")
    db.session.execute(PhoneCode.__table__.update().values(created_at=utcnow() - timedelta(minutes=2)))
    db.session.commit()
    # The owner on another phone browser, without the lead's cookie: the code alone proves it.
    other_browser = app.test_client()
    assert ask_code(other_browser, solve, phone=NUMBER).status_code == 200
    owner = other_browser.post(
        "/library/saas-renewal", data=phone_submission(phone=NUMBER, name="王芳芳", sms_code=texted_code())
    )
    assert owner.status_code == 303
    db.session.expire_all()
    assert db.session.scalar(select(Lead.name)) == "王芳芳"


def test_wrong_codes_are_counted_and_lock_the_code(client, whitepaper, phone_form, solve, app):
    ask_code(client, solve)
    code = texted_code()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(app.config["SMS_CODE_MAX_ATTEMPTS"]):
        response = client.post("/library/saas-renewal", data=phone_submission(phone=NUMBER, sms_code=wrong))
        assert response.status_code == 422 and "验证码不正确" in response.get_data(as_text=True)
    locked = client.post("/library/saas-renewal", data=phone_submission(phone=NUMBER, sms_code=code))
    assert locked.status_code == 422 and "错误次数过多" in locked.get_data(as_text=True)
    assert count(Lead) == 0


def test_an_expired_code_is_refused(client, whitepaper, phone_form, solve):
    ask_code(client, solve)
    code = texted_code()
    db.session.execute(PhoneCode.__table__.update().values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    response = client.post("/library/saas-renewal", data=phone_submission(phone=NUMBER, sms_code=code))
    assert response.status_code == 422 and "验证码已过期" in response.get_data(as_text=True)
    # The queued text is not sent after the code's validity either.
    db.session.execute(SmsMessage.__table__.update().values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert deliver_due(utcnow())["sms_failed"] == 1
    assert db.session.scalar(select(SmsMessage.params))["code"] == ""


def test_a_missing_code_and_no_code_asked_for_are_clear(client, whitepaper, phone_form):
    empty = client.post("/library/saas-renewal", data=phone_submission(phone=NUMBER))
    assert empty.status_code == 422 and "请输入我们发送到您手机的验证码" in empty.get_data(as_text=True)
    never = client.post("/library/saas-renewal", data=phone_submission(phone=NUMBER, sms_code="123456"))
    assert never.status_code == 422 and "请先点击“发送验证码”" in never.get_data(as_text=True)


def test_sending_needs_the_proof_of_work_and_a_mobile_number(client, phone_form, solve):
    without = client.post("/forms/sms-code", data={"phone": NUMBER})
    assert without.status_code == 400 and without.get_json()["ok"] is False
    payload = solve()
    assert client.post("/forms/sms-code", data={"phone": NUMBER, "altcha": payload}).status_code == 200
    replay = client.post("/forms/sms-code", data={"phone": "139 0013 9000", "altcha": payload})
    assert replay.status_code == 400
    landline = client.post("/forms/sms-code", data={"phone": "010 6552 9988", "altcha": solve()})
    assert landline.status_code == 422 and landline.get_json()["field"] == "phone"
    assert "这不是手机号码" in landline.get_json()["error"]
    assert count(SmsMessage) == 1


def test_resends_are_limited_per_number_and_per_ip(client, phone_form, solve, app, monkeypatch):
    assert ask_code(client, solve).status_code == 200
    soon = ask_code(client, solve)
    assert soon.status_code == 429 and "秒后可再次获取" in soon.get_json()["error"]
    monkeypatch.setitem(app.config, "SMS_CODE_RESEND_SECONDS", 0)
    for _ in range(app.config["SMS_CODE_PER_NUMBER_PER_HOUR"] - 1):
        assert ask_code(client, solve).status_code == 200
    flooded = ask_code(client, solve)
    assert flooded.status_code == 429 and "过去一小时内已收到多条验证码" in flooded.get_json()["error"]
    monkeypatch.setitem(app.config, "SMS_CODE_PER_IP_PER_HOUR", app.config["SMS_CODE_PER_NUMBER_PER_HOUR"])
    other = ask_code(client, solve, phone="139 0013 9000")
    assert other.status_code == 429 and "获取验证码过于频繁" in other.get_json()["error"]
    assert count(SmsMessage) == app.config["SMS_CODE_PER_NUMBER_PER_HOUR"]


def test_flask_limiter_caps_code_requests_per_ip(make_app, solve):
    limited = make_app(RATELIMIT_ENABLED=True, SMS_CODE_RATE_LIMIT="2 per minute", FORM_CHALLENGE="off")
    with limited.app_context():
        visitor = limited.test_client()
        statuses = [
            visitor.post("/forms/sms-code", data={"phone": f"13{n}00138000"}).status_code for n in (5, 6, 7)
        ]
    assert statuses[:2] != [429, 429] and statuses[2] == 429


def test_the_sink_sends_the_code_and_blanks_it(client, phone_form, solve):
    ask_code(client, solve)
    assert deliver_due(utcnow())["sms_sent"] == 1
    message = db.session.scalar(select(SmsMessage))
    assert (message.status, message.provider, message.params["code"]) == ("sent", "sink", "")
    assert deliver_due(utcnow()) == {}  # sent once


def test_code_check_rules_without_the_web():
    now = utcnow()
    with pytest.raises(phonecodes.CodeRefused):
        phonecodes.check_code(NUMBER, "123456", now=now)
