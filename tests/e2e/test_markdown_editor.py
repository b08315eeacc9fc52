"""The Markdown editor in Chromium: an editor writes with the toolbar and the keyboard
(Ctrl+B/I/K, a table with a right-aligned column), pastes an image that is uploaded,
watches the side-by-side preview follow the text, saves with Ctrl+S, renames the slug and
sends the article to review; the admin is told and publishes; the old URL answers 301.
On a phone the editor fits the screen. Nothing breaks the Content-Security-Policy."""

import base64
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from accounts import services as accounts
from content.models import Article
from core.extensions import db
from tests.e2e.helpers import sign_in, sized_context

pytestmark = pytest.mark.e2e

SAVED = re.compile(r"/admin/content/\d+$")

# A 1×1 PNG, as a screenshot tool puts on the clipboard.
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
PASTE_IMAGE = """(png) => {
  const bytes = Uint8Array.from(atob(png), (c) => c.charCodeAt(0));
  const data = new DataTransfer();
  data.items.add(new File([bytes], "截图.png", { type: "image/png" }));
  const target = document.querySelector(".CodeMirror textarea");
  target.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
}"""


def shoot(page, name: str) -> None:
    folder = os.environ.get("LODESTAR_SHOTS_DIR")
    if folder:
        size = page.viewport_size
        page.screenshot(path=str(Path(folder) / f"{name}-{size['width']}x{size['height']}.png"))


def csp_watch(page) -> list[str]:
    """Console errors (a blocked script or style says so there)."""
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def article_row(live_app, title: str):
    with live_app.app_context():
        article = db.session.scalars(select(Article).where(Article.title == title)).one()
        db.session.expunge(article)
        db.session.remove()
    return article


def test_an_editor_writes_saves_with_ctrl_s_renames_and_the_old_url_answers_301(
    live_app, live_server, browser
):
    with live_app.app_context():
        accounts.create_user("mde-writer@example.com", role="editor", password="long enough pw")
        accounts.create_user("mde-chief@example.com", role="admin", password="long enough pw")
        db.session.remove()
    context = sized_context(browser, live_server, "desktop")
    page = context.new_page()
    errors = csp_watch(page)
    sign_in(page, "mde-writer@example.com")
    page.goto("/admin/content/new")
    page.get_by_label("标题", exact=True).fill("线索评分起步指南")
    expect(page.locator(".editor-preview-side")).to_be_visible()  # side by side on a wide screen

    editor = page.locator(".CodeMirror")
    editor.click()
    page.keyboard.type("## 评分规则\n\n")
    # Each button's tooltip is its label alone: no second, English-style shortcut after it.
    titles = page.locator(".editor-toolbar button").evaluate_all("buttons => buttons.map(b => b.title)")
    assert titles and not [title for title in titles if "(Ctrl-" in title or "(Cmd-" in title], titles
    page.get_by_title("粗体（Ctrl+B）", exact=True).click()
    page.keyboard.type("重点")
    page.keyboard.press("End")
    page.keyboard.type("，然后 ")
    page.keyboard.press("Control+I")
    page.keyboard.type("斜体")
    page.keyboard.press("End")
    page.keyboard.type("\n\n")
    page.keyboard.press("Control+K")  # a link around nothing: [](https://)
    page.keyboard.press("End")
    page.keyboard.type("\n\n")
    page.get_by_title("插入表格").click()
    page.evaluate(PASTE_IMAGE, PNG)

    body = page.locator("textarea[name=body]")
    page.wait_for_function(
        "() => document.querySelector('textarea[name=body]').value.includes('](/uploads/')"
    )
    source = body.input_value()
    assert "**重点**" in source and "*斜体*" in source and "[](https://)" in source
    assert "| --- | :---: | ---: |" in source
    image = source.split("](/uploads/", 1)[1].split(")", 1)[0]
    assert page.request.get(f"/uploads/{image}").status == 200
    # The toolbar's image button opens a file picker, and the picked image is uploaded too.
    page.keyboard.press("Control+End")
    with page.expect_file_chooser() as chooser:
        page.get_by_title("上传图片", exact=True).click()
    chooser.value.set_files({"name": "chart.png", "mimeType": "image/png", "buffer": base64.b64decode(PNG)})
    page.wait_for_function(
        "() => document.querySelector('textarea[name=body]').value.split('](/uploads/').length === 3"
    )
    source = body.input_value()

    side = page.locator(".editor-preview-side")
    expect(side.locator("strong")).to_have_text("重点")
    expect(side.locator('td[align="right"]')).to_have_text("0")
    expect(side.locator("img[src^='/uploads/']")).to_have_count(2)  # pasted and picked

    # The preview follows the text: a long body scrolled to its end shows the end.
    page.keyboard.press("Control+End")
    page.keyboard.insert_text("\n\n" + "\n\n".join(f"第 {n} 段正文。" for n in range(1, 80)) + "\n\n## 结尾")
    expect(side.locator("h2#结尾")).to_be_attached()
    page.locator(".CodeMirror-scroll").evaluate(
        "el => { el.scrollTop = el.scrollHeight; el.dispatchEvent(new Event('scroll')); }"
    )
    page.wait_for_function("() => document.querySelector('.editor-preview-side').scrollTop > 200")
    shoot(page, "editor-writing")

    # Ctrl+S saves (a draft), from inside the editor.
    page.keyboard.press("Control+S")
    page.wait_for_url(SAVED)
    expect(page.locator(".flash-success")).to_contain_text("已保存")
    article = article_row(live_app, "线索评分起步指南")
    assert article.slug == "xiansuo-pingfen-qibu-zhinan" and article.status == "draft"
    assert "## 结尾" in article.body_md

    # Rename the slug and save again with the keyboard, from the slug field.
    slug = page.get_by_label("网址别名（slug）")
    expect(slug).to_have_value("xiansuo-pingfen-qibu-zhinan")
    slug.fill("lead-scoring-101")
    page.keyboard.press("Control+S")
    page.wait_for_load_state()
    expect(page.locator(".flash-success")).to_contain_text("已保存")
    expect(slug).to_have_value("lead-scoring-101")
    shoot(page, "editor-saved")
    page.get_by_role("button", name="提交审核").click()
    page.wait_for_url(SAVED)

    admin_context = sized_context(browser, live_server, "desktop")
    admin = admin_context.new_page()
    try:
        sign_in(admin, "mde-chief@example.com")
        expect(admin.get_by_text("等待您审阅：线索评分起步指南")).to_be_visible()
        admin.get_by_text("等待您审阅：线索评分起步指南").click()
        admin.get_by_role("button", name="发布", exact=True).click()
        admin.wait_for_url("**/admin/content/*")
    finally:
        admin_context.close()
    moved = page.request.get("/help/xiansuo-pingfen-qibu-zhinan", max_redirects=0)
    assert moved.status == 301 and moved.headers["location"] == "/help/lead-scoring-101"
    page.goto("/help/xiansuo-pingfen-qibu-zhinan")
    assert page.url.endswith("/help/lead-scoring-101")
    expect(page.locator('article td[align="right"]')).to_have_css("text-align", "right")
    assert errors == [], errors
    context.close()


