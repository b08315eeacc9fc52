"""The editor's pickers: a white paper's sequence and gated file are chosen from what
exists (nurture's sequences, gated's stored files), categories in use are suggested, and
a forged choice is refused beside its field."""

import io
from pathlib import Path

import pytest
from sqlalchemy import select

from content.models import Article
from core.extensions import db
from core.timeutil import utcnow
from gated.assets import asset_path, store_asset
from gated.models import Asset
from nurture.models import Sequence
from tests.content.helpers import ARTICLE_FORM as FORM
from tests.factories import make_article

pytestmark = pytest.mark.usefixtures("app")


def test_sequences_and_categories_are_offered_not_typed(login_as):
    db.session.add(Sequence(slug="whitepaper-followup", name="白皮书下载后培育"))
    db.session.commit()
    make_article(category="客户成功")
    page = login_as("editor").get("/admin/content/new").get_data(as_text=True)
    assert 'id="sequence" name="sequence"><option value="">无</option>' in page
    assert '<option value="whitepaper-followup">白皮书下载后培育 (whitepaper-followup)</option>' in page
    assert '<datalist id="category-choices"><option value="客户成功">' in page


def test_a_sequence_not_in_the_list_stays_chosen(login_as):
    article = make_article(kind="whitepaper", sequence_slug="imported-later")
    page = login_as("admin").get(f"/admin/content/{article.id}").get_data(as_text=True)
    assert '<option selected value="imported-later">imported-later</option>' in page


def test_a_stored_file_is_picked_for_a_white_paper(login_as, app):
    stored = store_asset(
        io.BytesIO(b"%PDF-1.4 library"), filename="library.pdf", slug="library", now=utcnow()
    )
    admin = login_as("admin")
    page = admin.get("/admin/content/new").get_data(as_text=True)
    assert f'<option value="{stored.id}">library.pdf (library.pdf)</option>' in page
    data = {**FORM, "kind": "whitepaper", "library_file": str(stored.id), "action": "save"}
    assert admin.post("/admin/content/new", data=data).status_code == 303
    article = db.session.scalar(select(Article))
    assert Path(article.asset_source) == asset_path(stored)
    # gated copied it in for the white paper on article_changed.
    copy = db.session.scalar(select(Asset).where(Asset.article_id == article.id))
    assert copy is not None and copy.sha256 == stored.sha256


def test_a_forged_file_choice_is_refused_and_nothing_is_stored(login_as):
    admin = login_as("admin")
    data = {**FORM, "kind": "whitepaper", "library_file": "/etc/passwd", "action": "save"}
    response = admin.post("/admin/content/new", data=data)
    assert response.status_code == 422 and "请从列出的文件中选择" in response.get_data(as_text=True)
    assert db.session.scalar(select(Article)) is None
