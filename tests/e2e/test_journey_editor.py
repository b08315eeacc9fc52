"""The editor's journey in a real browser: an editor writes a Chinese article with a
table and code, previews it, sends it to review; an admin publishes it; the article is
on the site and found by search."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from accounts import services as accounts
from content.models import Article
from core.extensions import db
from tests.e2e.helpers import fill_body, sign_in

pytestmark = pytest.mark.e2e

BODY = """## 提醒规则

| 提前天数 | 渠道 |
|---|---|
| 30 | 邮件 |
| 7 | 短信 |

```python
remind(days_before=30)
```
"""


def test_editor_writes_admin_publishes_and_search_finds_it(live_app, live_server, browser, page):
    with live_app.app_context():
        accounts.create_user("writer2@example.com", role="editor", password="long enough pw")
        accounts.create_user("chief@example.com", role="admin", password="long enough pw")
        db.session.remove()
    sign_in(page, "writer2@example.com")
    page.goto("/admin/content/new")
    page.get_by_label("标题", exact=True).fill("如何配置续费提醒")
    fill_body(page, BODY)
    preview = page.locator(".editor-preview-side")  # the side-by-side preview
    expect(preview.locator("table td").first).to_have_text("30")
    expect(preview.locator("pre code")).to_contain_text("remind")
    page.get_by_role("button", name="提交审核").click()
    page.wait_for_url("**/admin/content/*")
    with live_app.app_context():
        article = db.session.scalars(select(Article).where(Article.title == "如何配置续费提醒")).one()
        slug, status, edit_path = article.slug, article.status, f"/admin/content/{article.id}"
        db.session.remove()
    assert status == "in_review"
    assert page.request.get(f"/help/{slug}").status == 404  # not public before review

    admin_context = browser.new_context(base_url=live_server.url, locale="zh-CN")
    admin = admin_context.new_page()
    try:
        sign_in(admin, "chief@example.com")
        admin.goto(edit_path)
        admin.get_by_role("button", name="发布", exact=True).click()
        admin.wait_for_url("**/admin/content/*")
        admin.goto(f"/help/{slug}")
        expect(admin.get_by_role("heading", level=1)).to_have_text("如何配置续费提醒")
        expect(admin.locator("article table")).to_be_visible()
        admin.goto("/search?q=续费提醒")
        expect(admin.locator(f'a[href*="/help/{slug}"]').first).to_be_visible()
    finally:
        admin_context.close()
