"""Outgoing SMS: transactional texts only (verification codes, a download link on
request), queued as rows and sent by nurture's worker through the provider of
SMS_PROVIDER (sink, http, aliyun, tencent). See docs/SMS.md.

    models.py     SmsMessage: one text to one number, its status, tries and error
    queue.py      add_sms (inside the caller's transaction), deliver_due (the worker's step)
    texts.py      what each template says (the sink, http and the outbox show it)
    providers/    one module per provider; each sends one text or raises SendError
    admin.py      the SMS outbox for staff (numbers partly masked, codes never shown)
"""

SETTINGS = {
    # sink (development: the outbox shows each text) | http | aliyun | tencent
    "SMS_PROVIDER": "sink",
    # The signature vendors put before every text (签名, registered with the vendor).
    "SMS_SIGN_NAME": "Lodestar",
    # Our template names to the vendor's template ids: "verify_code=SMS_1234,download_link=SMS_5678".
    "SMS_TEMPLATES": [],
    "SMS_MAX_ATTEMPTS": 6,
    # Transactional texts one number may get in an hour (codes have their own limits).
    "SMS_PER_NUMBER_PER_HOUR": 10,
    "SMS_TIMEOUT": 5.0,
    "SMS_HTTP_URL": "",
    "SMS_HTTP_SECRET": "",
    "SMS_ALIYUN_ACCESS_KEY_ID": "",
    "SMS_ALIYUN_ACCESS_KEY_SECRET": "",
    "SMS_ALIYUN_ENDPOINT": "dysmsapi.aliyuncs.com",
    "SMS_TENCENT_SECRET_ID": "",
    "SMS_TENCENT_SECRET_KEY": "",
    "SMS_TENCENT_APP_ID": "",
    "SMS_TENCENT_REGION": "ap-guangzhou",
    "SMS_TENCENT_ENDPOINT": "sms.tencentcloudapi.com",
    # http or https, for the vendors' endpoints (a local fake in the tests speaks http).
    "SMS_VENDOR_PROTOCOL": "https",
}
PROVIDERS = ("sink", "http", "aliyun", "tencent")


def check_settings(config) -> None:
    """SMS_PROVIDER, checked at start: a typo must not leave every code unsent."""
    from core.config import SettingsError

    name = str(config["SMS_PROVIDER"]).strip().lower()
    if name not in PROVIDERS:
        raise SettingsError(f"LODESTAR_SMS_PROVIDER must be one of {', '.join(PROVIDERS)}, not {name!r}.")
    config["SMS_PROVIDER"] = name
