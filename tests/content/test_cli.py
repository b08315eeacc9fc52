"""`flask content import` and `flask content export`: counts, errors that name the file
and line, nothing half-written, and a byte-identical round trip."""

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from content.models import Article, Revision
from core.extensions import db

pytestmark = pytest.mark.usefixtures("app")

SITE = Path(__file__).parent / "fixtures" / "site"


def count(model=Article):
    return db.session.scalar(select(func.count()).select_from(model))


def article(slug):
    return db.session.scalar(select(Article).where(Article.slug == slug))


def test_import_a_folder_then_again_reports_unchanged(runner):
    result = runner.invoke(args=["content", "import", str(SITE)])
    assert result.exit_code == 0, result.output
    assert "5 imported, 0 updated, 0 unchanged, 0 errors" in result.output
    assert "imported  " in result.output and "(ru-he-kai-shi)" in result.output
    assert count() == 5
    guide = article("renewal-guide")
    assert guide.kind == "whitepaper" and guide.featured and guide.sequence_slug == "whitepaper-followup"
    assert guide.asset_source == str((SITE / "files" / "renewal-guide.pdf").resolve())
    assert "<p>本指南介绍续费管理的五个阶段。</p>" in guide.body_html
    # Dates are in the site's time zone (Asia/Shanghai), stored as UTC.
    assert article("faq-account").published_at.isoformat() == "2026-01-06T02:30:00"
    assert article("ru-he-kai-shi").translation_key == "getting-started"

    again = runner.invoke(args=["content", "import", str(SITE)])
    assert again.exit_code == 0
    assert "0 imported, 0 updated, 5 unchanged, 0 errors" in again.output
    assert count(Revision) == 5


