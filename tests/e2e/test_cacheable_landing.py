"""A landing page any cache may serve, in a real browser: the page sets no cookie and
carries nothing of the visitor, yet the lead records the campaign of the URL it came in
by and the referrer the page's script read from document.referrer, and the page view
arrives by the beacon, which gives the visitor their id."""

import pytest
from sqlalchemy import select

from core.extensions import db
from gated.models import Lead, Submission
from insights import tracking
from insights.models import Event
from tests.e2e.helpers import publish_whitepaper

pytestmark = pytest.mark.e2e
BROWSER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
)
LANDING = "/library/e2e-cacheable?utm_source=zhihu&utm_medium=social&utm_campaign=autumn"


@pytest.fixture
def visitor(browser, live_server, live_app):
    live_app.config["FORM_MIN_FILL_SECONDS"] = 0
    with live_app.app_context():
        if db.session.scalar(select(Submission.id).limit(1)) is None:
            publish_whitepaper("e2e-cacheable", "缓存白皮书", b"%PDF-1.4\n% cacheable\n%%EOF\n")
        db.session.remove()
    tracking.buffer(live_app).clear()
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", user_agent=BROWSER_AGENT)
    yield context.new_page()
    context.close()


def test_a_cached_landing_page_still_knows_where_the_lead_came_from(live_app, visitor):
    response = visitor.goto(LANDING, referer="https://www.zhihu.com/question/42")
    assert "set-cookie" not in response.headers
    assert "public" in response.headers["cache-control"]
    # The beacon's answer gives the visitor their id.
    visitor.wait_for_function("document.cookie !== undefined")
    visitor.wait_for_timeout(500)
    assert "lodestar_vid" in {cookie["name"] for cookie in visitor.context.cookies()}

    visitor.get_by_label("工作邮箱").fill("cache.visitor@example.cn")
    visitor.get_by_label("姓名").fill("陈晨")
    visitor.get_by_label("公司").fill("远山科技")
    visitor.get_by_label("职位").fill("CMO")
    visitor.get_by_role("button", name="获取白皮书").click()
    visitor.wait_for_url("**/library/e2e-cacheable/thanks?t=*")

    tracking.flush(live_app)
    with live_app.app_context():
        lead = db.session.scalar(select(Lead).where(Lead.email == "cache.visitor@example.cn"))
        submission = lead.submissions[0]
        assert submission.utm["utm_source"] == "zhihu" and submission.utm["utm_campaign"] == "autumn"
        assert submission.referrer.startswith("https://www.zhihu.com/")
        assert submission.channel == "social"
        views = db.session.scalars(
            select(Event).where(Event.kind == "page_view", Event.path == "/library/e2e-cacheable")
        ).all()
        assert views and views[0].visitor_id and views[0].channel == "social"
        db.session.remove()
