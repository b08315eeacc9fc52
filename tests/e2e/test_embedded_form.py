"""An embedded lead form in a real browser, on a second origin: a partner's page on its
own port (a small local server) carries the one-line script. On an allowed origin the
form works end to end (proof of work, the lead attributed to the partner's page and its
utm tags, the download link at once and by mail) and on a phone the frame follows its
content's height down to the thank-you; on another origin nothing is shown or
stored and the console says why; a plain iframe on another origin is refused by the
browser (frame-ancestors)."""

import re

import pytest
from sqlalchemy import select

from content.models import Article
from core.extensions import db
from gated.models import EmbedSighting, Lead, Submission
from tests.e2e.helpers import publish_whitepaper
from tests.factories import LocalHttpServer, QuietHandler

pytestmark = pytest.mark.e2e
PDF_BYTES = b"%PDF-1.4\n% embedded white paper\n" + bytes(range(256)) * 4 + b"\n%%EOF\n"
SLUG = "e2e-embed"
HOST_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>合作伙伴大会</title>
<style>body {{ font-family: sans-serif; margin: 0; padding: 24px; background: #fff7ed; }}
.promo {{ --lodestar-accent: #c2410c; --lodestar-radius: 2px; max-width: 520px; }}</style></head>
<body><h1>合作伙伴大会 2026</h1><p>下载我们的联合白皮书。</p>
<div class="promo">{embed}</div></body></html>"""


class HostSite:
    """A partner's site: one page, served on a port of its own (another origin)."""

    def __init__(self, embed: str):
        body = HOST_PAGE.format(embed=embed).encode()

        class Page(QuietHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(body)

        # localhost, not 127.0.0.1: another site than the form's, as a partner's is.
        self.local = LocalHttpServer(Page, host="localhost")
        self.origin = self.local.url

    def stop(self):
        self.local.stop()


@pytest.fixture(scope="module")
def published(live_app, live_server):
    live_app.config.update(FORM_CHALLENGE="auto", FORM_MIN_FILL_SECONDS=3)
    with live_app.app_context():
        if db.session.scalar(select(Article.id).where(Article.slug == SLUG)) is None:
            publish_whitepaper(SLUG, "联合白皮书", PDF_BYTES, filename="联合白皮书.pdf")
        db.session.remove()


def _script(live_server) -> str:
    return f'<script src="{live_server.url}/embed.js" data-lodestar-form="library/{SLUG}" async></script>'


@pytest.fixture
def partner(live_app, live_server, published):
    """An allowed partner site with the script on its page."""
    site = HostSite(_script(live_server))
    live_app.config["EMBED_ORIGINS"] = [site.origin]
    yield site
    live_app.config["EMBED_ORIGINS"] = []
    site.stop()


@pytest.fixture
def stranger(live_app, live_server, published):
    """A site nobody allowed, with the same script and a plain iframe."""
    frame = f'<iframe id="plain" src="{live_server.url}/embed/library/{SLUG}" style="width:100%;height:300px"></iframe>'
    site = HostSite(_script(live_server) + frame)
    yield site
    site.stop()


def _browser_page(browser, viewport):
    context = browser.new_context(locale="zh-CN", viewport=viewport)
    return context, context.new_page()


def _stored(live_app, email: str):
    with live_app.app_context():
        lead = db.session.scalar(select(Lead).where(Lead.email == email))
        submission = (
            None
            if lead is None
            else db.session.scalar(select(Submission).where(Submission.lead_id == lead.id))
        )
        seen = {row.origin: row.submissions for row in db.session.scalars(select(EmbedSighting))}
        db.session.expunge_all()
        db.session.remove()
    return lead, submission, seen


def test_an_allowed_partner_page_embeds_the_form_end_to_end(live_app, browser, partner, smtp_sink, tmp_path):
    context, page = _browser_page(browser, {"width": 1366, "height": 900})
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    host_url = f"{partner.origin}/expo?utm_source=partner&utm_medium=referral&utm_campaign=expo2026"
    page.goto(host_url)
    form = page.frame_locator("iframe.lodestar-form")
    form.get_by_label("工作邮箱").fill("wang.fang@partner.example")
    form.get_by_label("姓名").fill("王芳")
    form.get_by_label("公司").fill("远景科技")
    # The host's CSS variable reaches the form's button.
    colour = form.get_by_role("button", name="获取白皮书").evaluate(
        "b => getComputedStyle(b).backgroundColor"
    )
    assert colour == "rgb(194, 65, 12)"
    page.screenshot(path=str(tmp_path / "embedded-form-desktop.png"), full_page=True)
    form.get_by_role("button", name="获取白皮书").click()
    link = form.get_by_role("link", name="下载白皮书")
    link.wait_for()
    assert re.search(r"/download/", link.get_attribute("href"))

    lead, submission, seen = _stored(live_app, "wang.fang@partner.example")
    assert lead is not None and lead.company == "远景科技"
    assert submission.landing_page == host_url  # the partner's page is the touch
    utm = submission.utm
    assert (utm["utm_source"], utm["utm_medium"], utm["utm_campaign"]) == ("partner", "referral", "expo2026")
    assert seen == {partner.origin: 1}

    result = live_app.test_cli_runner().invoke(args=["nurture", "tick"])
    assert result.exit_code == 0, result.output
    (mail,) = smtp_sink.wait_for(1)
    assert mail["To"].lower() == "wang.fang@partner.example"
    assert "/download/" in mail.get_body(("plain",)).get_content()
    assert errors == []
    context.close()


FRAME_HEIGHT = "document.querySelector('iframe.lodestar-form').getBoundingClientRect().height"


def _frame_fits(page, body) -> float:
    """The frame's height once it is its content's (embed-frame.js tells, embed.js sets):
    waited for, since the message comes after the content changed; returns it."""
    content = body.evaluate("b => b.scrollHeight")
    page.wait_for_function(f"h => Math.abs({FRAME_HEIGHT} - h) <= 2", arg=content, timeout=5000)
    height = page.evaluate(FRAME_HEIGHT)
    assert abs(height - body.evaluate("b => b.scrollHeight")) <= 2
    return height


def test_the_embedded_form_fits_a_phone_and_shrinks_to_its_thank_you(live_app, browser, partner, tmp_path):
    context, page = _browser_page(browser, {"width": 390, "height": 844})
    # The customer's visitor typed the address: the page's own tags, no referrer.
    host_url = f"{partner.origin}/pricing?utm_source=wechat"
    page.goto(host_url)
    form = page.frame_locator("iframe.lodestar-form")
    form.get_by_label("工作邮箱").fill("li.lei@partner.example")
    body = form.locator("body")
    assert body.evaluate("b => b.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(tmp_path / "embedded-form-phone.png"), full_page=True)
    form_height = _frame_fits(page, body)
    form.get_by_role("button", name="获取白皮书").click()
    form.get_by_role("link", name="下载白皮书").wait_for()
    # The thank-you is shorter than the form: the frame follows it down, no empty block.
    thanks_height = _frame_fits(page, body)
    assert thanks_height < form_height - 200
    page.screenshot(path=str(tmp_path / "embedded-thanks-phone.png"), full_page=True)

    lead, submission, _seen = _stored(live_app, "li.lei@partner.example")
    assert (lead.source, lead.first_channel, lead.first_utm_source) == ("wechat", "social", "wechat")
    assert (lead.first_landing_page, lead.first_referrer) == (host_url, host_url)
    assert (submission.landing_page, submission.referrer) == (host_url, host_url)
    context.close()


def test_another_origin_sees_nothing_stores_nothing_and_is_told_why(live_app, browser, stranger, live_server):
    context, page = _browser_page(browser, {"width": 1366, "height": 900})
    with page.expect_console_message(lambda message: message.text.startswith("Lodestar:")) as told:
        page.goto(f"{stranger.origin}/expo")
    assert told.value.type == "error"
    assert stranger.origin in told.value.text and "LODESTAR_EMBED_ORIGINS" in told.value.text
    assert page.locator("iframe.lodestar-form").count() == 0
    # The plain iframe: the browser refuses to show it (frame-ancestors), so no form in it.
    assert page.frame_locator("#plain").locator("form.lead-form").count() == 0
    # A page there that posts the form itself is refused by Origin, and nothing is stored.
    status = page.evaluate(
        """async (url) => {
            const body = new FormData();
            body.append("email", "intruder@stranger.example");
            body.append("consent", "y");
            try { await fetch(url, {method: "POST", body, mode: "no-cors"}); return "sent"; }
            catch (error) { return "failed"; }
        }""",
        f"{live_server.url}/embed/library/{SLUG}",
    )
    assert status == "sent"
    lead, _submission, seen = _stored(live_app, "intruder@stranger.example")
    assert lead is None and stranger.origin not in seen
    context.close()
