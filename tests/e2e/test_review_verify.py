"""The verify button in a real browser, on a wide screen and a phone: a past-due help
article shows staff its flag on the public page, one click (with a note) verifies it,
the flag is gone and the note is in the article's verification history. The review
queue and the team pages fit a phone."""

import os
from datetime import datetime
from pathlib import Path

import pytest

from accounts import services as accounts
from content.documents import article_defaults
from content.services import save_article
from content.standards import install_default_standards
from content.teams import TeamMember, all_teams, ensure_default_teams
from core.extensions import db
from core.timeutil import utcnow
from tests.e2e.helpers import SIZES, fits, sign_in, sized_context

pytestmark = pytest.mark.e2e
SHOTS = os.environ.get("LODESTAR_SCREENSHOTS")  # a folder: keep screenshots to look at


def shoot(page, name: str, element=None) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        path = str(Path(SHOTS) / f"{name}.png")
        element.screenshot(path=path) if element is not None else page.screenshot(path=path, full_page=True)


@pytest.fixture(scope="module")
def past_due(live_app, live_server):
    """Help articles published long ago (one per screen size, one left due) and a 客服 editor."""
    with live_app.app_context():
        ensure_default_teams()
        install_default_standards(now=utcnow())
        user = accounts.create_user("support-writer@example.com", role="editor", password="long enough pw")
        support = next(team for team in all_teams() if team.name == "客服")
        db.session.add(TeamMember(team_id=support.id, user_id=user.id, reviewer=True))
        db.session.commit()
        slugs = {}
        for size in (*SIZES, "stays due"):
            article = save_article(
                {
                    **article_defaults(),
                    "title": f"如何导出月度报表（{size}）",
                    "kind": "help",
                    "locale": "zh-CN",
                    "status": "published",
                    "summary": "导出报表的步骤",
                    "category": "报表",
                    "published_at": datetime(2025, 3, 1),
                },
                "## 操作步骤\n\n1. 打开报表\n2. 点击导出\n\n## 截图\n\n（截图）",
                now=datetime(2025, 3, 1),
            )
            slugs[size] = article.slug
        db.session.remove()
    return slugs


@pytest.fixture(scope="module")
def chief(live_app, past_due):
    with live_app.app_context():
        accounts.create_user("chief@example.com", role="admin", password="long enough pw")
        db.session.remove()
    return "chief@example.com"


@pytest.mark.parametrize("size", SIZES)
def test_verify_from_the_past_due_flag(browser, live_server, past_due, size):
    context = sized_context(browser, live_server, size)
    page = context.new_page()
    try:
        sign_in(page, "support-writer@example.com")
        page.goto(f"/help/{past_due[size]}")
        flag = page.locator(".review-flag")
        flag.wait_for()
        assert "复核已于" in flag.inner_text() and "仅员工可见" in flag.inner_text()
        assert fits(page)
        shoot(page, f"flag-{size}")

        flag.get_by_label("备注（可选）").fill("界面与步骤已核对")
        flag.get_by_role("button", name="核实：内容仍然正确").click()
        page.wait_for_url(f"**/help/{past_due[size]}")
        assert page.get_by_text("已核实").first.is_visible()
        assert page.locator(".review-flag").count() == 0
        shoot(page, f"verified-{size}")

        page.goto("/admin/content/review/")
        assert fits(page)
        titles = page.locator(".review-item h2").all_inner_texts()
        assert f"如何导出月度报表（{size}）" not in titles
        assert "如何导出月度报表（stays due）" in titles
        shoot(page, f"queue-{size}")

        page.goto("/admin/content/")
        page.get_by_role("link", name=f"如何导出月度报表（{size}）").click()
        panel = page.locator(".review-panel")
        panel.wait_for()
        assert "界面与步骤已核对" in panel.inner_text()
        assert fits(page)
        shoot(page, f"article-panel-{size}", panel)
    finally:
        context.close()


@pytest.mark.parametrize("size", SIZES)
def test_team_and_standard_pages_fit(browser, live_server, past_due, chief, size):
    context = sized_context(browser, live_server, size)
    page = context.new_page()
    try:
        sign_in(page, "chief@example.com")
        for path, name in (
            ("/admin/content/teams/", "teams"),
            ("/admin/content/teams/2", "team-edit"),
            ("/admin/content/standards/", "standards"),
            ("/admin/content/review/", "queue-admin"),
            ("/admin/content/standards/case-study", "standard-edit"),
        ):
            page.goto(path)
            assert fits(page), path
            shoot(page, f"{name}-{size}", page.locator("main"))
        assert "## 客户背景" in page.locator("textarea[name=template]").input_value()
    finally:
        context.close()