def test_the_editor_fits_a_phone_and_still_saves_with_the_keyboard(live_app, live_server, browser):
    with live_app.app_context():
        accounts.create_user("mde-phone@example.com", role="editor", password="long enough pw")
        db.session.remove()
    context = browser.new_context(
        base_url=live_server.url,
        locale="zh-CN",
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    errors = csp_watch(page)
    try:
        sign_in(page, "mde-phone@example.com")
        page.goto("/admin/content/new")
        expect(page.locator(".editor-toolbar")).to_be_visible()
        page.get_by_label("标题", exact=True).fill("手机上写的文章")
        page.locator(".CodeMirror").click()
        page.keyboard.type("手机上的正文")
        page.get_by_title("粗体（Ctrl+B）").click()
        page.keyboard.type("加粗")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        shoot(page, "editor-phone")
        page.keyboard.press("Control+S")
        page.wait_for_url(SAVED)
        expect(page.locator(".flash-success")).to_contain_text("已保存")
        assert "手机上的正文**加粗**" in article_row(live_app, "手机上写的文章").body_md
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        shoot(page, "editor-phone-saved")
        assert errors == [], errors
    finally:
        context.close()


def test_an_editor_reads_a_published_article_without_a_way_to_type_what_cannot_be_saved(
    live_app, live_server, browser
):
    from core.timeutil import utcnow

    with live_app.app_context():
        accounts.create_user("mde-reader@example.com", role="editor", password="long enough pw")
        article = Article(
            kind="help",
            slug="published-guide",
            title="已发布的指南",
            summary="摘要",
            body_md="原来的正文",
            status="published",
            published_at=utcnow(),
        )
        db.session.add(article)
        db.session.commit()
        article_id = article.id
        db.session.remove()
    context = sized_context(browser, live_server, "desktop")
    page = context.new_page()
    errors = csp_watch(page)
    try:
        sign_in(page, "mde-reader@example.com")
        page.goto(f"/admin/content/{article_id}")
        expect(page.locator(".flash-warning")).to_contain_text("只有管理员可以修改")
        expect(page.get_by_label("标题", exact=True)).to_be_disabled()
        expect(page.locator(".editor-toolbar")).to_be_visible()  # the preview still works
        assert page.locator(".editor-toolbar .mde-save, .editor-toolbar .mde-bold").count() == 0
        page.locator(".CodeMirror").click()
        page.keyboard.type("试图修改")
        page.keyboard.press("Control+B")
        assert page.evaluate("document.querySelector('.CodeMirror').CodeMirror.getValue()") == "原来的正文"
        expect(page.get_by_text("Ctrl+S（⌘S）保存")).to_have_count(0)
        assert errors == [], errors
    finally:
        context.close()


def test_saving_the_checklist_first_asks_about_unsaved_changes_to_the_article(live_app, live_server, browser):
    from content.standards import install_default_standards
    from content.teams import ensure_default_teams
    from core.timeutil import utcnow
    from tests.factories import make_article

    with live_app.app_context():
        ensure_default_teams()
        install_default_standards(now=utcnow())
        accounts.create_user("mde-approver@example.com", role="admin", password="long enough pw")
        body = "## 客户背景\n\n背景\n\n## 挑战\n\n挑战\n\n## 方案\n\n方案\n\n## 成效\n\n成效"
        article = make_article(
            body, title="远景制造的续费故事", kind="case-study", summary="", status="in_review"
        )
        article_id = article.id
        db.session.remove()
    page = browser.new_context(base_url=live_server.url, locale="zh-CN").new_page()
    sign_in(page, "mde-approver@example.com")
    page.goto(f"/admin/content/{article_id}")
    # Publishing is refused (the checklist is not ticked): the typed summary comes back unsaved.
    page.get_by_label("摘要").fill("一年内把续费率从 78% 提升到 92%。")
    page.get_by_role("button", name="发布").click()
    expect(page.get_by_text("审核清单")).not_to_have_count(0)
    checklist = page.locator("form.review-checklist")
    for box in checklist.get_by_role("checkbox").all():
        box.check()
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    checklist.get_by_role("button", name="保存审核清单").click()
    expect(page.get_by_label("摘要")).to_have_value("一年内把续费率从 78% 提升到 92%。")
    assert asked == ["文章的修改尚未保存。放弃这些修改并继续吗？"]
    with live_app.app_context():
        assert db.session.get(Article, article_id).checklist in (None, [])  # nothing was sent
        db.session.remove()


FOCUSED = """() => {
  const el = document.activeElement;
  return { id: el.id, name: el.name || "", inEditor: !!el.closest(".CodeMirror") };
}"""


def test_tab_and_shift_tab_move_the_focus_out_of_the_editor_and_insert_nothing(
    live_app, live_server, browser
):
    # No keyboard trap (WCAG 2.1.2): a keyboard user reaches the fields after the body.
    with live_app.app_context():
        accounts.create_user("mde-keyboard@example.com", role="editor", password="long enough pw")
        db.session.remove()
    context = sized_context(browser, live_server, "desktop")
    page = context.new_page()
    errors = csp_watch(page)
    try:
        sign_in(page, "mde-keyboard@example.com")
        page.goto("/admin/content/new")
        expect(page.locator(".CodeMirror")).to_be_visible()
        # The hint under the editor says which keys move on and which indent.
        hint = page.get_by_text("Tab 和 Shift+Tab 移到下一项或上一项；Ctrl+]（⌘]）增加缩进")
        expect(hint).to_be_visible()
        editor_input = page.locator(".CodeMirror textarea")
        expect(editor_input).to_have_attribute("aria-describedby", "body-keys")

        page.get_by_label("摘要").focus()
        page.keyboard.press("Tab")
        assert page.evaluate(FOCUSED)["inEditor"]  # tabbed into the body
        page.keyboard.press("Control+End")
        page.keyboard.type("键盘写的正文")
        page.keyboard.press("Tab")
        assert page.evaluate(FOCUSED) == {"id": "kind", "name": "kind", "inEditor": False}
        page.keyboard.press("Shift+Tab")
        assert page.evaluate(FOCUSED)["inEditor"]
        page.keyboard.press("Shift+Tab")
        assert page.evaluate(FOCUSED) == {"id": "summary", "name": "summary", "inEditor": False}
        page.keyboard.press("Tab")
        page.keyboard.press("Escape")
        page.keyboard.press("Tab")
        assert page.evaluate(FOCUSED)["id"] == "kind"
        value = page.evaluate("document.querySelector('.CodeMirror').CodeMirror.getValue()")
        assert value.endswith("键盘写的正文") and "\t" not in value

        # Indenting stays on the keys the hint names.
        editor_input.focus()
        page.keyboard.press("Control+BracketRight")
        value = page.evaluate("document.querySelector('.CodeMirror').CodeMirror.getValue()")
        last = value.splitlines()[-1]
        assert last != last.lstrip() and last.strip() == "键盘写的正文", repr(last)
        page.keyboard.press("Control+BracketLeft")
        value = page.evaluate("document.querySelector('.CodeMirror').CodeMirror.getValue()")
        assert value.splitlines()[-1] == "键盘写的正文"
        assert errors == [], errors
    finally:
        context.close()
