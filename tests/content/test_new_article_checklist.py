"""A new article's reviewer's checklist: who may publish it ticks the items of its kind on
the new article's own form, so it is published in one go; left unticked, the refusal
stands beside that checklist with what was typed kept."""

import re

from content.models import Article
from core.extensions import db
from tests.content.helpers import ARTICLE_FORM

BLOG = {
    **ARTICLE_FORM,
    "kind": "blog",
    "title": "线索评分的五个误区",
    "summary": "从打分到跟进，常见的五个误区。",
    "body": "## 误区一\r\n\r\n只看下载次数。",
    "category": "市场洞察",
    "tags": "线索评分, 营销",
}
BLOG_ITEM = "标题与摘要准确，不夸大"


def checklist_section(page: str) -> str:
    start = page.index('id="checklist-fieldset"')
    return page[start : page.index("</fieldset>", start)]


def test_the_new_article_form_shows_the_checklist_of_each_kind_for_who_may_publish(
    app, default_teams, login_as
):
    page = login_as("admin").get("/admin/content/new?kind=blog").get_data(as_text=True)
    section = checklist_section(page)
    assert "审核清单" in section
    # The blog's item shows and may be ticked; another kind's is there, hidden, for a kind change.
    blog = re.search(r'<li data-kinds="blog"\s*>(.*?)</li>', section, re.S)
    assert blog and BLOG_ITEM in blog.group(1) and "disabled" not in blog.group(1)
    case = re.search(r'<li data-kinds="case-study" hidden>(.*?)</li>', section, re.S)
    assert case and "客户已同意公开" in case.group(1) and "disabled" in case.group(1)
    # An editor cannot publish a new article: no checklist to tick.
    editors_page = login_as("editor").get("/admin/content/new").get_data(as_text=True)
    assert 'id="checklist-fieldset"' not in editors_page


def test_a_new_blog_post_with_its_checklist_ticked_is_published_in_one_post(app, default_teams, login_as):
    admin = login_as("admin")
    published = admin.post("/admin/content/new", data={**BLOG, "checklist": [BLOG_ITEM], "action": "publish"})
    assert published.status_code == 303, published.get_data(as_text=True)
    article = db.session.scalar(db.select(Article))
    assert article.status == "published" and article.title == BLOG["title"]
    assert article.checklist == []  # the next approval is ticked afresh


def test_a_new_blog_post_without_its_checklist_ticked_is_refused_beside_the_checklist(
    app, default_teams, login_as
):
    admin = login_as("admin")
    refused = admin.post("/admin/content/new", data={**BLOG, "action": "publish"})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    section = checklist_section(page)
    assert 'class="error" id="checklist-error"' in section
    assert "发布前请勾选审核清单：标题与摘要准确，不夸大。" in section
    assert 'aria-describedby="checklist-error"' in page
    assert f'value="{BLOG["title"]}"' in page  # what was typed stays
    assert "只看下载次数。" in page
    assert db.session.scalar(db.select(db.func.count(Article.id))) == 0

    # Ticked now, the same form publishes.
    again = admin.post("/admin/content/new", data={**BLOG, "checklist": [BLOG_ITEM], "action": "publish"})
    assert again.status_code == 303
    assert db.session.scalar(db.select(Article)).status == "published"


def test_a_draft_keeps_what_was_ticked_and_only_the_kinds_items(app, default_teams, login_as):
    admin = login_as("admin")
    saved = admin.post(
        "/admin/content/new",
        data={**BLOG, "checklist": [BLOG_ITEM, "客户已同意公开", "不存在的项"], "action": "save"},
    )
    assert saved.status_code == 303
    assert db.session.scalar(db.select(Article)).checklist == [BLOG_ITEM]


def test_an_editor_who_may_not_approve_ticks_nothing(app, default_teams, login_as):
    editor = login_as("editor")
    saved = editor.post("/admin/content/new", data={**BLOG, "checklist": [BLOG_ITEM], "action": "save"})
    assert saved.status_code == 303
    assert not db.session.scalar(db.select(Article)).checklist
