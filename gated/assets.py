"""Gated files: stored under ASSET_DIR (never static/) by checksum, with size and type, and
kept in step with the white papers that name them in front matter (`asset:`).
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
import tempfile
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from sqlalchemy import select

from core.extensions import db
from gated.models import Asset

_UNSAFE = re.compile(r"[^\w.\-]+", re.UNICODE)


def asset_dir() -> Path:
    folder = Path(current_app.config["ASSET_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def asset_path(asset: Asset) -> Path:
    return asset_dir() / asset.stored_name


def _copy_in(stream: BinaryIO, filename: str) -> tuple[str, int, str]:
    """Copy a file into ASSET_DIR under a name made of its checksum. Returns (stored name,
    size, sha256). Written aside then moved, so a reader never sees half a file."""
    digest = hashlib.sha256()
    size = 0
    fd, tmp = tempfile.mkstemp(dir=asset_dir(), suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in iter(lambda: stream.read(1 << 16), b""):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        suffix = Path(filename).suffix.lower()[:10]
        stored = digest.hexdigest() + (suffix if re.fullmatch(r"\.[a-z0-9]+", suffix or "") else "")
        os.replace(tmp, asset_dir() / stored)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return stored, size, digest.hexdigest()


def safe_filename(filename: str) -> str:
    """A download name without path parts or control characters (Chinese is kept)."""
    name = Path(filename.replace("\\", "/")).name
    name = _UNSAFE.sub("-", name).strip(".-") or "download"
    return name[:200]


def store_asset(
    stream: BinaryIO,
    *,
    filename: str,
    slug: str,
    title: str = "",
    article_id: int | None = None,
    now: datetime,
) -> Asset:
    """Store a file and create or update the asset `slug` with it (one transaction)."""
    stored, size, sha256 = _copy_in(stream, filename)
    asset = db.session.scalar(select(Asset).where(Asset.slug == slug))
    old_file = None
    if asset is None:
        asset = Asset(slug=slug, created_at=now)
        db.session.add(asset)
    elif asset.stored_name != stored:
        old_file = asset.stored_name
    asset.filename = safe_filename(filename)
    asset.stored_name = stored
    asset.content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    asset.size = size
    asset.sha256 = sha256
    asset.title = title or asset.title or asset.filename
    if article_id is not None:
        asset.article_id = article_id
    asset.updated_at = now
    db.session.commit()
    if old_file and not db.session.scalar(select(Asset.id).where(Asset.stored_name == old_file).limit(1)):
        (asset_dir() / old_file).unlink(missing_ok=True)
    return asset


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def resolve_source(source: str) -> Path | None:
    """The file a white paper's `asset_source` names: absolute, or relative to the
    instance folder or UPLOAD_DIR (content import stores an absolute path)."""
    if not source:
        return None
    candidate = Path(source)
    bases = [Path(current_app.instance_path), Path(current_app.config["UPLOAD_DIR"]), Path.cwd()]
    paths = [candidate] if candidate.is_absolute() else [base / candidate for base in bases]
    return next((path for path in paths if path.is_file()), None)


def sync_article_asset(article, *, now: datetime) -> Asset | None:
    """Copy in (or refresh, when its checksum changed) the file a white paper names.
    Returns the asset, or None when the article names no existing file."""
    if article is None or article.kind != "whitepaper":
        return None
    path = resolve_source(article.asset_source)
    if path is None:
        return None
    asset = asset_for_article(article.id) or db.session.scalar(
        select(Asset).where(Asset.slug == article.slug)
    )
    if asset is not None and asset.sha256 == file_sha256(path) and asset_path(asset).exists():
        if asset.article_id != article.id or asset.title != article.title:
            asset.article_id = article.id
            asset.title = article.title
            db.session.commit()
        return asset
    with path.open("rb") as stream:
        return store_asset(
            stream,
            filename=path.name,
            slug=asset.slug if asset else article.slug,
            title=article.title,
            article_id=article.id,
            now=now,
        )


def library_choices() -> list[tuple[str, str]]:
    """(asset id, title and file name) of every stored file: the editor's picker of a
    white paper's gated file."""
    rows = db.session.execute(select(Asset.id, Asset.title, Asset.filename).order_by(Asset.title, Asset.id))
    return [(str(row.id), f"{row.title or row.filename} ({row.filename})") for row in rows]


def library_source(value: str) -> str | None:
    """The stored file of the asset the editor picked, as an article's asset_source."""
    asset = db.session.get(Asset, int(value)) if value.isdecimal() else None
    path = asset_path(asset) if asset is not None else None
    return str(path) if path is not None and path.is_file() else None


def asset_for_article(article_id: int) -> Asset | None:
    return db.session.scalar(select(Asset).where(Asset.article_id == article_id).order_by(Asset.id).limit(1))


def article_asset_path(article) -> Path | None:
    """For content's export: the stored file of a white paper, or None."""
    asset = asset_for_article(article.id)
    if asset is None:
        return None
    path = asset_path(asset)
    return path if path.exists() else None
