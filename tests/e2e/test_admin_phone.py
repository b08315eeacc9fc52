"""Every admin page each role can open fits a phone (390 × 844): nothing wider than the
screen, so nothing needs a sideways scroll of the whole page (a wide table scrolls inside
its own box). The pages are reached as a user reaches them, by links from /admin/, with
the demo data loaded."""

import pytest

from accounts import services
from accounts.models import ROLES
from core.extensions import db
from tests.conftest import admin_pages
from tests.e2e.helpers import STAFF_PASSWORD, sign_in

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def staff(live_app, live_server):
    with live_app.app_context():
        assert live_app.test_cli_runner().invoke(args=["demo", "load"]).exit_code == 0
        for role in ROLES:
            services.create_user(f"{role}-phone@example.com", role=role, password=STAFF_PASSWORD)
        db.session.remove()
    return {role: f"{role}-phone@example.com" for role in ROLES}


@pytest.mark.parametrize("role", ROLES)
def test_every_admin_page_fits_a_phone(browser, live_server, staff, role):
    context = browser.new_context(
        base_url=live_server.url, locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    try:
        sign_in(page, staff[role])
        too_wide = {}

        def get(path):
            response = page.goto(path)
            # A phone widens its layout viewport to fit a page that is too wide (and zooms
            # out), so innerWidth grows with the page: both are held to the screen's width.
            width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            if width > inner or inner > PHONE["width"]:
                too_wide[path] = max(width, inner)
            return response.status, response.headers.get("content-type", ""), page.content()

        opened = admin_pages(get, one_per_kind=True)
    finally:
        context.close()
    assert len(opened) >= 3, sorted(opened)
    assert too_wide == {}


def test_on_a_phone_the_sections_are_behind_a_menu_button(browser, live_server, staff):
    context = browser.new_context(
        base_url=live_server.url, locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    try:
        sign_in(page, staff["marketer"])
        sections = page.get_by_role("navigation", name="后台栏目")
        menu = page.get_by_role("button", name="菜单")
        assert not sections.is_visible() and menu.get_attribute("aria-expanded") == "false"
        menu.click()
        assert menu.get_attribute("aria-expanded") == "true"
        sections.get_by_role("link", name="线索").click()
        page.wait_for_url("**/admin/leads/")
        assert not sections.is_visible()
    finally:
        context.close()


def test_on_a_wide_screen_the_sections_are_a_sidebar(page, staff):
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, staff["editor"])
    assert page.get_by_role("navigation", name="后台栏目").is_visible()
    assert not page.get_by_role("button", name="菜单").is_visible()
