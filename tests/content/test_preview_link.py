"""A draft's shared preview link: signed, expiring, readable without a login, never
cached or indexed, and useless for another purpose or after its time."""

import re
import time

import pytest
from itsdangerous.timed import TimestampSigner

from core.tokens import sign
from tests.factories import make_article

pytestmark = pytest.mark.usefixtures("app")


def shared_link(editor, article) -> str:
    page = editor.get(f"/admin/content/{article.id}").get_data(as_text=True)
    return re.search(r'id="preview-link" value="[^"]*(/preview/[^"]+)"', page).group(1)


def test_someone_without_a_login_reads_the_draft_until_the_link_expires(app, login_as, client, monkeypatch):
    editor = login_as("editor")
    draft = make_article("## 尚未发布的正文", status="draft", published_at=None, slug="secret-draft")
    assert client.get("/help/secret-draft").status_code == 404
    link = shared_link(editor, draft)

    response = client.get(link)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "尚未发布的正文" in page and "尚未发布的版本" in page
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "noindex" in response.headers["X-Robots-Tag"]
    assert "Disallow: /preview/" in client.get("/robots.txt").get_data(as_text=True)

    # The link's lifetime later (itsdangerous's clock moved on, ours is not involved).
    later = int(time.time()) + app.config["CONTENT_PREVIEW_LINK_HOURS"] * 3600 + 60
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later)
    expired = client.get(link)
    assert expired.status_code == 410 and "预览链接已过期" in expired.get_data(as_text=True)


def test_a_tampered_or_foreign_token_is_not_a_preview(client):
    draft = make_article(status="draft", published_at=None)
    assert client.get("/preview/not-a-token").status_code == 404
    # A token signed for another purpose (a download) with the same id is refused.
    assert client.get(f"/preview/{sign('download', {'article': draft.id})}").status_code == 404
    assert client.get(f"/preview/{sign('article-preview', {'article': 999999})}").status_code == 404
