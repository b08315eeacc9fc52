"""Campaign test helpers: leads and what they did, each made through the services that
make them in production (the form, the download, the tracker, the nurture worker)."""

import io
from datetime import datetime

import pytest
from flask import current_app

from core.extensions import db
from gated.assets import store_asset
from gated.capture import RequestMeta, capture_lead
from gated.downloads import record_download
from gated.models import Asset, Lead

# A Monday, 10:00 in Shanghai: inside the test sequence's window.
NOW = datetime(2026, 11, 23, 2, 0)


def person(email: str, *, now: datetime = NOW, form: str = "whitepaper", **fields) -> Lead:
    """A lead who sent a form with `fields` (name, company, job_title, role, consent,
    utm_campaign …)."""
    data = {
        "email": email,
        "name": fields.pop("name", "李雷"),
        "consent": fields.pop("consent", "on"),
        **fields,
    }
    with current_app.test_request_context(base_url="http://localhost"):
        capture = capture_lead(form, data, request_meta=RequestMeta(), now=now)
    return db.session.get(Lead, capture.lead_id)


def asset(slug: str) -> Asset:
    return store_asset(io.BytesIO(slug.encode()), filename=f"{slug}.pdf", slug=slug, title=slug, now=NOW)


def download(lead: Lead, what: Asset, *, at: datetime = NOW) -> None:
    with current_app.test_request_context(base_url="http://localhost"):
        record_download(lead, what, ip=None, now=at)


@pytest.fixture
def unpaced(app, monkeypatch):
    """No per-second pacing (the pacer has its own tests)."""
    monkeypatch.setitem(app.config, "MAIL_RATE_PER_SECOND", 0)


# A campaign file with a two-subject test (sample_percent filled in by campaign_file).
DECEMBER = """slug: december
name: 十二月月刊
topic: newsletter
segment:
  all:
    - {field: company, op: contains, value: 制造}
variants:
  - {subject: "{{ lead.first_name or '您好' }},十二月月刊"}
  - {subject: 续费率提升的三个办法}
sample_percent: SAMPLE
wait: 4h
metric: opens
body: |
  {{ lead.name }},您好:

  [阅读全文](https://example.com/renewal)
"""


def campaign_file(sample=100, **replace) -> str:
    text = DECEMBER.replace("SAMPLE", str(sample))
    for old, new in replace.items():
        text = text.replace(old, new)
    return text


def open_mail(client, mail) -> None:
    """The recipient's client loads the mail's open pixel (the real tracking route)."""
    html = mail.get_body(("html",)).get_content()
    pixel = html.split("url('http://localhost/t/o/")[1].split("'")[0]
    assert client.get(f"/t/o/{pixel}").status_code == 200


def click_link(client, mail, index: int = 0) -> str:
    """The recipient clicks the mail's `index`th tracked link; where it led."""
    html = mail.get_body(("html",)).get_content()
    token = html.split('href="http://localhost/t/c/')[index + 1].split('"')[0]
    response = client.get(f"/t/c/{token}")
    assert response.status_code == 302
    return response.headers["Location"]


GOOD = {
    "slug": "renewal-launch",
    "name": "续费功能发布",
    "topic": "product-news",
    "segment": {"all": [{"field": "role", "op": "eq", "value": "decision_maker"}]},
    "exclude": {"any": [{"event": "mail_open", "within": "30d"}]},
    "variants": [
        {"subject": "新功能上线"},
        {"subject": "{{ lead.first_name or '您好' }},续费更简单了", "body": "另一版正文"},
    ],
    "sample_percent": 20,
    "wait": "4h",
    "metric": "clicks",
    "local_time": "09:00",
    "body": "{{ lead.name }},您好:\n\n续费功能已上线。",
}


def tick(runner, at):
    result = runner.invoke(args=["nurture", "tick", "--now", at.isoformat()])
    assert result.exit_code == 0, result.output
    return result.output
