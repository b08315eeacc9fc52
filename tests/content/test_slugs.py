"""Slug history: a renamed article keeps every old URL as a permanent redirect, a live
slug always wins over a redirect, and the history survives export and import."""

import pytest
from sqlalchemy import select

from content import slugs
from content.documents import DocumentError
from content.models import Article
from content.services import save_article
from core.extensions import db
from core.timeutil import utcnow
from tests.content.helpers import ARTICLE_FORM as FORM
from tests.factories import make_article

pytestmark = pytest.mark.usefixtures("app")


def rename(article, slug, **fields):
    return save_article({"slug": slug, **fields}, article.body_md, article=article, now=utcnow())


def test_every_old_slug_answers_301_with_the_current_url(client):
    article = make_article(slug="first")
    rename(article, "second")
    rename(article, "third")
    assert slugs.history(article.id) == ["first", "second"]
    for old in ("first", "second"):
        response = client.get(f"/help/{old}")
        assert response.status_code == 301 and response.headers["Location"] == "/help/third"
    assert client.get("/help/third").status_code == 200
    assert client.get("/help/never-was").status_code == 404


def test_a_rename_writes_a_revision_that_says_so():
    article = make_article(slug="before")
    rename(article, "after")
    assert article.slug == "after"
    assert "slug" in article_revisions(article)[0]


def article_revisions(article):
    from content.models import Revision

    return list(
        db.session.scalars(
            select(Revision.note).where(Revision.article_id == article.id).order_by(Revision.id.desc())
        )
    )


def test_renaming_back_takes_the_slug_out_of_the_history(client):
    article = make_article(slug="one")
    rename(article, "two")
    rename(article, "one")
    assert slugs.history(article.id) == ["two"]
    assert client.get("/help/one").status_code == 200
    assert client.get("/help/two").headers["Location"] == "/help/one"


def test_another_articles_live_slug_is_refused_and_nothing_changes():
    make_article(slug="taken")
    article = make_article(slug="mine")
    with pytest.raises(DocumentError) as error:
        rename(article, "taken")
    assert error.value.problems[0].field == "slug"
    db.session.rollback()
    assert db.session.get(Article, article.id).slug == "mine"
    assert slugs.history(article.id) == []


def test_a_new_article_takes_an_old_slug_from_the_redirect(client):
    moved = make_article(slug="old-name")
    rename(moved, "new-name")
    newcomer = make_article(slug="old-name", title="新的文章")
    assert newcomer.slug == "old-name"
    assert slugs.history(moved.id) == []
    assert client.get("/help/old-name").status_code == 200


def test_an_old_slug_of_a_draft_is_not_found(client):
    article = make_article(slug="draft-before", status="draft")
    rename(article, "draft-after")
    assert client.get("/help/draft-before").status_code == 404


def test_the_old_url_of_a_white_paper_landing_page_redirects(client):
    paper = make_article(slug="paper-v1", kind="whitepaper")
    rename(paper, "paper-v2")
    response = client.get("/library/paper-v1")
    assert response.status_code == 301 and response.headers["Location"] == "/library/paper-v2"


def test_the_editor_renames_the_slug_from_the_form(login_as, client):
    admin = login_as("admin")
    article = make_article(slug="form-before")
    data = {**FORM, "title": article.title, "slug": "form-after", "action": "save"}
    assert admin.post(f"/admin/content/{article.id}", data=data).status_code == 303
    assert db.session.get(Article, article.id).slug == "form-after"
    assert client.get("/help/form-before").headers["Location"] == "/help/form-after"
    # An empty slug field keeps the address.
    assert admin.post(f"/admin/content/{article.id}", data={**data, "slug": ""}).status_code == 303
    assert db.session.get(Article, article.id).slug == "form-after"


def test_a_taken_slug_is_shown_beside_the_field(login_as):
    admin = login_as("admin")
    make_article(slug="someone-else")
    article = make_article(slug="mine-too")
    data = {**FORM, "title": article.title, "slug": "someone-else", "action": "save"}
    response = admin.post(f"/admin/content/{article.id}", data=data)
    assert response.status_code == 422
    assert "已被另一篇文章使用" in response.get_data(as_text=True)
    assert db.session.get(Article, article.id).slug == "mine-too"


def test_the_history_survives_export_and_import(runner, tmp_path, client):
    article = make_article(slug="v1")
    rename(article, "v2")
    rename(article, "v3")
    assert runner.invoke(args=["content", "export", str(tmp_path)]).exit_code == 0
    text = (tmp_path / "v3.md").read_text(encoding="utf-8")
    assert "old_slugs: [v1, v2]" in text
    # A fresh site: the import brings the redirects back.
    db.session.delete(db.session.get(Article, article.id))
    db.session.commit()
    assert client.get("/help/v1").status_code == 404
    result = runner.invoke(args=["content", "import", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert client.get("/help/v1").headers["Location"] == "/help/v3"
    # Importing it again changes nothing; dropping an old slug from the file is an update.
    assert "1 unchanged" in runner.invoke(args=["content", "import", str(tmp_path)]).output
    (tmp_path / "v3.md").write_text(text.replace("old_slugs: [v1, v2]", "old_slugs: [v2]"), encoding="utf-8")
    assert "1 updated" in runner.invoke(args=["content", "import", str(tmp_path)]).output
    assert client.get("/help/v1").status_code == 404


def test_a_bad_old_slugs_value_is_a_problem_on_its_line(runner, tmp_path):
    (tmp_path / "a.md").write_text("---\ntitle: A\nold_slugs: [Not A Slug]\n---\nbody\n", encoding="utf-8")
    result = runner.invoke(args=["content", "import", str(tmp_path)])
    assert result.exit_code == 1 and "a.md:3" in result.output
