"""Revision notes are stored as codes and shown in the reader's language: the notes the
system writes (a save's changes, a workflow step, an import, a restore) and the English
sentences older rows hold read as Chinese in the zh_CN UI."""

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from content import revisions, transfer
from content.models import Article, Revision
from content.services import save_article
from core.extensions import db
from core.timeutil import utcnow
from tests.content.helpers import ARTICLE_FORM as FORM
from tests.factories import UserFactory

pytestmark = pytest.mark.usefixtures("app")


def notes_on_page(client, article) -> list[str]:
    page = client.get(f"/admin/content/{article.id}/revisions").get_data(as_text=True)
    return [note.strip() for note in re.findall(r'<span class="muted">[^<·]*· ([^<]*)</span>', page)]


def test_system_notes_are_codes_shown_in_chinese(login_as, tmp_path):
    editor = login_as("editor")
    editor.post("/admin/content/new", data={**FORM, "action": "save"})
    article = db.session.scalar(select(Article))
    editor.post(
        f"/admin/content/{article.id}", data={**FORM, "title": "新标题", "body": "改了", "action": "submit"}
    )
    editor.post(
        f"/admin/content/{article.id}", data={**FORM, "title": "新标题", "body": "改了", "action": "save"}
    )
    first = db.session.scalars(select(Revision).order_by(Revision.id)).first()
    revisions.restore_revision(first, user=UserFactory(role="admin"), now=utcnow())
    (tmp_path / "renewal.md").write_text(
        f"---\ntitle: 导入的标题\nslug: {article.slug}\nkind: help\nstatus: in_review\n---\n导入的正文\n",
        encoding="utf-8",
    )
    assert transfer.import_paths([tmp_path / "renewal.md"], now=utcnow()).ok
    stored = db.session.scalars(select(Revision.note).order_by(Revision.id)).all()
    assert stored[:3] == ["created", "title, body_md, submit", "saved"]
    assert stored[3] == f"restore:{first.id}:{first.created_at:%Y-%m-%dT%H:%M}"
    assert stored[4] == "import:renewal.md"

    shown = notes_on_page(editor, article)[::-1]  # the page lists the newest first
    assert shown[0] == "创建了文章"
    assert shown[1] == "修改了标题和正文（Markdown） · 提交审核"
    assert shown[2] == "保存（无改动）"
    assert shown[3].startswith("恢复了 ") and shown[3].endswith(f"的第 {first.id} 号修订")
    assert shown[4] == "从 renewal.md 导入"
    assert not any(re.search(r"[A-Za-z]{4,}", note.replace("Markdown", "")) for note in shown[:4])


def test_old_english_notes_show_translated_and_typed_notes_as_typed(login_as):
    editor = login_as("editor")
    now = datetime(2026, 12, 1, 2, 0)
    article = save_article(
        {"title": "旧文章", "kind": "help", "locale": "zh-CN"},
        "正文",
        user=UserFactory(role="editor"),
        now=now,
    )
    for minutes, note in enumerate(
        (
            "import saas-renewal.md",
            "restored revision #3 of 2026-11-01 09:00 UTC",
            "category, tags, publish",
            "界面已核对，无需修改",
            "validate, populate_obj",  # words that name the form's methods, not its fields
        ),
        start=1,
    ):
        db.session.add(
            Revision(
                article_id=article.id,
                created_at=now + timedelta(minutes=minutes),
                note=note,
                title=article.title,
                body_md=article.body_md,
                fields={},
            )
        )
    db.session.commit()
    shown = notes_on_page(editor, article)
    # 09:00 UTC is 17:00 in Shanghai, the site's zone.
    assert shown[:5] == [
        "validate, populate_obj",
        "界面已核对，无需修改",
        "修改了分类和标签 · 发布",
        "恢复了 2026年11月1日 17:00 的第 3 号修订",
        "从 saas-renewal.md 导入",
    ]
