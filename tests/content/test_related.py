"""Related articles an editor chooses: picked from the published articles of the same
language, shown first under the article (the rest filled from category and tags),
refused beside the field when not offered, kept through export and import."""

import pytest
from sqlalchemy import select

from content.models import Article
from content.transfer import export_all, import_paths
from core.extensions import db
from core.timeutil import utcnow
from tests.content.helpers import ARTICLE_FORM as FORM
from tests.factories import make_article

pytestmark = pytest.mark.usefixtures("app")


def titles_under(html: str) -> list[str]:
    section = html.split('id="related-title"', 1)[1].split("</section>", 1)[0]
    return [part.split("</a>", 1)[0].rsplit(">", 1)[-1].strip() for part in section.split("<h3")[1:]]


def test_an_editor_picks_related_articles_and_the_page_shows_them_first(login_as, client):
    make_article(title="同类一", slug="same-1", category="客户成功")
    make_article(title="续费指南", slug="renewal-guide", category="其他")
    make_article(title="单点登录", slug="sso-setup", category="账号")
    make_article(title="草稿", slug="a-draft", status="draft")
    make_article(title="English one", slug="english-one", locale="en")
    editor = login_as("editor")
    page = editor.get("/admin/content/new").get_data(as_text=True)
    offered = page.split('name="related"', 1)[1].split("</select>", 1)[0]
    assert "renewal-guide" in offered and "sso-setup" in offered
    assert "a-draft" not in offered and "english-one" not in offered  # published, same language
    response = editor.post(
        "/admin/content/new",
        data={**FORM, "slug": "with-related", "related": ["sso-setup", "renewal-guide"], "action": "save"},
    )
    assert response.status_code == 303
    article = db.session.scalar(select(Article).where(Article.slug == "with-related"))
    assert article.related == ["sso-setup", "renewal-guide"]  # as posted
    article.status, article.published_at = "published", utcnow()
    db.session.commit()
    html = client.get("/help/with-related").get_data(as_text=True)
    shown = titles_under(html)
    assert shown[:2] == ["单点登录", "续费指南"] and "同类一" in shown  # chosen first, then the category


def test_a_related_article_not_offered_is_refused_beside_the_field_and_nothing_is_saved(login_as):
    make_article(title="草稿", slug="a-draft", status="draft")
    editor = login_as("editor")
    response = editor.post(
        "/admin/content/new", data={**FORM, "slug": "refused", "related": ["a-draft"], "action": "save"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    error = html.split('id="related-error"', 1)[1].split("</", 1)[0]
    assert "请从列表中选择相关文章" in error
    assert db.session.scalar(select(Article).where(Article.slug == "refused")) is None


def test_related_articles_survive_export_and_import(app, tmp_path):
    make_article(title="续费指南", slug="renewal-guide")
    make_article(title="有相关", slug="has-related", related=["renewal-guide"])
    export_all(tmp_path)
    text = (tmp_path / "has-related.md").read_text(encoding="utf-8")
    assert "related: [renewal-guide]" in text
    db.session.execute(db.delete(Article).where(Article.slug == "has-related"))
    db.session.commit()
    import_paths([tmp_path / "has-related.md"], now=utcnow())
    assert db.session.scalar(select(Article.related).where(Article.slug == "has-related")) == [
        "renewal-guide"
    ]
