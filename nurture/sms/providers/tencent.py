"""Tencent Cloud SMS through its official SDK, tencentcloud-sdk-python-sms (API
2021-01-11): SendSms with the SmsSdkAppId (SMS_TENCENT_APP_ID), the template's vendor id
(SMS_TEMPLATES), the signature and the values as a list, in the template's order
(nurture.sms.texts.PARAM_ORDER).

Answers: {"Response": {"SendStatusSet": [{"Code": "Ok", "SerialNo": …}], "RequestId"}}
is a text accepted; a status Code other than "Ok" for the number, or {"Response":
{"Error": {"Code", "Message"}}}, is a refusal, except frequency limits, internal errors
and network errors (the SDK's ClientNetworkError / ServerNetworkError), which are retried.
"""

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models, sms_client

from nurture.sms.providers import SendError
from nurture.sms.texts import PARAM_ORDER

RETRIED_PREFIXES = ("InternalError", "RequestLimitExceeded", "ClientNetworkError", "ServerNetworkError")


def _retried(code: str) -> bool:
    return str(code or "").startswith(RETRIED_PREFIXES)


class Tencent:
    name = "tencent"

    def __init__(self, config):
        http = HttpProfile(
            protocol=config["SMS_VENDOR_PROTOCOL"],
            endpoint=config["SMS_TENCENT_ENDPOINT"],
            reqTimeout=max(1, int(config["SMS_TIMEOUT"])),
        )
        self.client = sms_client.SmsClient(
            credential.Credential(config["SMS_TENCENT_SECRET_ID"], config["SMS_TENCENT_SECRET_KEY"]),
            config["SMS_TENCENT_REGION"],
            ClientProfile(httpProfile=http),
        )
        self.app_id = config["SMS_TENCENT_APP_ID"]

    def send(self, outgoing) -> str:
        if not outgoing.vendor_template:
            raise SendError(f"no Tencent template for {outgoing.template} in SMS_TEMPLATES", retry=False)
        request = models.SendSmsRequest()
        request.PhoneNumberSet = [outgoing.to_number]
        request.SmsSdkAppId = self.app_id
        request.SignName = outgoing.sign_name
        request.TemplateId = outgoing.vendor_template
        request.TemplateParamSet = [
            str(outgoing.params.get(name, "")) for name in PARAM_ORDER[outgoing.template]
        ]
        request.SessionContext = str(outgoing.id)
        try:
            response = self.client.SendSms(request)
        except TencentCloudSDKException as exc:
            raise SendError(f"Tencent: {exc.get_code()}", retry=_retried(exc.get_code())) from exc
        statuses = response.SendStatusSet or []
        if not statuses:
            raise SendError("Tencent: no status for the number", retry=True)
        status = statuses[0]
        if status.Code != "Ok":
            retry = _retried(status.Code) or status.Code.startswith(
                "LimitExceeded.PhoneNumberThirtySecondLimit"
            )
            raise SendError(f"Tencent refused: {status.Code} {status.Message}", retry=retry)
        return status.SerialNo or ""
