"""Alibaba Cloud SMS (短信服务) through its official SDK, alibabacloud-dysmsapi20170525:
the SendSms action with the template's vendor id (SMS_TEMPLATES), the signature
(SMS_SIGN_NAME) and the values as a JSON object.

Answers: HTTP 200 with Code "OK" and a BizId is a text accepted. Code
"isv.BUSINESS_LIMIT_CONTROL" (the vendor's own flow control) and throttling, 5xx,
timeouts and connection errors are retried; any other code (a bad number, a template or
signature the vendor does not know, a wrong key) is a refusal.
"""

import json

from alibabacloud_dysmsapi20170525 import models as sms_models
from alibabacloud_dysmsapi20170525.client import Client
from alibabacloud_tea_openapi import exceptions as vendor_errors
from alibabacloud_tea_openapi import models as api_models
from darabonba.runtime import RuntimeOptions

from nurture.sms.providers import SendError

RETRIED_CODES = {"isv.BUSINESS_LIMIT_CONTROL", "Throttling", "Throttling.User", "ServiceUnavailable"}


class Aliyun:
    name = "aliyun"

    def __init__(self, config):
        self.client = Client(
            api_models.Config(
                access_key_id=config["SMS_ALIYUN_ACCESS_KEY_ID"],
                access_key_secret=config["SMS_ALIYUN_ACCESS_KEY_SECRET"],
                endpoint=config["SMS_ALIYUN_ENDPOINT"],
                protocol=config["SMS_VENDOR_PROTOCOL"],
            )
        )
        milliseconds = int(config["SMS_TIMEOUT"] * 1000)
        self.runtime = RuntimeOptions(
            read_timeout=milliseconds, connect_timeout=milliseconds, autoretry=False
        )

    def send(self, outgoing) -> str:
        if not outgoing.vendor_template:
            raise SendError(f"no Aliyun template for {outgoing.template} in SMS_TEMPLATES", retry=False)
        request = sms_models.SendSmsRequest(
            # Aliyun takes the country code without "+" (86138…); mainland numbers as is.
            phone_numbers=outgoing.to_number.lstrip("+"),
            sign_name=outgoing.sign_name,
            template_code=outgoing.vendor_template,
            template_param=json.dumps(outgoing.params, ensure_ascii=False),
            out_id=str(outgoing.id),
        )
        try:
            body = self.client.send_sms_with_options(request, self.runtime).body
        except (vendor_errors.ThrottlingException, vendor_errors.ServerException) as exc:
            raise SendError(f"Aliyun: {exc.code}", retry=True) from exc
        except vendor_errors.ClientException as exc:
            raise SendError(f"Aliyun refused: {exc.code}", retry=exc.code in RETRIED_CODES) from exc
        except Exception as exc:  # the SDK's network errors and timeouts have no common base
            raise SendError(f"Aliyun unreachable: {type(exc).__name__}", retry=True) from exc
        if body.code != "OK":
            raise SendError(f"Aliyun refused: {body.code} {body.message}", retry=body.code in RETRIED_CODES)
        return body.biz_id or ""
