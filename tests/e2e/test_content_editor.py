"""The editor's JavaScript in a real browser: the live preview and the autosave that
survives a reload."""

import pytest
from playwright.sync_api import expect

from accounts import services as accounts
from core.extensions import db
from tests.e2e.helpers import fill_body, sign_in

pytestmark = pytest.mark.e2e


def test_live_preview_and_autosave_survive_a_reload(live_app, page):
    with live_app.app_context():
        accounts.create_user("writer@example.com", role="editor", password="long enough pw")
        db.session.remove()
    sign_in(page, "writer@example.com")
    page.goto("/admin/content/new")
    # The no-JavaScript preview button is hidden when the live preview runs.
    expect(page.locator("button[name=action][value=preview]")).to_be_hidden()
    page.get_by_label("标题", exact=True).fill("浏览器里写的文章")
    fill_body(page, "## 第一节\n\n<img src=x onerror=alert(1)>正文")
    preview = page.locator(".editor-preview-side")  # the side-by-side preview
    preview.locator("h2#第一节").wait_for()
    assert "onerror" not in preview.inner_html()

    page.reload()
    offer = page.locator("#autosave-offer")
    offer.wait_for(state="visible")
    page.get_by_role("button", name="恢复").click()
    assert page.get_by_label("标题", exact=True).input_value() == "浏览器里写的文章"
    assert "## 第一节" in page.locator("textarea[name=body]").input_value()
    preview.locator("h2#第一节").wait_for()

    page.get_by_role("button", name="保存草稿").click()
    page.wait_for_url("**/admin/content/*")
    assert page.get_by_text("已保存").first.is_visible()
    # Saved: the local copy is gone, no offer after a reload.
    page.goto("/admin/content/new")
    expect(page.locator("button[name=action][value=preview]")).to_be_hidden()  # the script has run
    expect(page.locator("#autosave-offer")).to_be_hidden()


def test_upload_inserts_the_markdown_at_the_cursor(live_app, page):
    with live_app.app_context():
        accounts.create_user("uploader@example.com", role="editor", password="long enough pw")
        db.session.remove()
    sign_in(page, "uploader@example.com")
    page.goto("/admin/content/new")
    body = page.locator("textarea[name=body]")
    fill_body(page, "前文")
    page.locator("#upload-form input[type=file]").set_input_files(
        files=[{"name": "chart.png", "mimeType": "image/png", "buffer": b"\x89PNG\r\n\x1a\n" + b"0" * 64}]
    )
    page.get_by_role("button", name="上传", exact=True).click()
    expect(page.locator("#upload-result")).to_contain_text("![chart](/uploads/")
    assert body.input_value().startswith("前文![chart](/uploads/")
    url = body.input_value().split("(", 1)[1].rstrip(")")
    response = page.request.get(url)
    assert response.status == 200 and response.headers["content-type"] == "image/png"


def test_an_admin_ticks_the_checklist_of_the_kind_chosen_and_publishes_a_new_article_at_once(live_app, page):
    from content.models import Article
    from content.standards import install_default_standards
    from content.teams import ensure_default_teams
    from core.timeutil import utcnow

    with live_app.app_context():
        ensure_default_teams()
        install_default_standards(now=utcnow())
        accounts.create_user("new-publisher@example.com", role="admin", password="long enough pw")
        db.session.remove()
    sign_in(page, "new-publisher@example.com")
    page.goto("/admin/content/new")
    checklist = page.get_by_role("group", name="审核清单")
    # A help article's items first; choosing another kind shows that kind's.
    expect(checklist.get_by_label("截图与当前界面一致")).to_be_visible()
    page.get_by_label("类型", exact=True).select_option(label="博客文章")
    expect(checklist.get_by_role("checkbox")).to_have_count(1)
    expect(checklist.get_by_label("截图与当前界面一致")).to_be_hidden()
    page.get_by_label("标题", exact=True).fill("线索评分的五个误区")
    page.get_by_label("摘要", exact=True).fill("从打分到跟进，常见的五个误区。")
    fill_body(page, "## 误区一\n\n只看下载次数。")
    page.get_by_label("分类", exact=True).fill("市场洞察")
    page.get_by_label("标签", exact=True).fill("线索评分, 营销")

    # Not ticked: refused beside the checklist, with what was typed kept.
    page.get_by_role("button", name="发布", exact=True).click()
    expect(checklist.locator(".error")).to_have_text("发布前请勾选审核清单：标题与摘要准确，不夸大。")
    expect(page.get_by_label("标题", exact=True)).to_have_value("线索评分的五个误区")
    assert "只看下载次数。" in page.locator("textarea[name=body]").input_value()

    checklist.get_by_label("标题与摘要准确，不夸大").check()
    page.get_by_role("button", name="发布", exact=True).click()
    page.wait_for_url("**/admin/content/*")
    expect(page.locator(".flash-success")).to_contain_text("已发布")
    with live_app.app_context():
        article = db.session.scalars(db.select(Article).where(Article.title == "线索评分的五个误区")).one()
        assert article.status == "published"
        db.session.remove()
