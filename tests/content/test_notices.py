"""Editorial notices: reviewers are told when an article waits for them, authors when it
is published or returned with a comment, in their staff home and by mail."""

import pytest
from sqlalchemy import select

from content.models import Article
from content.notices import Notice
from core.extensions import db
from nurture.models import Message
from tests.conftest import assert_staff_mail, mail_texts
from tests.content.helpers import ARTICLE_FORM as FORM

pytestmark = pytest.mark.usefixtures("app")


def notices_of(user):
    return list(db.session.scalars(select(Notice).where(Notice.user_id == user.id).order_by(Notice.id)))


def test_sending_to_review_tells_every_reviewer_in_the_home_and_by_mail(login_as, runner, smtp_sink):
    editor = login_as("editor", email="writer@example.com")
    admin = login_as("admin", email="boss@example.com")
    login_as("admin", email="gone@example.com", active=False)
    assert editor.post("/admin/content/new", data={**FORM, "action": "submit"}).status_code == 303
    article = db.session.scalar(select(Article))
    assert [notice.kind for notice in notices_of(admin.user)] == ["review"]
    assert notices_of(editor.user) == []
    queued = db.session.scalars(select(Message).where(Message.kind == "staff")).all()
    assert [message.to_address for message in queued] == ["boss@example.com"]

    home = admin.get("/admin/").get_data(as_text=True)
    assert "等待您审阅：如何提高续费率" in home and f"/admin/content/{article.id}" in home
    # Opening the article is seeing the notice.
    admin.get(f"/admin/content/{article.id}")
    assert "等待您审阅" not in admin.get("/admin/").get_data(as_text=True)

    assert runner.invoke(args=["nurture", "tick"]).exit_code == 0
    (mail,) = smtp_sink.wait_for(1)
    assert mail["To"] == "boss@example.com" and "如何提高续费率" in mail["Subject"]
    assert f"/admin/content/{article.id}" in mail_texts(mail)[0]
    assert_staff_mail(mail, "您在 Lodestar 审阅文章")


def test_returning_needs_a_comment_and_the_author_gets_it(login_as, runner, smtp_sink):
    editor = login_as("editor", email="writer@example.com")
    admin = login_as("admin", email="boss@example.com")
    editor.post("/admin/content/new", data={**FORM, "action": "submit"})
    article = db.session.scalar(select(Article))
    url = f"/admin/content/{article.id}"
    form = {**FORM, "title": article.title, "slug": article.slug}

    refused = admin.post(url, data={**form, "action": "return", "review_comment": " "})
    assert refused.status_code == 422
    assert "退回前请写明需要修改什么" in refused.get_data(as_text=True)
    assert db.session.get(Article, article.id).status == "in_review"

    comment = "第二段的数据请注明来源。"
    assert admin.post(url, data={**form, "action": "return", "review_comment": comment}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Article, article.id).status == "draft"
    (notice,) = notices_of(editor.user)
    assert (notice.kind, notice.comment) == ("returned", comment)
    assert comment in editor.get("/admin/").get_data(as_text=True)

    smtp_sink.clear()
    assert runner.invoke(args=["nurture", "tick"]).exit_code == 0
    mails = smtp_sink.wait_for(2)
    returned = next(mail for mail in mails if mail["To"] == "writer@example.com")
    assert comment in mail_texts(returned)[0] and comment in mail_texts(returned)[1]
    assert_staff_mail(returned, "您是这篇文章的作者")


def test_publishing_tells_the_author_not_the_admin_who_published(login_as):
    editor = login_as("editor")
    admin = login_as("admin")
    editor.post("/admin/content/new", data={**FORM, "action": "submit"})
    article = db.session.scalar(select(Article))
    data = {**FORM, "title": article.title, "slug": article.slug, "action": "publish"}
    assert admin.post(f"/admin/content/{article.id}", data=data).status_code == 303
    assert [notice.kind for notice in notices_of(editor.user)] == ["published"]
    assert [notice.kind for notice in notices_of(admin.user)] == ["review"]


def test_an_editor_cannot_return_an_article(login_as):
    editor = login_as("editor")
    editor.post("/admin/content/new", data={**FORM, "action": "submit"})
    article = db.session.scalar(select(Article))
    data = {**FORM, "title": article.title, "slug": article.slug, "action": "return", "review_comment": "x"}
    assert editor.post(f"/admin/content/{article.id}", data=data).status_code == 403
    assert db.session.get(Article, article.id).status == "in_review"
