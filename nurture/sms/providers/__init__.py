"""The SMS providers. Each is an object with `name` and `send(outgoing) -> provider_id`
that raises SendError: `retry=True` for an outage or a timeout (the queue tries again
later), False for a refusal that another try would not change (a bad number, an unknown
template, a wrong key)."""

from __future__ import annotations

from dataclasses import dataclass

from core.config import SettingsError

EXPIRED = "expired before it could be sent"


class SendError(Exception):
    def __init__(self, message: str, *, retry: bool):
        super().__init__(message)
        self.retry = retry


@dataclass(frozen=True)
class Outgoing:
    """One text as a provider needs it."""

    id: int
    to_number: str
    template: str
    params: dict
    text: str
    vendor_template: str
    sign_name: str


def templates(config) -> dict[str, str]:
    """SMS_TEMPLATES as {our name: the vendor's template id}."""
    value = config["SMS_TEMPLATES"]
    if isinstance(value, dict):
        return dict(value)
    pairs = (str(item).partition("=") for item in value)
    return {name.strip(): vendor.strip() for name, _, vendor in pairs if name.strip()}


def outgoing(message, config) -> Outgoing:
    from nurture.sms.texts import render

    return Outgoing(
        id=message.id,
        to_number=message.to_number,
        template=message.template,
        params=dict(message.params),
        text=render(
            message.template, message.params, sign=config["SMS_SIGN_NAME"], locale=config["DEFAULT_LOCALE"]
        ),
        vendor_template=templates(config).get(message.template, ""),
        sign_name=config["SMS_SIGN_NAME"],
    )


def from_config(config):
    """The provider SMS_PROVIDER names."""
    name = config["SMS_PROVIDER"]
    if name == "sink":
        from nurture.sms.providers.sink import Sink

        return Sink()
    if name == "http":
        from nurture.sms.providers.http import HttpGateway

        return HttpGateway(config)
    if name == "aliyun":
        from nurture.sms.providers.aliyun import Aliyun

        return Aliyun(config)
    if name == "tencent":
        from nurture.sms.providers.tencent import Tencent

        return Tencent(config)
    raise SettingsError(f"LODESTAR_SMS_PROVIDER must be one of sink, http, aliyun, tencent, not {name!r}.")
