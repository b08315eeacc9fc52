"""The demo loader imports a folder through the import service, idempotently."""

from pathlib import Path

import pytest
from sqlalchemy import func, select

from content import demo
from content.models import Article
from core.extensions import db

pytestmark = pytest.mark.usefixtures("app")

SITE = Path(__file__).parent / "fixtures" / "site"


def test_loader_is_idempotent():
    lines = []
    first = demo.load(lines.append, folder=SITE)
    assert first.counts == {"imported": 5, "updated": 0, "unchanged": 0, "error": 0}
    second = demo.load(lines.append, folder=SITE)
    assert second.counts == {"imported": 0, "updated": 0, "unchanged": 5, "error": 0}
    assert lines[-1] == "articles: 0 imported, 0 updated, 5 unchanged, 0 errors"


def test_the_shipped_demo_articles_import_cleanly():
    report = demo.load(lambda line: None)
    problems = [line for result in report.results for line in result.lines() if result.outcome == "error"]
    assert problems == []
    assert report.counts["imported"] >= 30
    kinds = set(db.session.scalars(select(Article.kind).distinct()))
    assert kinds == {"help", "whitepaper", "case-study", "solution", "blog"} or kinds >= {
        "help",
        "whitepaper",
    }
    assert db.session.scalar(select(func.count()).select_from(Article).where(Article.locale == "en")) > 0