def test_import_updates_by_slug_with_a_revision(runner, tmp_path):
    folder = tmp_path / "site"
    shutil.copytree(SITE, folder)
    runner.invoke(args=["content", "import", str(folder)])
    path = folder / "faq.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace("在个人设置中修改。", "在「个人设置」中修改。"),
        encoding="utf-8",
    )
    result = runner.invoke(args=["content", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "0 imported, 1 updated, 0 unchanged, 0 errors" in result.output
    assert "「个人设置」" in article("faq-account").body_html
    assert count(Revision) == 6


def test_dry_run_writes_nothing(runner):
    result = runner.invoke(args=["content", "import", "--dry-run", str(SITE)])
    assert result.exit_code == 0
    assert "dry run: 5 imported" in result.output
    assert count() == 0


BAD_FILES = {
    "not-yaml.md": (
        "---\ntitle: ok\ntags: [a, b\nkind: help\n---\nbody\n",
        "not-yaml.md:4:",
        "not valid YAML",
    ),
    "bad-kind.md": ("---\ntitle: ok\nkind: ebook\n---\nbody\n", "bad-kind.md:3:", "unknown kind 'ebook'"),
    "bad-status.md": ("---\ntitle: ok\nstatus: live\n---\n", "bad-status.md:3:", "unknown status 'live'"),
    "bad-locale.md": ("---\ntitle: ok\nlocale: fr\n---\n", "bad-locale.md:3:", "unknown locale 'fr'"),
    "no-title.md": ("---\nkind: help\n---\nbody\n", "no-title.md:1:", "title is required"),
    "no-asset.md": (
        "---\ntitle: ok\nkind: whitepaper\nasset: files/missing.pdf\n---\n",
        "no-asset.md:4:",
        "asset file not found",
    ),
    "latin1.md": ("---\ntitle: caf\xe9\n---\n".encode("latin-1"), "latin1.md:2:", "not UTF-8"),
    "no-front-matter.md": ("just text\n", "no-front-matter.md:1:", "must start with front matter"),
    "unclosed.md": ("---\ntitle: ok\n", "unclosed.md:1:", "not closed"),
    "typo.md": ("---\ntitle: ok\ncatgory: x\n---\n", "typo.md:3:", "unknown field 'catgory'"),
    "bad-date.md": (
        "---\ntitle: ok\npublished_at: next tuesday\n---\n",
        "bad-date.md:3:",
        "published_at must be a date",
    ),
    "impossible-date.md": (
        "---\ntitle: ok\npublished_at: 2026-02-30\n---\n",
        "impossible-date.md:3:",
        "published_at must be a date",
    ),
    "python-tag.md": ("---\ntitle: !!python/object:os.system x\n---\n", "python-tag.md:2:", "not valid YAML"),
    "hostile-body.md": ("---\ntitle: ok\n---\n" + "[" * 50000, "hostile-body.md", "inline markup"),
    "bad-slug.md": (
        "---\ntitle: ok\nslug: Hello World!\n---\n",
        "bad-slug.md:3:",
        "slug 'Hello World!' may contain only",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_each_front_matter_error_names_file_and_line(runner, tmp_path, name):
    content, location, message = BAD_FILES[name]
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    good = tmp_path / "good.md"
    good.write_text("---\ntitle: 好文章\n---\n正文\n", encoding="utf-8")
    result = runner.invoke(args=["content", "import", str(tmp_path)])
    assert result.exit_code == 1
    assert f"error     {tmp_path / location}" in result.output, result.output
    assert message in result.output
    assert "1 imported, 0 updated, 0 unchanged, 1 errors" in result.output
    # The good file went in; nothing of the bad one did.
    assert [a.slug for a in db.session.scalars(select(Article))] == ["good"]


def test_duplicate_slug_within_a_run_is_an_error_for_the_second_file(runner, tmp_path):
    (tmp_path / "a.md").write_text("---\ntitle: A\nslug: same\n---\n", encoding="utf-8")
    (tmp_path / "b.md").write_text("---\ntitle: B\nslug: same\n---\n", encoding="utf-8")
    result = runner.invoke(args=["content", "import", str(tmp_path)])
    assert result.exit_code == 1
    assert f"{tmp_path / 'b.md'}:3: duplicate slug 'same'" in result.output
    assert str(tmp_path / "a.md") in result.output
    assert article("same").title == "A"


def test_a_bad_update_leaves_the_article_as_it_was(runner, tmp_path):
    path = tmp_path / "keep.md"
    path.write_text("---\ntitle: 原标题\n---\n原文\n", encoding="utf-8")
    runner.invoke(args=["content", "import", str(path)])
    path.write_text("---\ntitle: 新标题\nkind: nope\n---\n新正文\n", encoding="utf-8")
    result = runner.invoke(args=["content", "import", str(path)])
    assert result.exit_code == 1
    kept = article("keep")
    assert (kept.title, kept.body_md) == ("原标题", "原文")
    assert count(Revision) == 1


def test_export_import_export_is_byte_identical(runner, tmp_path):
    assert runner.invoke(args=["content", "import", str(SITE)]).exit_code == 0
    first, second = tmp_path / "one", tmp_path / "two"
    result = runner.invoke(args=["content", "export", str(first)])
    assert result.exit_code == 0, result.output
    assert "5 articles written" in result.output
    assert (first / "files" / "renewal-guide.pdf").read_bytes() == (
        SITE / "files" / "renewal-guide.pdf"
    ).read_bytes()
    exported = (first / "renewal-guide.md").read_text(encoding="utf-8")
    assert "asset: files/renewal-guide.pdf\n" in exported
    assert "tags: [续费, 客户成功]\n" in exported
    assert "published_at: 2026-02-01\n" in exported

    # Import the export into an empty database, then export again.
    db.session.execute(Revision.__table__.delete())
    db.session.execute(Article.__table__.delete())
    db.session.commit()
    assert runner.invoke(args=["content", "import", str(first)]).exit_code == 0
    assert runner.invoke(args=["content", "export", str(second)]).exit_code == 0
    files_one = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    files_two = sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    assert files_one == files_two
    for relative in files_one:
        assert (first / relative).read_bytes() == (second / relative).read_bytes(), relative


def test_export_uses_the_gated_store_when_it_knows_the_file(app, runner, tmp_path):
    assert runner.invoke(args=["content", "import", str(SITE / "renewal-guide.md")]).exit_code == 0
    stored = tmp_path / "store.pdf"
    stored.write_bytes(b"%PDF-1.4 stored copy")
    previous = app.extensions.get("lodestar.asset_path")
    app.extensions["lodestar.asset_path"] = lambda a: stored if a.slug == "renewal-guide" else None
    try:
        assert runner.invoke(args=["content", "export", str(tmp_path / "out")]).exit_code == 0
    finally:
        app.extensions["lodestar.asset_path"] = previous
    assert (tmp_path / "out" / "files" / "renewal-guide.pdf").read_bytes() == b"%PDF-1.4 stored copy"


def test_import_needs_existing_paths(runner):
    result = runner.invoke(args=["content", "import", "/no/such/folder"])
    assert result.exit_code == 2
