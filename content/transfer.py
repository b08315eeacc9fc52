"""Folders of Markdown in and out: the service behind `flask content import` / `export`
and the demo loader.

Import reads and validates each file completely before it writes anything, then saves it
in its own transaction: a bad file is reported (file, line, what is wrong) and skipped,
and never stops the good ones. Articles are matched by slug. Export writes each article
in the canonical form of documents.to_markdown, so export → import → export gives the
same bytes.
"""

import shutil
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from content import slugs
from content.documents import (
    HISTORY_KEY,
    DocumentError,
    Problem,
    front_matter,
    parse_markdown_file,
    to_markdown,
)
from content.models import Article
from content.revision_notes import import_note
from content.services import EDITABLE, changed_fields, save_article
from core.extensions import db

OUTCOMES = ("imported", "updated", "unchanged", "error")


@dataclass
class FileResult:
    path: Path
    outcome: str
    slug: str = ""
    problems: list[Problem] = field(default_factory=list)

    def lines(self) -> list[str]:
        """Human-readable summary lines: `outcome  path (slug)` or one per problem."""
        if self.outcome != "error":
            return [f"{self.outcome:<9} {self.path} ({self.slug})"]
        return [
            f"error     {self.path}:{problem.line}: {problem.message}"
            if problem.line
            else f"error     {self.path}: {problem.message}"
            for problem in self.problems
        ]


@dataclass
class ImportReport:
    results: list[FileResult] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        counted = Counter(result.outcome for result in self.results)
        return {outcome: counted.get(outcome, 0) for outcome in OUTCOMES}

    @property
    def ok(self) -> bool:
        return not self.counts["error"]

    def summary(self) -> str:
        counts = self.counts
        return ", ".join(
            f"{counts[outcome]} {'errors' if outcome == 'error' else outcome}" for outcome in OUTCOMES
        )


def markdown_files(paths: list[Path]) -> list[Path]:
    """The .md files named, and those inside the folders named (sorted, recursively)."""
    found = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*.md") if p.is_file()))
        else:
            found.append(path)
    return found


def import_paths(paths: list[Path], *, now: datetime, dry_run: bool = False) -> ImportReport:
    """Upsert every Markdown file under `paths` by slug. With dry_run nothing is written,
    and the report says what would happen."""
    config = current_app.config
    report = ImportReport()
    seen: dict[str, Path] = {}
    for path in markdown_files(paths):
        result = _import_one(
            path,
            seen,
            now=now,
            dry_run=dry_run,
            locale=config["DEFAULT_LOCALE"],
            timezone=config["BABEL_DEFAULT_TIMEZONE"],
        )
        report.results.append(result)
    return report


def _import_one(path: Path, seen: dict, *, now, dry_run, locale, timezone) -> FileResult:
    try:
        data = path.read_bytes()
    except OSError as exc:
        return FileResult(
            path,
            "error",
            problems=[Problem(_l("cannot read the file (%(reason)s)", reason=exc.strerror or exc))],
        )
    try:
        document = parse_markdown_file(data, path=path, default_locale=locale, timezone=timezone)
    except DocumentError as exc:
        return FileResult(path, "error", problems=exc.problems)
    fields = document.fields
    slug = fields["slug"]
    if slug in seen:
        line = document.key_lines.get("slug")
        message = _l("duplicate slug '%(slug)s': %(other)s has it too", slug=slug, other=str(seen[slug]))
        return FileResult(path, "error", slug, [Problem(message, line, "slug")])
    seen[slug] = path
    article = db.session.scalar(select(Article).where(Article.slug == slug))
    if article is not None and fields["published_at"] is None:
        # A file without a date keeps the date its first import gave it.
        fields.pop("published_at")
    if article is None:
        outcome = "imported"
    elif changed_fields(article, {k: v for k, v in fields.items() if k in EDITABLE}, document.body_md) or (
        HISTORY_KEY in fields and fields[HISTORY_KEY] != slugs.history(article.id)
    ):
        outcome = "updated"
    else:
        return FileResult(path, "unchanged", slug)
    if dry_run:
        return FileResult(path, outcome, slug)
    try:
        save_article(fields, document.body_md, article=article, now=now, note=import_note(path.name))
    except DocumentError as exc:
        return FileResult(path, "error", slug, exc.problems)
    except SQLAlchemyError as exc:
        db.session.rollback()
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        return FileResult(
            path, "error", slug, [Problem(_l("the database refused it (%(reason)s)", reason=reason))]
        )
    return FileResult(path, outcome, slug)


def asset_file(article: Article) -> Path | None:
    """Where the article's gated file is now: the gated package's store if it registered
    a lookup (`lodestar.asset_path`), else the file the front matter named."""
    lookup = current_app.extensions.get("lodestar.asset_path")
    candidates = [lookup(article) if lookup else None, article.asset_source or None]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def export_all(directory: Path) -> list[tuple[Path, str]]:
    """Write every article to `directory` as <slug>.md, gated files under files/.

    Returns (path, warning) pairs; the warning is empty unless a named asset is missing.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    timezone = current_app.config["BABEL_DEFAULT_TIMEZONE"]
    written = []
    for article in db.session.scalars(select(Article).order_by(Article.slug)):
        values = {name: getattr(article, name) for name in EDITABLE}
        values[HISTORY_KEY] = slugs.history(article.id)
        warning = ""
        if article.asset_source or article.kind == "whitepaper":
            source = asset_file(article)
            if source is not None:
                relative = Path("files") / f"{article.slug}{source.suffix.lower()}"
                (directory / "files").mkdir(exist_ok=True)
                target = directory / relative
                if source.resolve() != target.resolve():
                    shutil.copyfile(source, target)
                values["asset_source"] = relative.as_posix()
            elif article.asset_source:
                warning = str(_l("asset file not found, left out: %(path)s", path=article.asset_source))
                values["asset_source"] = ""
        path = directory / f"{article.slug}.md"
        path.write_text(
            to_markdown(front_matter(values, timezone), article.body_md), encoding="utf-8", newline="\n"
        )
        written.append((path, warning))
    return written
