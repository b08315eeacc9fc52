"""Videos: the player link of a public platform, chapters, and the uploaded file.

A video article shows either a file an editor uploaded (mp4 or WebM, checked by its first
bytes, not only by its name) or the official player of Bilibili, YouTube or Tencent Video,
given by the video's page URL and turned here into the platform's embed URL. Only those
three players' hosts may be framed, and only on video pages (core.security.allow_frames).

Chapters are typed one per line, "02:15 安装" (or "1:02:15 …"); on the page each one seeks
the player: the HTML5 video's currentTime for a file, the platform's start-time parameter
for an embed.
"""

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

from flask import abort, request, send_file
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestedRangeNotSatisfiable

from content import uploads
from content.documents import normalise_body

# The players' hosts (the CSP's frame-src on video pages, nothing else).
EMBED_HOSTS = ("player.bilibili.com", "www.youtube-nocookie.com", "v.qq.com")
PLATFORM_NAMES = {"bilibili": _l("Bilibili"), "youtube": "YouTube", "tencent": _l("Tencent Video")}
FILE_TYPES = {".mp4": "video/mp4", ".webm": "video/webm"}
# Front matter only a video may carry.
FRONT_MATTER = ("video", "video_file", "chapters", "free_minutes", "transcript")
CHAPTERS_MAX, CHAPTER_TITLE_MAX = 100, 120
FREE_MINUTES_MAX = 600
# How much of a file's start is read to tell its type (an EBML header with long sizes
# names its DocType past the first 64 bytes).
SNIFF_BYTES = 1024

_YOUTUBE_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
_BILIBILI_ID = re.compile(r"^(BV[0-9A-Za-z]{10}|av[0-9]{1,12})$")
_TENCENT_ID = re.compile(r"^[0-9a-z]{11}$")
_CHAPTER = re.compile(r"^(?:(\d{1,2}):)?(\d{1,2}):(\d{2})\s+(\S.*)$")
_YOUTUBE_HOSTS = {"youtube.com", "www.youtube.com", "m.youtube.com", "youtu.be", "www.youtube-nocookie.com"}
_BILIBILI_HOSTS = {"bilibili.com", "www.bilibili.com", "m.bilibili.com", "player.bilibili.com"}
_TENCENT_HOSTS = {"v.qq.com", "m.v.qq.com"}


class VideoError(ValueError):
    """A player link, a chapter list or a file that cannot be used; the message says why."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class Embed:
    platform: str
    video_id: str
    page: int = 1

    @property
    def page_url(self) -> str:
        """The video's own page, in one form whatever address was pasted (what is stored)."""
        if self.platform == "youtube":
            return f"https://www.youtube.com/watch?v={self.video_id}"
        if self.platform == "bilibili":
            return f"https://www.bilibili.com/video/{self.video_id}" + (
                f"?p={self.page}" if self.page > 1 else ""
            )
        return f"https://v.qq.com/x/page/{self.video_id}.html"

    @property
    def embed_url(self) -> str:
        """The platform's official player, as its share-and-embed button gives it."""
        if self.platform == "youtube":
            return f"https://www.youtube-nocookie.com/embed/{self.video_id}"
        if self.platform == "bilibili":
            key = "bvid" if self.video_id.startswith("BV") else "aid"
            number = self.video_id if key == "bvid" else self.video_id[2:]
            return f"https://player.bilibili.com/player.html?{urlencode({key: number, 'page': self.page})}"
        return f"https://v.qq.com/txp/iframe/player.html?{urlencode({'vid': self.video_id})}"

    def seek_url(self, seconds: int) -> str:
        """The player started at `seconds`, by each platform's own parameter."""
        parameter = {"youtube": "start", "bilibili": "t", "tencent": "starttime"}[self.platform]
        joiner = "&" if "?" in self.embed_url else "?"
        return f"{self.embed_url}{joiner}{parameter}={int(seconds)}&autoplay=1"


