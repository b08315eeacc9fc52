"""Nurture test helpers: leads, sequences, a tick at a given time."""

from datetime import datetime

import pytest

from core.extensions import db
from gated.models import Lead
from nurture import services, worker

# A Monday, 10:00 in Shanghai (02:00 UTC): inside a weekday 09:00-18:00 window.
MONDAY_10_SHANGHAI = datetime(2026, 11, 23, 2, 0)


@pytest.fixture(autouse=True)
def _fast_sending(request, monkeypatch):
    """No per-second pacing in tests (the pacer is tested on its own)."""
    if "app" in request.fixturenames:
        app = request.getfixturevalue("app")
        monkeypatch.setitem(app.config, "MAIL_RATE_PER_SECOND", 0)


def make_lead(email="lead@example.com", name="李雷", company="示例公司", consent=True, **fields) -> Lead:
    lead = Lead(email=email, name=name, company=company, marketing_consent=consent, **fields)
    db.session.add(lead)
    db.session.commit()
    return lead


def sequence_data(slug="follow", steps=None, **fields) -> dict:
    data = {
        "slug": slug,
        "name": "跟进",
        "status": "active",
        "trigger": "manual",
        "send_window": {
            "days": ["mon", "tue", "wed", "thu", "fri"],
            "start": "09:00",
            "end": "18:00",
            "timezone": "Asia/Shanghai",
        },
        "steps": steps
        or [
            {
                "delay": "0h",
                "subject": "{{ lead.first_name or '您好' }},第一封",
                "body": "你好 {{ lead.name }},[下载]({{ download_url }})",
            },
            {"delay": "2d", "subject": "第二封", "body": "第二封正文"},
        ],
    }
    data.update(fields)
    return data


def make_sequence(**kwargs):
    sequence, _outcome = services.save_sequence(sequence_data(**kwargs), now=MONDAY_10_SHANGHAI)
    return sequence


def tick(now, **kwargs):
    return worker.tick(now, worker_name="test", **kwargs)
