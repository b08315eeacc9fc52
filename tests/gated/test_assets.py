"""Gated files: stored by checksum under ASSET_DIR, kept in step with a white paper's
front matter on article_changed, and found by content's export."""

import io

import pytest
from sqlalchemy import func, select

from content.signals import article_changed
from core.extensions import db
from core.timeutil import utcnow
from gated.assets import article_asset_path, asset_path, file_sha256, store_asset
from gated.models import Asset
from tests.factories import make_whitepaper

pytestmark = pytest.mark.usefixtures("app")


def test_a_stored_file_has_size_type_and_checksum_and_lives_outside_static(app):
    asset = store_asset(io.BytesIO(b"hello"), filename="../../报告 v1.pdf", slug="r", now=utcnow())
    path = asset_path(asset)
    assert path.read_bytes() == b"hello" and str(path).startswith(app.config["ASSET_DIR"])
    assert (asset.size, asset.content_type, asset.filename) == (5, "application/pdf", "报告-v1.pdf")
    assert asset.sha256 == file_sha256(path)


def test_article_changed_copies_the_front_matter_file_in_and_refreshes_it(app, tmp_path):
    article, _ = make_whitepaper(with_asset=False)
    source = tmp_path / "guide.pdf"
    source.write_bytes(b"%PDF version one")
    article.asset_source = str(source)
    db.session.commit()
    article_changed.send(app, article_id=article.id)
    asset = db.session.scalar(select(Asset))
    assert asset.article_id == article.id and asset_path(asset).read_bytes() == b"%PDF version one"
    first_file = asset_path(asset)
    article_changed.send(app, article_id=article.id)  # unchanged: nothing new
    assert db.session.scalar(select(func.count()).select_from(Asset)) == 1
    source.write_bytes(b"%PDF version two")
    article_changed.send(app, article_id=article.id)
    db.session.expire_all()
    asset = db.session.scalar(select(Asset))
    assert asset_path(asset).read_bytes() == b"%PDF version two" and not first_file.exists()
    assert article_asset_path(article) == asset_path(asset)


def test_articles_without_an_existing_file_are_left_alone(app):
    article, _ = make_whitepaper(with_asset=False)
    article.asset_source = "/nonexistent/file.pdf"
    db.session.commit()
    article_changed.send(app, article_id=article.id)
    assert db.session.scalar(select(func.count()).select_from(Asset)) == 0
    assert article_asset_path(article) is None


def test_content_export_finds_the_stored_file_through_the_app(make_app):
    assert make_app().extensions["lodestar.asset_path"] is article_asset_path