def parse_video_url(url: str) -> Embed:
    """The embed behind a video's page URL (or the player URL itself) on Bilibili,
    YouTube or Tencent Video. Raises VideoError for any other host or a link that names
    no video."""
    parts = urlsplit((url or "").strip())
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        raise VideoError(_l("Paste the video's full address, starting with https://."))
    query = parse_qs(parts.query)
    segments = [segment for segment in parts.path.split("/") if segment]
    found = None
    if host in _YOUTUBE_HOSTS:
        if host == "youtu.be":
            found = segments[0] if segments else None
        elif segments[:1] == ["watch"]:
            found = (query.get("v") or [None])[0]
        elif len(segments) >= 2 and segments[0] in ("embed", "shorts", "live"):
            found = segments[1]
        if found and _YOUTUBE_ID.match(found):
            return Embed("youtube", found)
    elif host in _BILIBILI_HOSTS:
        if segments[:1] == ["video"] and len(segments) >= 2:
            found = segments[1]
        elif host == "player.bilibili.com":
            found = (query.get("bvid") or [None])[0] or ("av" + query["aid"][0] if query.get("aid") else None)
        page = (query.get("p") or query.get("page") or ["1"])[0]
        if found and _BILIBILI_ID.match(found):
            return Embed("bilibili", found, int(page) if page.isdigit() and 0 < int(page) < 1000 else 1)
    elif host in _TENCENT_HOSTS:
        if segments and segments[-1].endswith(".html") and segments[0] in ("x", "cover"):
            found = segments[-1].removesuffix(".html")
        elif segments[:2] == ["txp", "iframe"]:
            found = (query.get("vid") or [None])[0]
        if found and _TENCENT_ID.match(found):
            return Embed("tencent", found)
    else:
        raise VideoError(
            _l(
                "Videos can be shown from Bilibili, YouTube or Tencent Video only (the address is on %(host)s).",
                host=host,
            )
        )
    raise VideoError(_l("This address names no video: copy it from the video's own page."))


def clock(seconds: int) -> str:
    """02:15, or 1:02:15 past an hour."""
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def parse_chapters(value) -> tuple[list[dict], list[str]]:
    """Chapters from lines "02:15 标题" (text, or a list of such lines from front matter):
    ([{"t": seconds, "title"}], problems). Times must go up, line after line."""
    lines = value if isinstance(value, list) else str(value or "").splitlines()
    chapters, problems = [], []
    for number, line in enumerate(lines, start=1):
        line = str(line).strip()
        if not line:
            continue
        match = _CHAPTER.match(line)
        if match is None or int(match.group(3)) > 59 or (match.group(1) and int(match.group(2)) > 59):
            problems.append(
                str(_l("Line %(n)d: write a time and a title, like 02:15 安装 (minutes:seconds).", n=number))
            )
            continue
        hours, minutes, secs, title = match.groups()
        seconds = int(hours or 0) * 3600 + int(minutes) * 60 + int(secs)
        if len(title) > CHAPTER_TITLE_MAX:
            problems.append(
                str(_l("Line %(n)d: a title of at most %(max)d characters.", n=number, max=CHAPTER_TITLE_MAX))
            )
        elif chapters and seconds <= chapters[-1]["t"]:
            problems.append(str(_l("Line %(n)d: each chapter starts after the one before it.", n=number)))
        else:
            chapters.append({"t": seconds, "title": title.strip()})
    if len(chapters) > CHAPTERS_MAX:
        problems.append(str(_l("At most %(max)d chapters.", max=CHAPTERS_MAX)))
    return chapters, problems


def chapter_lines(chapters) -> list[str]:
    """The chapters as typed (front matter and the editor's field)."""
    return [f"{clock(chapter['t'])} {chapter['title']}" for chapter in chapters or []]


def video_fields(raw: dict, kind: str, fields: dict, problem) -> None:
    """Front matter's (or the editor's) video fields into `fields`, each problem told to
    `problem(key, message)` (content.documents.validate_fields)."""
    for key in FRONT_MATTER:
        if raw.get(key) not in (None, "", []) and kind != "video":
            problem(key, _l("%(key)s is only for videos (kind: video)", key=key))
    url = str(raw.get("video") or "").strip()
    fields["video_url"] = ""
    if url and kind == "video":
        try:
            fields["video_url"] = parse_video_url(url).page_url
        except VideoError as exc:
            problem("video", exc.message)
    name = str(raw.get("video_file") or "").strip()
    fields["video_file"] = name if kind == "video" and is_video_name(name) else ""
    if name and kind == "video" and not fields["video_file"]:
        problem("video_file", _l("video_file must be the name of an uploaded MP4 or WebM file"))
    chapters, chapter_problems = parse_chapters(raw.get("chapters") if kind == "video" else None)
    fields["chapters"] = chapters
    if chapter_problems:
        problem("chapters", " ".join(chapter_problems))
    transcript = raw.get("transcript")
    fields["transcript_md"] = normalise_body(str(transcript)) if transcript and kind == "video" else ""
    minutes = raw.get("free_minutes")
    fields["free_minutes"] = None
    if minutes not in (None, "") and kind == "video":
        text = str(minutes).strip()
        if not text.isdigit() or not 1 <= int(text) <= FREE_MINUTES_MAX:
            problem(
                "free_minutes",
                _l(
                    "A whole number of minutes from 1 to %(max)d, or empty for no gate.",
                    max=FREE_MINUTES_MAX,
                ),
            )
        else:
            fields["free_minutes"] = int(text)
    for key, message in conflicts(fields):
        problem(key, message)


