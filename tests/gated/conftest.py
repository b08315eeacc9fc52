"""Fixtures of the gated tests: a published white paper with its file, valid form data
(with a start time old enough to pass the minimum fill time), a signal recorder."""

import io
import time
from datetime import timedelta

import altcha
import pytest

from content.models import Article
from core.extensions import db
from core.timeutil import utcnow
from core.tokens import sign
from gated import signals
from gated.assets import store_asset

PDF_BYTES = b"%PDF-1.4\n% Lodestar test file \xe2\x9c\xa6\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"


def make_whitepaper(
    slug="saas-renewal", title="如何提高 SaaS 续费率", *, with_asset=True, filename="续费指南.pdf"
):
    now = utcnow()
    article = Article(
        kind="whitepaper",
        slug=slug,
        title=title,
        summary="一句话摘要",
        status="published",
        published_at=now - timedelta(days=1),
        body_md="# 一\n",
        body_html="<h1 id='a'>一</h1>",
        toc_html='<div class="toc"><ul><li><a href="#a">第一章 续费的真相</a></li></ul></div>',
        sequence_slug="whitepaper-followup",
    )
    db.session.add(article)
    db.session.commit()
    asset = None
    if with_asset:
        asset = store_asset(
            io.BytesIO(PDF_BYTES), filename=filename, slug=slug, title=title, article_id=article.id, now=now
        )
    return article, asset


@pytest.fixture
def whitepaper(app):
    return make_whitepaper()


def open_mailed_link(client, lead_id: int, asset_id: int) -> None:
    """Open a download link as mailed to the lead: the browser becomes a known visitor."""
    from gated.downloads import make_download_url

    client.get(make_download_url(lead_id, asset_id, external=False, mailed=True)).close()


def started(seconds_ago=60):
    return sign("form-start", {"t": time.time() - seconds_ago})


def form_data(**overrides):
    data = {
        "email": "  Wang.Fang@Example.COM ",
        "name": "王芳",
        "company": "星河软件",
        "job_title": "CTO",
        "phone": "138 0013 8000",
        "role": "decision_maker",
        "started": started(),
        "utm_source": "baidu",
        "utm_medium": "cpc",
        "utm_campaign": "renewal",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


class Recorder:
    """Collects the signals gated sends, with what the receiver could see at that time."""

    def __init__(self, app):
        self.app = app
        self.calls = []

    def __call__(self, name):
        def receive(sender, **payload):
            self.calls.append((name, payload, db.session().in_transaction()))

        return receive

    def of(self, name):
        return [payload for signal_name, payload, _ in self.calls if signal_name == name]

    def mailed_link(self) -> str:
        """The path of the last download link asked for by mail (opening it proves the
        address, so the browser becomes a known visitor)."""
        (*_, mail) = [m for m in self.of("mail_requested") if m["template"] == "gated/email/download_link"]
        return mail["context"]["download_url"].replace("http://localhost", "")


@pytest.fixture
def recorder(app):
    recording = Recorder(app)
    receivers = []
    for name in ("lead_captured", "mail_requested", "lead_stage_changed", "lead_erased", "download_recorded"):
        receiver = recording(name)
        getattr(signals, name).connect(receiver, sender=app, weak=False)
        receivers.append((name, receiver))
    yield recording
    for name, receiver in receivers:
        getattr(signals, name).disconnect(receiver, sender=app)


@pytest.fixture
def cheap_challenges(app, monkeypatch):
    """Proof-of-work as cheap as it gets: the tests solve it in Python, the check is the same."""
    monkeypatch.setitem(app.config, "FORM_CHALLENGE_COST", 1)


@pytest.fixture
def solve(client, cheap_challenges):
    """solve() -> the payload a browser's widget sends: a challenge fetched from the site's
    own endpoint and solved with the ALTCHA library."""

    def solved() -> str:
        challenge = altcha.Challenge.from_dict(client.get("/forms/challenge").get_json())
        return altcha.Payload(challenge, altcha.solve_challenge(challenge)).to_base64()

    return solved


@pytest.fixture(params=["auto", "always", "off"])
def challenge_mode(request, app, monkeypatch):
    """Each value of FORM_CHALLENGE in turn."""
    monkeypatch.setitem(app.config, "FORM_CHALLENGE", request.param)
    return request.param


def fast(**overrides):
    """Form data as an autofilling browser sends it: every field at once, a second after
    the page was shown."""
    return form_data(started=sign("form-start", {"t": time.time()}), **overrides)
