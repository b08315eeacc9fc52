"""The SMS queue and its providers, each against a local HTTP server that answers as the
vendor's documented API does (Alibaba Cloud's SendSms RPC answer, Tencent Cloud's API 3.0
SendSms answer, our own signed JSON gateway): accepted texts are sent once, errors and
timeouts are retried with backoff, refusals fail with the vendor's code, and nothing is
lost while the provider is down. Nothing here reaches the internet."""

import json
import time
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from sqlalchemy import select

from core.extensions import db
from core.timeutil import utcnow
from gated.webhooks import signature
from nurture.sms.models import SmsMessage
from nurture.sms.queue import add_sms, deliver_due, send_sms
from tests.conftest import free_port
from tests.factories import LocalHttpServer, QuietHandler

pytestmark = pytest.mark.usefixtures("app")
NUMBER = "+8613800138000"
ALIYUN_OK = {
    "Code": "OK",
    "Message": "OK",
    "BizId": "900619746936498440^0",
    "RequestId": "F655A8D5-B967-440B-8683",
}
ALIYUN_BAD_NUMBER = {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号", "RequestId": "A1"}
ALIYUN_FLOW_CONTROL = {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控", "RequestId": "A2"}
ALIYUN_BAD_KEY = {
    "Code": "InvalidAccessKeyId.NotFound",
    "Message": "Specified access key is not found.",
    "RequestId": "A3",
}


def tencent_ok(number):
    return {
        "Response": {
            "SendStatusSet": [
                {
                    "SerialNo": "5000:1045710669157053657849499619",
                    "PhoneNumber": number,
                    "Fee": 1,
                    "SessionContext": "",
                    "Code": "Ok",
                    "Message": "send success",
                    "IsoCode": "CN",
                }
            ],
            "RequestId": "a0aabda6-cf91-4f3e-a81f-9198114a2279",
        }
    }


TENCENT_BAD_TEMPLATE = {
    "Response": {
        "Error": {
            "Code": "FailedOperation.TemplateIncorrectOrUnapproved",
            "Message": "template is not approved",
        },
        "RequestId": "b1",
    }
}
TENCENT_INTERNAL = {
    "Response": {"Error": {"Code": "InternalError.Timeout", "Message": "timeout"}, "RequestId": "b2"}
}


class FakeApi:
    """A vendor's API on 127.0.0.1: records each request, answers with the next queued
    (status, JSON body, delay) or with `default`."""

    def __init__(self):
        self.requests = []
        self.answers = []
        self.default = (200, {})
        # Alibaba Cloud answers with a charset; Tencent Cloud's SDK reads errors only
        # from a bare "application/json", as its API sends.
        self.content_type = "application/json;charset=utf-8"
        api = self

        class Handler(QuietHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                api.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status, payload, delay = (
                    (*api.answers.pop(0), 0)[:3] if api.answers else (*api.default, 0)[:3]
                )
                if delay:
                    time.sleep(delay)
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", api.content_type)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (a timeout test)

            do_POST = do_GET = _answer

        self.local = LocalHttpServer(Handler)
        self.address = f"127.0.0.1:{self.local.port}"

    def stop(self):
        self.local.stop()


@pytest.fixture
def fake_api():
    api = FakeApi()
    yield api
    api.stop()


@pytest.fixture
def vendor(app, monkeypatch, fake_api):
    """Point the provider named by the test at the fake API."""

    def use(name):
        settings = {
            "SMS_PROVIDER": name,
            "SMS_VENDOR_PROTOCOL": "http",
            "SMS_TIMEOUT": 1.0,
            "SMS_SIGN_NAME": "星河软件",
            "SMS_TEMPLATES": {"verify_code": "SMS_154950909", "download_link": "SMS_154950910"},
            "SMS_ALIYUN_ACCESS_KEY_ID": "LTAI-test",
            "SMS_ALIYUN_ACCESS_KEY_SECRET": "test-secret",
            "SMS_ALIYUN_ENDPOINT": fake_api.address,
            "SMS_TENCENT_SECRET_ID": "AKID-test",
            "SMS_TENCENT_SECRET_KEY": "test-key",
            "SMS_TENCENT_APP_ID": "1400006666",
            "SMS_TENCENT_ENDPOINT": fake_api.address,
            "SMS_HTTP_URL": f"http://{fake_api.address}/sms",
            "SMS_HTTP_SECRET": "gateway-secret",
        }
        if name == "tencent":
            fake_api.content_type = "application/json"
        for key, value in settings.items():
            monkeypatch.setitem(app.config, key, value)
        return fake_api

    return use


def queue_code(now, code="246810"):
    message = add_sms(
        NUMBER,
        "verify_code",
        {"code": code, "minutes": "5"},
        now=now,
        secret=["code"],
        expires_at=now + timedelta(minutes=5),
    )
    db.session.commit()
    return message.id


def stored(message_id) -> SmsMessage:
    db.session.expire_all()
    return db.session.get(SmsMessage, message_id)


def test_aliyun_sends_through_the_sdk_as_its_api_documents(vendor):
    api = vendor("aliyun")
    api.default = (200, ALIYUN_OK)
    now = utcnow()
    message_id = queue_code(now)
    assert deliver_due(now)["sms_sent"] == 1
    # The SDK signs the V3 way (ACS3-HMAC-SHA256): action and version in headers, the
    # request's values in the query.
    request = api.requests[0]
    sent = {key: values[0] for key, values in parse_qs(request["path"].split("?", 1)[1]).items()}
    assert (
        request["headers"]["x-acs-action"] == "SendSms"
        and request["headers"]["x-acs-version"] == "2017-05-25"
    )
    assert request["headers"]["Authorization"].startswith("ACS3-HMAC-SHA256 Credential=LTAI-test,")
    assert (sent["PhoneNumbers"], sent["SignName"], sent["TemplateCode"]) == (
        "8613800138000",
        "星河软件",
        "SMS_154950909",
    )
    assert json.loads(sent["TemplateParam"]) == {"code": "246810", "minutes": "5"}
    message = stored(message_id)
    assert (message.status, message.provider, message.provider_id) == ("sent", "aliyun", ALIYUN_OK["BizId"])
    assert message.params["code"] == ""  # blanked once sent
    assert deliver_due(now + timedelta(hours=1)) == {}  # never twice


def test_tencent_sends_through_the_sdk_as_its_api_documents(vendor):
    api = vendor("tencent")
    api.default = (200, tencent_ok(NUMBER))
    now = utcnow()
    message_id = queue_code(now)
    assert deliver_due(now)["sms_sent"] == 1
    request = api.requests[0]
    assert (
        request["headers"]["X-TC-Action"] == "SendSms" and request["headers"]["X-TC-Version"] == "2021-01-11"
    )
    assert request["headers"]["Authorization"].startswith("TC3-HMAC-SHA256 Credential=AKID-test/")
    body = json.loads(request["body"])
    assert body["PhoneNumberSet"] == [NUMBER] and body["SmsSdkAppId"] == "1400006666"
    assert (body["TemplateId"], body["SignName"], body["TemplateParamSet"]) == (
        "SMS_154950909",
        "星河软件",
        ["246810", "5"],
    )
    message = stored(message_id)
    assert (message.status, message.provider_id) == ("sent", "5000:1045710669157053657849499619")


# Each vendor's error answers (and a timeout): a refusal fails with the vendor's code; a
# fault of the moment waits for a retry with backoff, then goes once.
ERROR_ANSWERS = [
    ("aliyun", (200, ALIYUN_BAD_NUMBER), "failed", "isv.MOBILE_NUMBER_ILLEGAL"),
    ("aliyun", (200, ALIYUN_FLOW_CONTROL), "queued", "isv.BUSINESS_LIMIT_CONTROL"),
    ("aliyun", (404, ALIYUN_BAD_KEY), "failed", "InvalidAccessKeyId.NotFound"),
    ("aliyun", (503, {"Code": "ServiceUnavailable", "Message": "busy"}), "queued", "ServiceUnavailable"),
    ("aliyun", (200, ALIYUN_OK, 2.5), "queued", "unreachable"),
    ("tencent", (200, TENCENT_BAD_TEMPLATE), "failed", "TemplateIncorrectOrUnapproved"),
    ("tencent", (200, TENCENT_INTERNAL), "queued", "InternalError.Timeout"),
    ("tencent", (502, {}), "queued", "ServerNetworkError"),
    ("tencent", (200, {}, 2.5), "queued", "ClientNetworkError"),
]
ACCEPTED = {"aliyun": ALIYUN_OK, "tencent": tencent_ok(NUMBER)}


@pytest.mark.parametrize(("name", "answer", "outcome", "error"), ERROR_ANSWERS)
def test_vendor_errors_and_timeouts(vendor, name, answer, outcome, error):
    api = vendor(name)
    api.answers.append(answer)
    now = utcnow()
    message_id = queue_code(now)
    deliver_due(now)
    message = stored(message_id)
    assert message.status == outcome and error in message.error
    if outcome == "queued":  # retried later, with backoff; then sent once
        assert message.next_attempt_at > now and message.params["code"] == "246810"
        api.default = (200, ACCEPTED[name])
        assert deliver_due(now)["sms_sent"] == 0  # not due yet
        assert deliver_due(message.next_attempt_at)["sms_sent"] == 1
        assert stored(message_id).status == "sent"


def test_tencent_refuses_a_number_in_its_status(vendor):
    api = vendor("tencent")
    refused = tencent_ok(NUMBER)
    refused["Response"]["SendStatusSet"][0].update(
        Code="InvalidParameterValue.IncorrectPhoneNumber", Message="bad"
    )
    api.default = (200, refused)
    now = utcnow()
    message_id = queue_code(now)
    assert deliver_due(now)["sms_failed"] == 1
    assert "IncorrectPhoneNumber" in stored(message_id).error


def test_the_http_gateway_gets_a_signed_json_post(vendor):
    api = vendor("http")
    api.default = (200, {"id": "gw-77"})
    now = utcnow()
    message_id = queue_code(now)
    assert deliver_due(now)["sms_sent"] == 1
    request = api.requests[0]
    assert request["headers"]["X-Lodestar-Signature"] == signature("gateway-secret", request["body"])
    body = json.loads(request["body"])
    assert (body["to"], body["template"], body["params"]["code"]) == (NUMBER, "verify_code", "246810")
    assert "246810" in body["text"] and body["text"].startswith("【星河软件】")
    assert stored(message_id).provider_id == "gw-77"


def test_a_provider_down_loses_nothing_and_gives_up_after_the_attempts(vendor, app, monkeypatch):
    vendor("http")
    monkeypatch.setitem(app.config, "SMS_HTTP_URL", f"http://127.0.0.1:{free_port()}/down")
    monkeypatch.setitem(app.config, "SMS_MAX_ATTEMPTS", 3)
    now = utcnow()
    message = add_sms(NUMBER, "download_link", {"title": "白皮书", "url": "https://example.cn/d"}, now=now)
    db.session.commit()
    when = now
    for attempt in (1, 2):
        assert deliver_due(when)["sms_retry"] == 1
        when = stored(message.id).next_attempt_at
        assert stored(message.id).attempts == attempt
    assert deliver_due(when)["sms_failed"] == 1
    assert stored(message.id).status == "failed" and "unreachable" in stored(message.id).error


def test_send_sms_takes_a_lead_or_a_number_and_caps_per_number(app, monkeypatch):
    from gated.models import Lead

    monkeypatch.setitem(app.config, "SMS_PER_NUMBER_PER_HOUR", 2)
    now = utcnow()
    lead = Lead(email="", phone=NUMBER, created_at=now, updated_at=now)
    db.session.add(lead)
    db.session.flush()
    first = send_sms(lead, "download_link", {"title": "白皮书", "url": "https://example.cn/d"}, now=now)
    assert first.lead_id == lead.id and first.to_number == NUMBER
    assert send_sms("138 0013 8000", "download_link", {"title": "x", "url": "y"}, now=now) is not None
    assert send_sms(NUMBER, "download_link", {"title": "x", "url": "y"}, now=now) is None  # capped
    assert send_sms(Lead(email="a@b.cn", phone=""), "download_link", {}, now=now) is None  # no number
    with pytest.raises(ValueError):
        send_sms("010 6552 9988", "download_link", {}, now=now)
    db.session.commit()
    assert len(db.session.scalars(select(SmsMessage)).all()) == 2