def conflicts(fields: dict) -> list[tuple[str, str]]:
    """(field, message) for a video's parts that do not go together; checked again when
    the editor has added the stored file to the form's fields."""
    conflicts = []
    if fields.get("video_url") and fields.get("video_file"):
        conflicts.append(("video", _l("Choose an uploaded file or a player link, not both.")))
    if fields.get("free_minutes") and not fields.get("video_file"):
        conflicts.append(
            (
                "free_minutes",
                _l(
                    "Only an uploaded file can be gated: a platform's player cannot be stopped after the free minutes."
                ),
            )
        )
    return conflicts


def sniffed_type(head: bytes) -> str | None:
    """ ".mp4" or ".webm" by the file's first bytes (an ISO BMFF `ftyp` box; an EBML header
    whose DocType is webm), else None."""
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return ".mp4"
    if head[:4] == b"\x1a\x45\xdf\xa3" and b"\x42\x82" in head and b"webm" in head[:SNIFF_BYTES]:
        return ".webm"
    return None


def save_video(storage: FileStorage, folder: str | Path, *, max_bytes: int) -> Path:
    """Store an uploaded video as uploads are stored; refuses (VideoError, nothing kept) a
    name that is not .mp4/.webm, content that is not what the name says, and a file past
    `max_bytes`."""
    suffix = Path(storage.filename or "").suffix.lower()
    if suffix not in FILE_TYPES:
        raise VideoError(_l("Upload an MP4 or WebM video file."))
    try:
        stored = uploads.save(storage, folder, max_bytes=max_bytes)
    except uploads.UploadError as exc:
        if exc.status == 413:
            raise VideoError(
                _l(
                    "The video is larger than %(mb)d MB: shorten it or upload it to a video platform.",
                    mb=max_bytes // (1024 * 1024),
                )
            ) from None
        raise VideoError(_l("The file is empty.")) from None
    with stored.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if sniffed_type(head) != suffix:
        stored.unlink(missing_ok=True)
        raise VideoError(_l("This file is not an MP4 or WebM video, whatever its name says."))
    return stored


def is_video_name(name: str) -> bool:
    return uploads.is_stored_name(name) and Path(name).suffix.lower() in FILE_TYPES


def player(article) -> dict | None:
    """What the page needs to show a video article's player and chapters (None: neither a
    file nor a link yet). For a file, `src` is left to the view (public or signed)."""
    chapters = [{**chapter, "clock": clock(chapter["t"])} for chapter in article.chapters or []]
    if article.video_url:
        embed = parse_video_url(article.video_url)
        for chapter in chapters:
            chapter["href"] = embed.seek_url(chapter["t"])
        return {
            "embed": embed.embed_url,
            "platform": PLATFORM_NAMES[embed.platform],
            "chapters": chapters,
            "free_seconds": 0,
        }
    if article.video_file:
        return {
            "file": article.video_file,
            "type": FILE_TYPES[Path(article.video_file).suffix.lower()],
            "chapters": chapters,
            "free_seconds": (article.free_minutes or 0) * 60,
        }
    return None


def send_video(folder: str | Path, name: str, *, private: bool):
    """A stored video as a conditional response: Accept-Ranges, 206 with Content-Range
    for a satisfiable range, 416 for one past the end, ETag and 304 (Werkzeug's
    send_file). `private`: a lead's signed copy, kept by that browser only."""
    path = Path(folder) / name
    if not path.is_file():
        abort(404)
    size = path.stat().st_size
    if "If-Range" not in request.headers and request.range and request.range.range_for_length(size) is None:
        # Refused before the file is opened (send_file would raise with it open).
        raise RequestedRangeNotSatisfiable(length=size)
    response = send_file(path, mimetype=FILE_TYPES[path.suffix.lower()], conditional=True, etag=True)
    response.headers["Cache-Control"] = (
        "private, max-age=3600" if private else "public, max-age=31536000, immutable"
    )
    response.headers["X-Robots-Tag"] = "noindex"
    return response
