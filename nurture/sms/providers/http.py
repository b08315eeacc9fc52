"""Any other gateway: a JSON POST to SMS_HTTP_URL, signed like the hand-off webhook
(X-Lodestar-Signature: sha256=HMAC of the raw body with SMS_HTTP_SECRET).

Body: {"id", "to", "template", "params", "text"}. A 2xx answer is accepted (its JSON
"id", if any, is kept as the provider's id); 4xx is a refusal (not retried, except 408
and 429); 5xx, a timeout or no connection are retried.
"""

import json
import urllib.error
import urllib.request

from gated.webhooks import SIGNATURE_HEADER, signature
from nurture.sms.providers import SendError

RETRIED_CLIENT_ERRORS = (408, 429)


class HttpGateway:
    name = "http"

    def __init__(self, config):
        self.url = config["SMS_HTTP_URL"]
        self.secret = config["SMS_HTTP_SECRET"] or ""
        self.timeout = config["SMS_TIMEOUT"]

    def send(self, outgoing) -> str:
        if not self.url:
            raise SendError("SMS_HTTP_URL is not set", retry=False)
        body = json.dumps(
            {
                "id": outgoing.id,
                "to": outgoing.to_number,
                "template": outgoing.template,
                "params": outgoing.params,
                "text": outgoing.text,
            },
            ensure_ascii=False,
            sort_keys=True,
        ).encode()
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "Lodestar-SMS/1",
                SIGNATURE_HEADER: signature(self.secret, body),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - operator's URL
                answer = response.read(64 * 1024)
        except urllib.error.HTTPError as exc:
            retry = exc.code >= 500 or exc.code in RETRIED_CLIENT_ERRORS
            raise SendError(f"gateway answered {exc.code}", retry=retry) from exc
        except (OSError, ValueError) as exc:
            raise SendError(f"gateway unreachable: {exc}", retry=True) from exc
        try:
            return str(json.loads(answer or b"{}").get("id") or "")
        except (ValueError, AttributeError):
            return ""
