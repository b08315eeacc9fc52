"""Editors' uploads: images and files for articles (public, under UPLOAD_DIR) and the
gated file of a white paper (private, handed to the gated package through
`Article.asset_source`).

A stored name is a random token plus a cleaned file name, so uploads never overwrite each
other and a name in a URL can be checked with one pattern. Only images are served inline;
anything else (an SVG or HTML file included) is served as a download, so an upload can
never run script on our origin.
"""

import mimetypes
import re
import secrets
from pathlib import Path

from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

INLINE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
}
# Types we name as they are for downloads; any other file is application/octet-stream.
DOWNLOAD_TYPES = {".pdf", ".zip", ".docx", ".xlsx", ".pptx", ".csv", ".txt", ".mp4"}
STORED_NAME = re.compile(r"^[0-9a-f]{16}-[A-Za-z0-9_.-]{1,120}$")
CHUNK = 64 * 1024


class UploadError(Exception):
    """The upload cannot be stored; `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.status = status


def stored_name(filename: str) -> str:
    path = Path(filename or "")
    stem = secure_filename(path.stem)[:80] or "file"
    suffix = secure_filename(path.suffix.lower())[:10]
    suffix = suffix if suffix.startswith(".") else ("." + suffix if suffix else "")
    return f"{secrets.token_hex(8)}-{stem}{suffix}"


def save(storage: FileStorage, folder: str | Path, *, max_bytes: int) -> Path:
    """Write an uploaded file into `folder`; raises UploadError (413 when too large).

    The size is counted while copying, so a client that lies about Content-Length is
    stopped too, and a partial file is removed.
    """
    if storage is None or not storage.filename:
        raise UploadError("no file")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / stored_name(storage.filename)
    size = 0
    try:
        with target.open("wb") as out:
            while chunk := storage.stream.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise UploadError("too large", 413)
                out.write(chunk)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    if size == 0:
        target.unlink(missing_ok=True)
        raise UploadError("empty file")
    return target


def is_stored_name(name: str) -> bool:
    return bool(STORED_NAME.match(name))


def is_inline(name: str) -> bool:
    return Path(name).suffix.lower() in INLINE_TYPES


def content_type(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix in INLINE_TYPES:
        return INLINE_TYPES[suffix]
    if suffix in DOWNLOAD_TYPES:
        return mimetypes.guess_type(name)[0] or "application/octet-stream"
    return "application/octet-stream"
