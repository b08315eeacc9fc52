"""axe-core (npm, pinned in package.json) on the pages people use most: the home page, a
help article, a white-paper landing page with its form, search results, the editor and
the sequence builder. No serious or critical violation may remain.

The site's CSP blocks an injected script tag, so the file's text is evaluated through
the DevTools protocol, which the page's CSP does not govern.
"""

import io
from urllib.parse import unquote

import pytest
from playwright.sync_api import expect

from accounts import services as accounts
from content.models import Article
from core.extensions import db
from core.timeutil import utcnow
from gated.assets import store_asset
from nurture import sequences
from tests.e2e.helpers import serious_violations, sign_in
from tests.factories import make_article

pytestmark = pytest.mark.e2e
PASSWORD = "long enough pw"


@pytest.fixture(scope="module")
def site(live_app, live_server):
    """A help article, a white paper with its file, a sequence and an admin, made by the services."""
    now = utcnow()
    with live_app.app_context():
        help_article = make_article(
            "## 第一步\n\n打开**设置**,选择续费提醒。\n\n| 字段 | 说明 |\n|---|---|\n| 周期 | 每月 |\n\n"
            "```python\nprint('续费')\n```\n",
            title="如何设置续费提醒",
            slug="renewal-reminders",
            category="客户成功",
            summary="三步设置续费提醒。",
            now=now,
        )
        make_article(
            "## 第一章\n\n续费率的计算方法。",
            title="SaaS 续费白皮书",
            slug="a11y-renewal",
            kind="whitepaper",
            summary="提高续费率的方法。",
            now=now,
        )
        paper = db.session.query(Article).filter_by(slug="a11y-renewal").one()
        store_asset(
            io.BytesIO(b"%PDF-1.4\n%%EOF\n"),
            filename="续费白皮书.pdf",
            slug=paper.slug,
            title=paper.title,
            article_id=paper.id,
            now=now,
        )
        sequence, _ = sequences.save_sequence(
            {
                "slug": "a11y-followup",
                "name": "白皮书下载后培育",
                "trigger": {"asset": "a11y-renewal"},
                "steps": [
                    {"delay": "0h", "subject": "感谢下载", "body": "您好:\n\n感谢下载。"},
                    {"delay": "3d", "subject": "三个团队的实践", "body": "您好:\n\n我们整理了三个做法。"},
                ],
            },
            now=now,
        )
        accounts.create_user("a11y-admin@example.com", role="admin", password=PASSWORD)
        ids = {"help": help_article.id, "sequence": sequence.id}
        db.session.remove()
    return ids


def check(page, axe_source, path):
    response = page.goto(path)
    assert response.ok, f"{path}: HTTP {response.status}"
    assert unquote(page.url).endswith(path), f"{path}: ended on {page.url}"
    problems = serious_violations(page, axe_source)
    assert not problems, f"axe-core on {path}:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    "path",
    ["/", "/help/renewal-reminders", "/library/a11y-renewal", "/search?q=续费", "/help/ask"],
)
def test_public_pages_have_no_serious_violations(page, site, axe_source, path):
    check(page, axe_source, path)


def test_the_landing_form_has_its_fields_named(page, site):
    # The check above covers the form; this makes sure the form was really on the page.
    page.goto("/library/a11y-renewal")
    assert page.locator("form input[type=email]").count() == 1
    assert page.get_by_label("邮箱").count() >= 1


def test_editor_and_sequence_builder_have_no_serious_violations(page, site, axe_source):
    sign_in(page, "a11y-admin@example.com", PASSWORD)
    check(page, axe_source, f"/admin/content/{site['help']}")
    check(page, axe_source, f"/admin/nurture/{site['sequence']}/edit")


@pytest.mark.parametrize("path", ["/", "/help/", "/help/renewal-reminders", "/library/a11y-renewal"])
def test_public_pages_on_a_phone_have_no_serious_violations(phone, site, axe_source, path):
    check(phone, axe_source, path)


def test_the_landing_form_with_its_errors_has_no_serious_violations(live_app, page, site, axe_source):
    live_app.config["FORM_MIN_FILL_SECONDS"] = 0
    page.goto("/library/a11y-renewal")
    page.locator("form input[type=email]").fill("not-an-email")
    email = page.locator("form input[type=email]")
    email.evaluate("field => field.form.noValidate = true")  # the server's errors, not the browser's
    with page.expect_navigation():
        email.evaluate("field => field.form.requestSubmit()")
    expect(page.locator("input[type=email][aria-invalid=true]")).to_have_count(1)
    expect(page.locator("form p.error").first).to_be_visible()
    problems = serious_violations(page, axe_source)
    assert not problems, "axe-core on the landing form with errors:\n" + "\n".join(problems)


def test_the_editor_and_sequence_builder_reflow_on_a_phone(phone, site):
    """WCAG 1.4.10 (reflow), which axe-core does not check: at 390 px the page does not
    scroll sideways (the admin's tab strip scrolls inside itself)."""
    sign_in(phone, "a11y-admin@example.com", PASSWORD)
    for path in (f"/admin/content/{site['help']}", f"/admin/nurture/{site['sequence']}/edit"):
        phone.goto(path)
        width = phone.evaluate("document.documentElement.clientWidth")
        assert phone.evaluate("document.documentElement.scrollWidth") <= width, path
        assert phone.locator("main").evaluate("main => main.getBoundingClientRect().right") <= width, path


def test_the_site_header_keeps_the_page_margins_on_a_phone(phone, site):
    phone.goto("/help/renewal-reminders")
    width = phone.evaluate("document.documentElement.clientWidth")
    for locator in (phone.locator(".site-header .brand"), phone.locator(".site-header input[type=search]")):
        box = locator.bounding_box()
        assert box["x"] >= 16 and box["x"] + box["width"] <= width - 16, box


@pytest.mark.parametrize("device", ["page", "phone"])
def test_the_thank_you_page_and_the_leads_page_pass_axe_and_fit_a_phone(
    request, live_app, site, axe_source, device
):
    """The thank-you page with its next step, and a lead's page with the forms it sent
    (a value held back marked), on a desktop and at 390 px without sideways scrolling."""
    from gated.models import Lead

    browser_page = request.getfixturevalue(device)
    live_app.config["FORM_MIN_FILL_SECONDS"] = 0
    for name in ("李雷", "Hacked Name With A Long Company Name To Wrap"):
        browser_page.goto("/library/a11y-renewal")
        form = browser_page.locator("form.lead-form")
        form.locator("input[type=email]").fill(f"a11y-{device}@example.cn")
        form.locator("input[name=name]").fill(name)
        form.locator("button[type=submit]").click()
        browser_page.wait_for_url("**/thanks?t=*")
    expect(browser_page.locator(".next-step")).to_contain_text("预约演示")
    with live_app.app_context():
        lead_id = db.session.query(Lead.id).filter_by(email=f"a11y-{device}@example.cn").scalar()
        db.session.remove()
    thanks = browser_page.url.split(browser_page.url.split("/library/")[0], 1)[1]
    sign_in(browser_page, "a11y-admin@example.com", PASSWORD)
    for path in (thanks, f"/admin/leads/{lead_id}"):
        check(browser_page, axe_source, path)
        width = browser_page.evaluate("document.documentElement.clientWidth")
        assert browser_page.evaluate("document.documentElement.scrollWidth") <= width, path
    expect(browser_page.locator(".lead-submissions .badge.warn")).to_have_count(1)
