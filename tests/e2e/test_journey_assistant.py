"""A customer of a lower tier asks the help assistant in a real browser: the answers do
not help, they say "not yet" three times, get the ticket form filled in from their
questions, send it, see the acknowledgement, and the acknowledgement mail arrives. The
same flow inside the floating panel, with JavaScript; and axe-core on every page of it."""

import pytest
from playwright.sync_api import expect

from accounts import services as accounts
from assistant import tiers
from assistant.models import Ticket
from content.search.state import get_index
from core.extensions import db
from core.timeutil import utcnow
from nurture import worker
from tests.e2e.helpers import STAFF_PASSWORD, in_wechat, serious_violations, sign_in
from tests.factories import make_article

pytestmark = pytest.mark.e2e
QUESTION = "单点登录一直失败怎么办"


@pytest.fixture(scope="module")
def help_center(live_app, live_server):
    with live_app.app_context():
        for number, (slug, title) in enumerate(
            [
                ("e2e-sso-1", "如何配置单点登录"),
                ("e2e-sso-2", "单点登录失败的常见原因"),
                ("e2e-sso-3", "单点登录的证书"),
                ("e2e-sso-4", "单点登录与两步验证"),
                ("e2e-sso-5", "单点登录的域名验证"),
                ("e2e-sso-6", "单点登录的用户同步"),
                ("e2e-sso-7", "单点登录的审计日志"),
                ("e2e-sso-8", "单点登录支持的应用"),
                ("e2e-sso-9", "单点登录的价格"),
            ]
        ):
            make_article(
                f"关于单点登录的说明,第 {number} 篇。", title=title, slug=slug, category="账号与安全"
            )
        get_index().sync(utcnow(), force=True)
        levels = {tier.level: tier for tier in tiers.ensure_tiers()}
        account = tiers.save_account(
            None, {"company": "远景制造", "domains": "yuanjing.cn", "tier_id": levels[4].id}, now=utcnow()
        )
        link = f"/help/ask?account={tiers.account_link_token(account.id)}"
        db.session.remove()
    return link


def test_not_yet_three_times_then_a_ticket_and_its_acknowledgement(live_app, page, help_center, smtp_server):
    smtp_server.clear()
    page.goto(help_center)  # the customer's signed link from their product
    expect(page.get_by_text("已识别为 远景制造 的客户。")).to_be_visible()
    page.get_by_label("您的问题").fill(QUESTION)
    page.get_by_role("button", name="提问", exact=True).click()
    page.wait_for_url("**/help/ask/**")
    seen = set()
    for _round in range(3):
        links = page.locator(".assistant-round:last-of-type .assistant-answers a")
        expect(links).to_have_count(3)
        titles = set(links.all_inner_texts())
        assert not titles & seen  # never the same answer twice
        seen |= titles
        page.get_by_role("button", name="还没有").click()
        page.wait_for_load_state()
    form = page.locator("#contact")
    expect(form.get_by_role("heading", name="联系专人")).to_be_visible()
    expect(form.get_by_label("您的留言")).to_have_value(QUESTION)  # no need to repeat themselves
    form.get_by_label("您的邮箱").fill("li.lei@yuanjing.cn")
    form.get_by_label("您的姓名").fill("李雷")
    form.get_by_role("button", name="提交工单").click()
    done = page.locator("#done")
    expect(done.get_by_role("heading", name="我们已收到您的请求")).to_be_visible()
    with live_app.app_context():
        ticket = db.session.query(Ticket).one()
        assert (ticket.route, ticket.email) == ("ticket", "li.lei@yuanjing.cn")
        expect(done).to_contain_text(f"您的工单编号是 {ticket.id}")
        counts = worker.tick(utcnow())
        db.session.remove()
    assert counts["sent"] == 1
    [ack] = smtp_server.wait_for(1)
    assert str(ack["To"]) == "li.lei@yuanjing.cn"
    assert "工单" in str(ack["Subject"])


def test_the_floating_panel_keeps_the_conversation_on_the_page(page, help_center):
    page.goto("/help/e2e-sso-1")
    panel = page.locator(".assistant-panel")
    panel.get_by_text("提个问题").click()
    panel.get_by_label("您的问题").fill("单点登录的证书过期了")
    panel.get_by_role("button", name="提问", exact=True).click()
    expect(panel.locator(".assistant-answers a").first).to_be_visible()
    assert page.url.endswith("/help/e2e-sso-1")  # still on the article
    panel.get_by_role("button", name="解决了").click()
    expect(panel.get_by_role("status")).to_contain_text("很高兴帮到您")


def test_the_assistant_pages_have_no_serious_violations(live_app, page, phone, help_center, axe_source):
    def audit(where, name):
        problems = serious_violations(where, axe_source)
        assert not problems, f"axe-core on {name}:\n" + "\n".join(problems)

    for browser_page in (page, phone):
        browser_page.goto("/help/ask?account=forged")  # the refused link's message
        audit(browser_page, "the refused link")
        browser_page.goto("/help/ask")
        browser_page.get_by_label("您的问题").fill("单点登录")
        browser_page.get_by_role("button", name="提问", exact=True).click()
        browser_page.wait_for_url("**/help/ask/**")
        audit(browser_page, "a round")
        for _round in range(3):
            browser_page.get_by_role("button", name="还没有").click()
            browser_page.wait_for_load_state()
        browser_page.locator("#contact-email").evaluate("field => field.form.noValidate = true")
        browser_page.locator("#contact button[type=submit]").click()
        expect(browser_page.locator("#contact-email-error")).to_be_visible()
        audit(browser_page, "the contact form with its errors")
    page.goto("/help/e2e-sso-2")
    page.locator(".assistant-panel summary").click()
    audit(page, "a help article with the panel open")
    with live_app.app_context():
        accounts.create_user("assist-admin@example.com", role="admin", password=STAFF_PASSWORD)
        db.session.remove()
    sign_in(page, "assist-admin@example.com")
    for path in (
        "/admin/assistant/",
        "/admin/assistant/stats",
        "/admin/assistant/unsolved",
        "/admin/assistant/tiers",
    ):
        page.goto(path)
        audit(page, path)


def test_in_wechats_browser_the_assistant_answers_and_hands_over_on_a_phone(
    browser, live_server, help_center
):
    wechat = in_wechat(browser, live_server)
    try:
        page = wechat.new_page()
        page.goto("/help/ask")
        page.get_by_label("您的问题").fill(QUESTION)
        page.get_by_role("button", name="提问", exact=True).click()
        page.wait_for_url("**/help/ask/**")
        expect(page.locator(".assistant-answers a")).to_have_count(3)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        for _round in range(3):
            page.get_by_role("button", name="还没有").click()
            page.wait_for_load_state()
        form = page.locator("#contact")
        expect(form.get_by_role("heading", name="联系专人")).to_be_visible()
        expect(form.get_by_label("您的留言")).to_have_value(QUESTION)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    finally:
        wechat.close()
