"""Every admin page each role can open fits a phone (390 × 844): nothing wider than the
screen, so nothing needs a sideways scroll of the whole page (a wide table scrolls inside
its own box), and its interface reads in Chinese (no English label, button or heading;
no code), on a phone and at 1366 × 900. With LODESTAR_SCREENSHOT_DIR set, each page's
screenshot is saved there, to look at. The pages are reached as a user reaches them, by links from /admin/, with
the demo data loaded."""

import json
import os
import re
from pathlib import Path

import pytest

from accounts import services
from accounts.models import ROLES
from core.extensions import db
from tests.conftest import admin_pages
from tests.e2e.helpers import PHONE, STAFF_PASSWORD, sign_in


@pytest.fixture(scope="module")
def staff(live_app, live_server):
    with live_app.app_context():
        assert live_app.test_cli_runner().invoke(args=["demo", "load"]).exit_code == 0
        for role in ROLES:
            services.create_user(f"{role}-phone@example.com", role=role, password=STAFF_PASSWORD)
        db.session.remove()
    return {role: f"{role}-phone@example.com" for role in ROLES}


# The words of the interface itself (labels, buttons, column heads, badges, captions,
# empty states, messages, the menu), not the data in it: a lead's English company or an
# English sequence's name (in a heading) is what was typed, and stays; so does text
# marked translate="no" (the terms of a synonym group inside its button's name).
INTERFACE = (
    "label, button, thead th, legend, summary, caption, figcaption, .badge,"
    " .empty-state, .field-error, .flash, .admin-nav a, .button"
)
# The API reference documents the public REST API as its OpenAPI description says it
# (docs/API.md), for developers, in English.
ENGLISH_PAGES = ("/admin/api/reference",)
# Names that are the same in Chinese copy: acronyms, formats and product names.
NAMES = re.compile(
    r"\b(MQL|SQL|MQLs|SQLs|CSV|UTM|API|URL|SMS|PDF|SEO|SEM|CRM|ID|QR|IP|CEO|CTO|CFO|HTML|JSON|YAML|"
    r"Markdown|Lodestar|Webhook|webhook|WeChat|Baidu|Google|Excel|Whoosh|SMTP|HTTP|HTTPS|DNS|SPF|DKIM|"
    r"DMARC|B2B|SaaS|App|Bearer|PostgreSQL|SQLite|Worker|OpenAPI|DNT|GPC|VIP|UV|PV|cron|"
    r"utm_\w+|[A-Z]{2,}\d*)\b"
)
ENGLISH = re.compile(r"[A-Za-z]{3,}")


def english_on(page) -> set[str]:
    """Latin words in the interface's own text that are not names (see NAMES): text left in
    English, or a code that reached the screen."""
    texts = page.evaluate(
        """selector => [...document.querySelectorAll(selector)].map(element => {
            const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
            let text = "", node;
            while ((node = walker.nextNode())) {
                if (!node.parentElement.closest("code, pre, [translate=no]")) text += node.textContent + " ";
            }
            return text;
        })""",
        INTERFACE,
    )
    words = set()
    for text in texts:
        text = re.sub(r"\S*[@/.:]\S*", " ", text)  # addresses, paths, domains, times
        # A command quoted to type (“flask nurture worker”) and a term given beside its
        # translation (网址别名（slug）) are meant as they are.
        text = re.sub(r"“[^”]*”|（[\x20-\x7e]*）", " ", text)
        words |= set(ENGLISH.findall(NAMES.sub(" ", text)))
    return words


def walk(browser, live_server, email, viewport, *, shots=None, **options):
    """Every admin page `email` reaches by links: {path: (width too wide or 0, English words)};
    each page's screenshot into `shots` (a folder) when given."""
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport=viewport, **options)
    page = context.new_page()
    found = {}
    try:
        sign_in(page, email)

        def get(path):
            response = page.goto(path)
            # A phone widens its layout viewport to fit a page that is too wide (and zooms
            # out), so innerWidth grows with the page: both are held to the screen's width.
            width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            wide = max(width, inner) if width > inner or inner > viewport["width"] else 0
            found[path] = (wide, english_on(page))
            if shots is not None:
                name = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"
                page.screenshot(path=str(shots / f"{name}-{viewport['width']}.png"))
            return response.status, response.headers.get("content-type", ""), page.content()

        opened = admin_pages(get, one_per_kind=True)
    finally:
        context.close()
    if shots is not None:
        report = {path: [wide, sorted(words)] for path, (wide, words) in found.items()}
        (shots / f"pages-{viewport['width']}.json").write_text(
            json.dumps(report, ensure_ascii=False, indent=1)
        )
    return {path: found[path] for path in opened}


@pytest.mark.parametrize("role", ROLES)
def test_every_admin_page_fits_a_phone_in_chinese(browser, live_server, staff, role):
    shots = os.environ.get("LODESTAR_SCREENSHOT_DIR")
    if shots:
        shots = Path(shots) / role
        shots.mkdir(parents=True, exist_ok=True)
    pages = walk(browser, live_server, staff[role], PHONE, shots=shots, is_mobile=True, has_touch=True)
    assert len(pages) >= 3, sorted(pages)
    assert {path: wide for path, (wide, _words) in pages.items() if wide} == {}
    assert {
        path: sorted(words) for path, (_wide, words) in pages.items() if words and path not in ENGLISH_PAGES
    } == {}


def test_every_admin_page_reads_in_chinese_on_a_wide_screen(browser, live_server, staff):
    shots = os.environ.get("LODESTAR_SCREENSHOT_DIR")
    if shots:
        shots = Path(shots) / "admin"
        shots.mkdir(parents=True, exist_ok=True)
    pages = walk(browser, live_server, staff["admin"], {"width": 1366, "height": 900}, shots=shots)
    assert {path: wide for path, (wide, _words) in pages.items() if wide} == {}
    assert {
        path: sorted(words) for path, (_wide, words) in pages.items() if words and path not in ENGLISH_PAGES
    } == {}


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


def test_on_a_phone_the_lead_filters_are_behind_a_button_a_keyboard_opens(browser, live_server, staff):
    context = browser.new_context(
        base_url=live_server.url, locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    try:
        sign_in(page, staff["marketer"])
        page.goto("/admin/leads/")
        button = page.get_by_role("button", name="筛选")
        stage = page.get_by_label("阶段", exact=True)
        assert page.get_by_label("搜索").is_visible() and not stage.is_visible()
        assert button.get_attribute("aria-expanded") == "false"
        button.focus()
        page.keyboard.press("Enter")
        assert button.get_attribute("aria-expanded") == "true" and stage.is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        stage.focus()
        page.keyboard.press("Escape")  # closes the filters, the focus back on their button
        assert not stage.is_visible()
        assert page.evaluate("document.activeElement.getAttribute('aria-controls')") == "lead-filters"
        page.keyboard.press("Space")
        stage.select_option(label="市场认可线索（MQL）")
        page.get_by_role("button", name="搜索", exact=True).click()
        page.wait_for_url("**stage=mql**")
        # A filter that is set says so on the folded button.
        assert page.get_by_role("button", name="筛选（已设 1 项）").get_attribute("aria-expanded") == "false"
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        context.close()
