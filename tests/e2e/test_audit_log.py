"""The audit log in a real browser: a failed and a good sign-in through the login page
show on the admin's audit page, which filters by action and fits a phone."""

import pytest

from accounts import services
from core.extensions import db
from tests.e2e.helpers import STAFF_PASSWORD, sign_in

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def admin(live_app, live_server):
    with live_app.app_context():
        services.create_user("audit-admin@example.com", role="admin", password=STAFF_PASSWORD)
        db.session.remove()
    return "audit-admin@example.com"


@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 900}, {"width": 390, "height": 844}])
def test_the_audit_page_shows_sign_ins_and_filters_them(browser, live_server, admin, viewport, tmp_path):
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport=viewport)
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("邮箱").fill(admin)
    page.get_by_label("密码").fill("not the password")
    page.get_by_role("button", name="登录").click()
    sign_in(page, admin)
    page.goto("/admin/audit/")
    table = page.locator("table.audit-table")
    assert "登录失败" in table.inner_text() and "登录" in table.inner_text()
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner
    page.screenshot(path=str(tmp_path / f"audit-{viewport['width']}.png"), full_page=True)
    page.get_by_label("行为", exact=True).select_option(label="登录失败")
    page.get_by_role("button", name="筛选").click()
    rows = page.locator("table.audit-table tbody tr")
    assert rows.count() >= 1
    assert all("登录失败" in text for text in rows.all_inner_texts())
    context.close()
