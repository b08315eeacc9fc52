"""The public site on a phone (390 × 844): no page scrolls sideways, and the header's links
sit behind a menu button that works from the keyboard."""

import pytest

from core.extensions import db
from tests.e2e.helpers import PHONE

pytestmark = pytest.mark.e2e
PUBLIC_PAGES = [
    "/",
    "/help/",
    "/library/",
    "/cases/",
    "/solutions/",
    "/blog/",
    "/search?q=续费",
    "/demo-request",
]


@pytest.fixture(scope="module")
def demo(live_app, live_server):
    with live_app.app_context():
        assert live_app.test_cli_runner().invoke(args=["demo", "load"]).exit_code == 0
        db.session.remove()


def test_no_public_page_scrolls_sideways_on_a_phone(phone, demo):
    too_wide = {}
    for path in PUBLIC_PAGES:
        assert phone.goto(path).status == 200, path
        width, inner = phone.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if width > inner or inner > PHONE["width"]:
            too_wide[path] = max(width, inner)
    assert too_wide == {}


def test_the_header_links_open_from_a_menu_button_with_the_keyboard(phone, demo):
    phone.goto("/")
    links = phone.get_by_role("navigation", name="主导航")
    menu = phone.get_by_role("button", name="菜单")
    assert menu.is_visible() and not links.is_visible()
    assert menu.get_attribute("aria-expanded") == "false"
    menu.focus()
    phone.keyboard.press("Enter")
    assert links.is_visible() and menu.get_attribute("aria-expanded") == "true"
    phone.keyboard.press("Tab")
    assert phone.evaluate("document.activeElement.closest('#site-nav') !== null")
    phone.keyboard.press("Escape")
    assert not links.is_visible() and menu.get_attribute("aria-expanded") == "false"
    assert phone.evaluate("document.activeElement.classList.contains('menu-button')")


def test_on_a_wide_screen_the_header_shows_its_links_and_no_menu_button(page, demo):
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto("/")
    assert page.get_by_role("navigation", name="主导航").is_visible()
    assert not page.get_by_role("button", name="菜单").is_visible()


def test_the_header_is_as_tall_before_the_menu_script_runs_as_after_so_nothing_jumps(phone, demo):
    def header_height() -> float:
        phone.goto("/help/")
        return phone.evaluate("document.querySelector('.site-header').getBoundingClientRect().height")

    with_script = header_height()
    phone.route("**/js/menu.js*", lambda route: route.abort())
    try:
        before_script = header_height()
    finally:
        phone.unroute("**/js/menu.js*")
    assert before_script == with_script
    assert not phone.get_by_role("navigation", name="主导航").is_visible()
