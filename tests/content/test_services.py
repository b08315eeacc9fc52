"""Saving, slugs, the workflow and its role rules, revisions, feedback, public queries."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from content import revisions, signals
from content.documents import DocumentError, slugify
from content.feedback import feedback_counts, record_feedback
from content.models import Article, Revision
from content.public import get_public_article, public_articles, related_articles
from content.services import delete_article, save_article, transition
from content.workflow import InvalidTransition, NotAllowed, allowed_actions, can_edit
from core.extensions import db
from core.timeutil import utcnow
from tests.factories import ARTICLE_DEFAULTS as BASE
from tests.factories import UserFactory, make_article

pytestmark = pytest.mark.usefixtures("app")


def new_fields(**fields):
    return {**BASE, "status": "draft", "published_at": None, **fields}


@pytest.mark.parametrize(
    "title, slug",
    [
        ("如何提高续费率", "ruhe-tigao-xufeilv"),
        ("SaaS 续费率：2026 指南", "saas-xufeilv-2026-zhinan"),
        ("线索评分起步指南", "xiansuo-pingfen-qibu-zhinan"),
        ("Hello, World!", "hello-world"),
        ("？！", ""),
    ],
)
def test_slugify_chinese_titles(title, slug):
    assert slugify(title) == slug


def test_slugs_are_unique_and_kept_by_an_edit_that_does_not_ask():
    editor = UserFactory(role="editor")
    now = utcnow()
    first = save_article(new_fields(title="如何提高续费率"), "a", user=editor, now=now)
    second = save_article(new_fields(title="如何提高续费率"), "b", user=editor, now=now)
    third = save_article(new_fields(title="如何提高续费率"), "c", user=editor, now=now)
    assert [first.slug, second.slug, third.slug] == [
        "ruhe-tigao-xufeilv",
        "ruhe-tigao-xufeilv-2",
        "ruhe-tigao-xufeilv-3",
    ]
    save_article(new_fields(title="完全不同的标题", slug=""), "a2", article=first, user=editor, now=now)
    assert first.slug == "ruhe-tigao-xufeilv"
    assert first.title == "完全不同的标题"
    # A title with nothing to spell falls back to the kind.
    assert save_article(new_fields(title="？"), "", user=editor, now=now).slug == "help"


def test_an_explicit_slug_that_is_taken_is_refused_for_editors():
    editor = UserFactory(role="editor")
    save_article(new_fields(title="A", slug="taken"), "", user=editor, now=utcnow())
    with pytest.raises(DocumentError) as error:
        save_article(new_fields(title="B", slug="taken"), "", user=editor, now=utcnow())
    assert error.value.problems[0].field == "slug"
    assert db.session.scalar(select(Article).where(Article.title == "B")) is None


def test_every_save_is_a_revision_with_who_when_what():
    editor = UserFactory(role="editor")
    now = utcnow()
    article = save_article(new_fields(title="第一版"), "一", user=editor, now=now)
    later = now + timedelta(minutes=5)
    save_article(new_fields(title="第二版", category="入门"), "二", article=article, user=editor, now=later)
    revisions = db.session.scalars(select(Revision).order_by(Revision.id)).all()
    assert [(r.title, r.body_md, r.author_id) for r in revisions] == [
        ("第一版", "一", editor.id),
        ("第二版", "二", editor.id),
    ]
    assert revisions[1].created_at == later
    assert revisions[0].note == "created"
    assert revisions[1].note == "title, category, body_md"
    assert revisions[1].fields["category"] == "入门"


def test_rendering_is_stored_on_save():
    article = make_article(
        "## 如何开始？\n\n<script>x()</script>第一步。\n\n## Why?\n\nBecause.", category="常见问题"
    )
    assert '<h2 id="如何开始">' in article.body_html and "<script" not in article.body_html
    assert "如何开始" in article.toc_html
    assert article.body_text.startswith("如何开始？")
    assert article.faq[0]["question"] == "如何开始？"
    assert article.headings[1]["id"] == "why"


def test_editor_drafts_and_sends_to_review_admin_publishes():
    editor, admin = UserFactory(role="editor"), UserFactory(role="admin")
    now = utcnow()
    article = save_article(new_fields(title="工作流"), "正文", user=editor, now=now)
    assert article.status == "draft" and article.owner_id == editor.id
    assert [a.name for a in allowed_actions(editor, article)] == ["save", "submit"]
    with pytest.raises(NotAllowed):
        transition(article, "publish", user=editor, now=now)
    transition(article, "submit", user=editor, now=now)
    assert article.status == "in_review"
    with pytest.raises(InvalidTransition):
        transition(article, "submit", user=editor, now=now)
    transition(article, "publish", user=admin, now=now)
    assert article.status == "published" and article.published_at == now
    assert article.is_public(now)
    # Published: only an admin may change it.
    assert not can_edit(editor, article)
    with pytest.raises(NotAllowed):
        save_article(new_fields(title="偷改"), "x", article=article, user=editor, now=now)
    transition(article, "unpublish", user=admin, now=now)
    assert article.status == "draft"
    transition(article, "archive", user=admin, now=now)
    assert article.status == "archived"
    notes = db.session.scalars(select(Revision.note).order_by(Revision.id)).all()
    assert notes == ["created", "submit", "publish", "unpublish", "archive"]


@pytest.mark.parametrize("role", ["marketer", "sales"])
def test_other_staff_roles_cannot_write(role):
    with pytest.raises(NotAllowed):
        save_article(new_fields(), "x", user=UserFactory(role=role), now=utcnow())
    assert db.session.scalar(select(Article)) is None


def test_status_from_fields_is_ignored_for_users():
    editor = UserFactory(role="editor")
    article = save_article(new_fields(status="published"), "x", user=editor, now=utcnow())
    assert article.status == "draft"


def test_public_queries_hide_drafts_review_archived_and_future():
    now = utcnow()
    for status in ("draft", "in_review", "published", "archived"):
        make_article(title=status, slug=status, status=status, now=now)
    make_article(title="future", slug="future", published_at=now + timedelta(hours=1), now=now)
    visible = [a.slug for a in db.session.scalars(public_articles(now=now))]
    assert visible == ["published"]
    assert get_public_article("help", "published", now=now) is not None
    for slug in ("draft", "in_review", "archived", "future"):
        assert get_public_article("help", slug, now=now) is None
    # The scheduled one appears when its time comes.
    assert get_public_article("help", "future", now=now + timedelta(hours=2)) is not None
    assert get_public_article("blog", "published", now=now) is None


def test_public_articles_filters():
    now = utcnow()
    make_article(title="a", slug="a", kind="blog", locale="en", category="X", now=now)
    make_article(title="b", slug="b", kind="blog", locale="zh-CN", category="Y", now=now)
    make_article(title="c", slug="c", kind="help", locale="en", category="X", now=now)
    slugs = lambda **kw: sorted(a.slug for a in db.session.scalars(public_articles(now=now, **kw)))  # noqa: E731
    assert slugs(kind="blog") == ["a", "b"]
    assert slugs(locale="en") == ["a", "c"]
    assert slugs(category="X") == ["a", "c"]
    assert slugs(kind="blog", locale="en", category="X") == ["a"]


def test_restore_brings_back_title_body_and_fields():
    editor = UserFactory(role="editor")
    now = utcnow()
    article = save_article(new_fields(title="原版", tags=["a"]), "原文", user=editor, now=now)
    first = db.session.scalar(select(Revision))
    save_article(new_fields(title="改版", tags=["b"]), "改后", article=article, user=editor, now=now)
    revisions.restore_revision(first, user=editor, now=now + timedelta(minutes=1))
    assert (article.title, article.body_md, article.tags) == ("原版", "原文", ["a"])
    assert "原文" in article.body_html
    latest = db.session.scalars(select(Revision).order_by(Revision.id.desc())).first()
    assert latest.note == f"restore:{first.id}:{first.created_at:%Y-%m-%dT%H:%M}"
    assert db.session.scalar(select(db.func.count()).select_from(Revision)) == 3


def test_revision_diff_shows_added_and_removed_lines():
    editor = UserFactory(role="editor")
    article = save_article(new_fields(title="T"), "第一行\n第二行", user=editor, now=utcnow())
    save_article(new_fields(title="T"), "第一行\n第二行（改）", article=article, user=editor, now=utcnow())
    older, newer = db.session.scalars(select(Revision).order_by(Revision.id)).all()
    diff = revisions.revision_diff(older, newer, "Asia/Shanghai")
    assert ("del", "-第二行") in diff and ("add", "+第二行（改）") in diff
    assert all(kind != "add" or "第一行" not in line for kind, line in diff)
    assert ("add", "+title: T") in revisions.revision_diff(None, older, "Asia/Shanghai")


def test_feedback_is_recorded_and_counted():
    article = make_article()
    record_feedback(article.id, True, now=utcnow())
    record_feedback(article.id, False, "  缺少截图  ", now=utcnow())
    assert feedback_counts(article.id) == {"yes": 1, "no": 1}


def test_related_articles_share_category_or_tags():
    now = utcnow()
    main = make_article(title="主", slug="main", category="续费", tags=["nps"], now=now)
    same_category = make_article(title="同类", slug="same-cat", category="续费", now=now)
    same_tag = make_article(title="同标签", slug="same-tag", category="别的", tags=["nps"], now=now)
    make_article(title="无关", slug="unrelated", category="别的", now=now)
    make_article(title="草稿", slug="draft", category="续费", status="draft", now=now)
    related = [a.slug for a in related_articles(main, now=now)]
    assert related == [same_category.slug, same_tag.slug]


def test_signals_are_sent_after_commit():
    seen = []

    def receiver(sender, article_id):
        # Committed: a new session would see it.
        seen.append((article_id, db.session.get(Article, article_id).title))

    signals.article_changed.connect(receiver)
    try:
        article = make_article(title="信号")
    finally:
        signals.article_changed.disconnect(receiver)
    assert seen == [(article.id, "信号")]
    deleted = []
    signals.article_deleted.connect(lambda sender, article_id, slug: deleted.append(slug), weak=False)
    try:
        delete_article(article)
    finally:
        signals.article_deleted.receivers.clear()
    assert deleted == [article.slug]


@pytest.mark.parametrize(
    "typed, tags",
    [
        ("续费、客户成功、NPS", ["续费", "客户成功", "NPS"]),
        ("续费，客户成功; onboarding；churn", ["续费", "客户成功", "onboarding", "churn"]),
        ("续费 客户成功  NPS", ["续费", "客户成功", "NPS"]),
        ("a,, b ,", ["a", "b"]),
    ],
)
def test_typed_tags_split_on_every_separator(typed, tags):
    from content.documents import validate_fields

    fields, problems = validate_fields({"title": "T", "tags": typed}, default_locale="zh-CN", timezone="UTC")
    assert problems == [] and fields["tags"] == tags
