"""What each SMS template says, in the site's language, for the providers that take a
whole text (sink, http) and for the outbox. The vendors (aliyun, tencent) keep their own
approved copy of each template and receive only its id and values (SMS_TEMPLATES)."""

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

TEXTS = {
    "verify_code": _l("Your verification code is %(code)s. It is valid for %(minutes)s minutes."),
    "download_link": _l("Your download of “%(title)s”: %(url)s"),
    # The help assistant's acknowledgement to a visitor who left only a mobile number.
    "ticket_received": _l(
        "We have your question (ticket %(number)s). A person will contact you at this number soon."
    ),
}
# The order a vendor that takes a list of values (Tencent) expects them in.
PARAM_ORDER = {
    "verify_code": ("code", "minutes"),
    "download_link": ("title", "url"),
    "ticket_received": ("number",),
}


def render(template: str, params: dict, *, sign: str, locale: str) -> str:
    """The text as the phone shows it: 【signature】 then the message."""
    with force_locale(locale):
        body = str(TEXTS[template]) % {name: params.get(name, "") for name in PARAM_ORDER[template]}
    return f"【{sign}】{body}" if sign else body


def masked_params(params: dict, secret: list) -> dict:
    """The values as staff may see them: secret ones (a code) as ******."""
    return {name: ("******" if name in secret else value) for name, value in params.items()}
