"""Screenshots of the main pages, desktop (1366×900) and phone (390×844), into
docs/screenshots/ for the README.

Starts Lodestar with the demo on a throw-away instance (gunicorn, as in production) and
drives Debian's Chromium through Playwright:

    .venv/bin/python -m bench.screenshots

Each screenshot is the viewport (not the full page), saved as PNG, so the folder stays small.
"""

import os
import sys
from pathlib import Path

from bench.harness import ROOT, flask, gunicorn, instance_env, temp_instance

CHROMIUM = os.environ.get("LODESTAR_CHROMIUM", "/usr/bin/chromium")
OUT = ROOT / "docs" / "screenshots"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
PASSWORD = "screenshots only 0123"
ROLES = ("admin", "editor", "marketer", "sales")

PUBLIC = [
    ("home", "/"),
    ("help-center", "/help/"),
    ("help-article", "/help/kuaisu-rumen"),
    ("landing", "/library/saas-renewal"),
    ("search", "/search?q=续费率"),
    ("link-not-found", "/s/no-such-code"),
]


def link_to(page, path: str, name: str) -> str:
    """Where the link called `name` on `path` goes (the demo's ids are not fixed)."""
    page.goto(path)
    return page.get_by_role("link", name=name, exact=True).first.get_attribute("href")


def shoot(page, name: str, path: str, suffix: str) -> Path:
    page.goto(path)
    page.wait_for_load_state("networkidle")
    target = OUT / f"{name}-{suffix}.png"
    page.screenshot(path=str(target))
    return target


def staff_email(role: str) -> str:
    return f"shots-{role}@lodestar.example"


def sign_in(page, role: str) -> None:
    page.context.clear_cookies()
    page.goto("/login")
    page.locator("input[name=email]").fill(staff_email(role))
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url("**/admin/")


def main() -> int:
    if not Path(CHROMIUM).exists():
        print(f"Chromium not found at {CHROMIUM}: apt-get install chromium", file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    taken = []
    with temp_instance() as folder:
        env = instance_env(folder)
        flask(env, "db", "upgrade")
        flask(env, "demo", "load")
        for role in ROLES:
            flask(env, "users", "create", staff_email(role), "--role", role, "--password", PASSWORD)
        with gunicorn("wsgi:app", env, probe="/healthz") as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
            )
            for suffix, viewport, mobile in (("desktop", DESKTOP, False), ("phone", PHONE, True)):
                context = browser.new_context(
                    base_url=base, locale="zh-CN", viewport=viewport, is_mobile=mobile, has_touch=mobile
                )
                page = context.new_page()
                for name, path in PUBLIC:
                    taken.append(shoot(page, name, path, suffix))
                for role in ROLES:
                    sign_in(page, role)
                    taken.append(shoot(page, f"staff-home-{role}", "/admin/", suffix))
                sign_in(page, "admin")
                taken.append(shoot(page, "leads", "/admin/leads/", suffix))
                lead = page.locator("tbody a[href^='/admin/leads/']").first.get_attribute("href")
                taken.append(shoot(page, "lead", lead, suffix))
                builder = link_to(page, "/admin/nurture/", "白皮书下载后培育") + "/edit"
                taken.append(shoot(page, "sequence-builder", builder, suffix))
                booth = link_to(page, "/admin/links/", "/s/expo-booth")
                taken.append(shoot(page, "short-link", booth, suffix))
                taken.append(shoot(page, "leaderboard", "/admin/links/leaderboard", suffix))
                context.close()
            browser.close()
    total = sum(path.stat().st_size for path in taken)
    for path in taken:
        print(f"{path.relative_to(ROOT)}  {path.stat().st_size // 1024} KB")
    print(f"{len(taken)} screenshots, {total / 1024 / 1024:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
