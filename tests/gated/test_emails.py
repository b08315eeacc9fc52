"""The mail templates nurture renders for gated render in both languages with the context
gated sends."""

import pytest
from flask import render_template
from flask_babel import force_locale

from gated.models import Lead

pytestmark = pytest.mark.usefixtures("app")
CONTEXTS = {
    "download_link": {
        "download_url": "http://localhost/download/abc",
        "asset_title": "续费指南",
        "valid_days": 7,
    },
    "confirm": {"confirm_url": "http://localhost/confirm/abc"},
    "demo_received": {},
}


@pytest.mark.parametrize("name", sorted(CONTEXTS))
@pytest.mark.parametrize(("locale", "hello"), [("zh_CN", "您好"), ("en", "Hello")])
def test_mail_templates_render(app, name, locale, hello):
    lead = Lead(email="a@b.com", name="王芳")
    with app.test_request_context(), force_locale(locale):
        parts = {
            part: render_template(f"gated/email/{name}/{part}", lead=lead, **CONTEXTS[name])
            for part in ("subject.txt", "body.txt", "body.html")
        }
    assert parts["subject.txt"].strip() and "\n" not in parts["subject.txt"].strip()
    assert hello in parts["body.txt"] and "王芳" in parts["body.html"]
    for url in ("download_url", "confirm_url"):
        if url in CONTEXTS[name]:
            assert CONTEXTS[name][url] in parts["body.txt"] and CONTEXTS[name][url] in parts["body.html"]
