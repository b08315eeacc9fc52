"""Front matter: parsing a Markdown file and validating the fields of an article.

One validator serves the importer (`flask content import`) and the editor's form, so both
accept and refuse the same things with the same words. A problem names the line of the
file where there is one; the importer adds the file name.

The format (docs/CONTENT.md, "Markdown files and git") is a YAML block between two `---`
lines, then the Markdown body. `to_markdown` writes it back in one canonical form, so that
export, import and export again give the same bytes.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from flask_babel import lazy_gettext as _l
from pypinyin import lazy_pinyin

from content.models import KINDS, LOCALES, STATUSES

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_MAX = 120
_KEY_LINE = re.compile(r"^([A-Za-z_][\w-]*)\s*:")
FENCE = "---"

# Front-matter key -> Article attribute. The order is the order of export.
FIELD_NAMES = {
    "title": "title",
    "slug": "slug",
    "kind": "kind",
    "locale": "locale",
    "translation_key": "translation_key",
    "category": "category",
    "tags": "tags",
    "summary": "summary",
    "status": "status",
    "featured": "featured",
    "published_at": "published_at",
    "review_by": "review_by",
    "seo_title": "seo_title",
    "seo_description": "seo_description",
    "asset": "asset_source",
    "sequence": "sequence_slug",
    "related": "related",
    "video": "video_url",
    "video_file": "video_file",
    "chapters": "chapters",
    "free_minutes": "free_minutes",
    "transcript": "transcript_md",
}
# Front matter that is not an Article attribute: the slugs an article had before, whose
# URLs redirect to it (content.slugs), written after the attributes on export.
HISTORY_KEY = "old_slugs"
FRONT_MATTER_KEYS = (*FIELD_NAMES, HISTORY_KEY)
DATE_FIELDS = ("published_at", "review_by")
# Typed tags split on commas, the Chinese enumeration comma, semicolons and spaces.
TAG_SEPARATORS = re.compile(r"[,，、;；\s]+")
# At most this many related articles an editor picks (the page shows them first).
RELATED_MAX = 6
LIMITS = {
    "title": 300,
    "category": 120,
    "translation_key": 120,
    "seo_title": 300,
    "seo_description": 500,
    "sequence": 120,
    "video": 500,
}


class _FrontMatterLoader(yaml.SafeLoader):
    """YAML without implicit timestamps: dates stay text and are checked by to_utc, so a
    date like 2026-02-30 is reported at its line instead of failing the whole parse."""


_FrontMatterLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass
class Problem:
    message: str
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else str(self.message)


class DocumentError(ValueError):
    """A file or form that cannot become an article; `problems` says every reason."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(str(problem) for problem in problems))
        self.problems = problems


@dataclass
class Document:
    """Validated article fields (Article attribute names) and the body."""

    fields: dict
    body_md: str
    key_lines: dict[str, int] = field(default_factory=dict)


def slugify(text: str) -> str:
    """A readable ASCII slug, Chinese as pinyin words joined per word
    ("线索评分起步指南" -> "xiansuo-pingfen-qibu-zhinan"), not one syllable per word."""
    from content.slugs import words

    parts = ("".join(lazy_pinyin(word, errors="default")) for word in words(text or ""))
    slug = re.sub(r"[^a-z0-9]+", "-", "-".join(parts).lower()).strip("-")
    return slug[:SLUG_MAX].rstrip("-")


def normalise_body(body: str) -> str:
    """Unix newlines, no blank lines around: the same body whatever the editor sent."""
    return (body or "").replace("\r\n", "\n").replace("\r", "\n").strip("\n")


def parse_markdown_file(data: bytes, *, path: Path, default_locale: str, timezone: str) -> Document:
    """Parse and validate one Markdown file. Raises DocumentError naming the lines."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DocumentError([Problem(_l("the file is not UTF-8 text (save it as UTF-8)"), line)]) from None
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    lines = text.split("\n")
    if not lines or lines[0].strip() != FENCE:
        raise DocumentError(
            [Problem(_l("the file must start with front matter: a line '---', the fields, '---'"), 1)]
        )
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == FENCE)
    except StopIteration:
        raise DocumentError([Problem(_l("the front matter is not closed by a line '---'"), 1)]) from None
    front = "\n".join(lines[1:end])
    try:
        raw = yaml.load(front, Loader=_FrontMatterLoader) if front.strip() else {}
    except (yaml.YAMLError, ValueError, TypeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        reason = getattr(exc, "problem", None) or str(exc)
        raise DocumentError(
            [Problem(_l("the front matter is not valid YAML (%(reason)s)", reason=reason), line)]
        ) from None
    if not isinstance(raw, dict):
        raise DocumentError([Problem(_l("the front matter must be a list of 'name: value' lines"), 2)])
    key_lines = {}
    for offset, line in enumerate(lines[1:end], start=2):
        match = _KEY_LINE.match(line)
        if match:
            key_lines.setdefault(match.group(1), offset)
    raw = {str(key): value for key, value in raw.items()}
    raw.setdefault("slug", path.stem)
    body = normalise_body("\n".join(lines[end + 1 :]))
    fields, problems = validate_fields(
        raw,
        default_locale=default_locale,
        timezone=timezone,
        base_dir=path.parent,
        key_lines=key_lines,
        header_line=1,
    )
    if problems:
        raise DocumentError(problems)
    return Document(fields=fields, body_md=body, key_lines=key_lines)


def article_defaults() -> dict:
    """Every optional article attribute at the value the importer gives a file that leaves
    it out, for code that makes articles without a file or a form (evaluations, tests)."""
    fields, _ = validate_fields({"title": "-"}, default_locale="zh-CN", timezone="UTC")
    del fields["title"]
    return fields


def validate_fields(
    raw: dict,
    *,
    default_locale: str,
    timezone: str,
    base_dir: Path | None = None,
    key_lines: dict[str, int] | None = None,
    header_line: int | None = None,
) -> tuple[dict, list[Problem]]:
    """Check front-matter values; return (Article attributes, problems).

    Shared by the importer (values from YAML) and the editor (strings from a form):
    tags may be a list or comma-separated text, dates ISO text, a date or a datetime.
    `base_dir` resolves a relative `asset:` path (the importer); without it the asset
    is taken as already absolute or left empty (the editor).
    """
    key_lines = key_lines or {}
    problems: list[Problem] = []

    def problem(key, message):
        problems.append(Problem(message, key_lines.get(key, header_line), key))

    fields: dict = {}
    for key in raw:
        if key not in FRONT_MATTER_KEYS:
            problem(
                key,
                _l("unknown field '%(key)s' (known: %(known)s)", key=key, known=", ".join(FRONT_MATTER_KEYS)),
            )

    def text(key, default=""):
        value = raw.get(key)
        if value is None:
            return default
        if isinstance(value, dict | list):
            problem(key, _l("%(key)s must be text", key=key))
            return default
        value = str(value).strip()
        limit = LIMITS.get(key)
        if limit and len(value) > limit:
            problem(key, _l("%(key)s is longer than %(limit)s characters", key=key, limit=limit))
        return value

    fields["title"] = text("title")
    if not fields["title"]:
        problem("title", _l("title is required"))

    def choice(key, default, allowed):
        value = text(key, default)
        if key == "locale":
            value = value.replace("_", "-")
        if value not in allowed:
            message = _l(
                "unknown %(key)s '%(value)s' (use one of %(allowed)s)",
                key=key,
                value=value,
                allowed=", ".join(allowed),
            )
            problem(key, message)
        fields[key] = value
        return value

    kind = choice("kind", "help", KINDS)
    choice("status", "draft", STATUSES)
    choice("locale", default_locale, LOCALES)

    slug = text("slug")
    if slug and not SLUG_RE.match(slug):
        converted = slugify(slug)
        if "slug" in key_lines or not converted:
            problem(
                "slug",
                _l("slug '%(value)s' may contain only a-z, 0-9 and single hyphens", value=slug),
            )
        slug = converted
    if len(slug) > SLUG_MAX:
        problem("slug", _l("slug is longer than %(limit)s characters", limit=SLUG_MAX))
    fields["slug"] = slug

    for key in ("category", "summary", "seo_title", "seo_description", "translation_key", "sequence"):
        fields[FIELD_NAMES[key]] = text(key)

    tags = raw.get("tags") or []
    if isinstance(tags, str):
        tags = TAG_SEPARATORS.split(tags)
    if not isinstance(tags, list) or any(isinstance(tag, dict | list) for tag in tags):
        problem("tags", _l("tags must be a list, e.g. [renewal, onboarding]"))
        tags = []
    fields["tags"] = [str(tag).strip() for tag in tags if str(tag).strip()]

    related = raw.get("related") or []
    if isinstance(related, str):
        related = TAG_SEPARATORS.split(related)
    if not isinstance(related, list) or not all(
        isinstance(item, str) and (SLUG_RE.match(item.strip()) or not item.strip()) for item in related
    ):
        problem("related", _l("related must be a list of article slugs, e.g. [renewal-guide, sso-setup]"))
        related = []
    related = list(dict.fromkeys(item.strip() for item in related if item.strip()))
    if len(related) > RELATED_MAX:
        problem("related", _l("choose at most %(n)d related articles", n=RELATED_MAX))
    fields["related"] = related[:RELATED_MAX]

    featured = raw.get("featured", False)
    if isinstance(featured, str):
        featured = featured.strip().lower() in ("1", "true", "yes", "on", "y")
    if not isinstance(featured, bool):
        problem("featured", _l("featured must be true or false"))
        featured = False
    fields["featured"] = featured

    for key in DATE_FIELDS:
        try:
            fields[key] = to_utc(raw.get(key), timezone)
        except (ValueError, OverflowError):  # OverflowError: a date near year 1 in UTC
            problem(key, _l("%(key)s must be a date like 2026-11-01 or 2026-11-01 09:30", key=key))
            fields[key] = None

    asset = text("asset")
    fields["asset_source"] = ""
    if asset:
        if kind != "whitepaper":
            problem("asset", _l("asset is only for white papers (kind: whitepaper)"))
        asset_path = Path(asset)
        if base_dir is not None and not asset_path.is_absolute():
            asset_path = base_dir / asset_path
        if not asset_path.is_file():
            problem("asset", _l("asset file not found: %(path)s", path=str(asset_path)))
        else:
            fields["asset_source"] = str(asset_path.resolve())
    if HISTORY_KEY in raw:
        old = raw[HISTORY_KEY] or []
        if not isinstance(old, list) or not all(
            isinstance(item, str) and SLUG_RE.match(item) for item in old
        ):
            problem(HISTORY_KEY, _l("old_slugs must be a list of slugs, e.g. [old-name, older-name]"))
            old = []
        fields[HISTORY_KEY] = list(old)
    if fields["sequence_slug"] and kind != "whitepaper":
        problem("sequence", _l("sequence is only for white papers (kind: whitepaper)"))
    from content.video import video_fields

    video_fields(raw, kind, fields, problem)
    return fields, problems


def to_utc(value, timezone: str) -> datetime | None:
    """A front-matter or form date as naive UTC. Dates and naive times are in the site's
    time zone (an editor in Shanghai means Shanghai midnight)."""
    if value is None or value == "":
        return None
    zone = ZoneInfo(timezone)
    if isinstance(value, str):
        value = datetime.fromisoformat(value.strip().replace("/", "-"))
    elif isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time())
    elif not isinstance(value, datetime):
        raise ValueError(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC).replace(tzinfo=None)


def from_utc(value: datetime | None, timezone: str):
    """The inverse of to_utc for export: a date when it is local midnight, else an aware datetime."""
    if value is None:
        return None
    local = value.replace(tzinfo=UTC).astimezone(ZoneInfo(timezone))
    if local.time() == time():
        return local.date()
    return local.replace(microsecond=0)


def front_matter(values: dict, timezone: str) -> dict:
    """Article attributes -> front-matter keys and YAML-friendly values."""
    front = {}
    for key, name in FIELD_NAMES.items():
        value = values.get(name)
        if name in DATE_FIELDS:
            value = from_utc(value, timezone)
        if name == "chapters":
            from content.video import chapter_lines

            value = chapter_lines(value)
        front[key] = value
    if values.get(HISTORY_KEY):
        front[HISTORY_KEY] = list(values[HISTORY_KEY])
    return front


def to_markdown(front: dict, body_md: str) -> str:
    """The canonical file: front matter in FRONT_MATTER_KEYS order, empty values left out."""
    ordered = {
        key: front[key]
        for key in FRONT_MATTER_KEYS
        if key in front and front[key] not in (None, "", [], False)
    }
    yaml_text = "".join(_yaml_line(key, value) for key, value in ordered.items())
    body = normalise_body(body_md)
    return f"{FENCE}\n{yaml_text}{FENCE}\n\n{body}\n" if body else f"{FENCE}\n{yaml_text}{FENCE}\n"


class _FrontMatterDumper(yaml.SafeDumper):
    """Text of several lines (a video's transcript) as a literal block, read in git as
    written; YAML quotes it instead where a block cannot keep it exactly."""


_FrontMatterDumper.add_representer(
    str,
    lambda dumper, value: dumper.represent_scalar(
        "tag:yaml.org,2002:str", value, style="|" if "\n" in value else None
    ),
)


def _yaml_line(key: str, value) -> str:
    """One `key: value` line; lists in the short flow form (`tags: [a, b]`)."""
    options = {"allow_unicode": True, "width": 10_000, "Dumper": _FrontMatterDumper}
    if isinstance(value, list):
        return f"{key}: {yaml.dump(value, default_flow_style=True, **options).strip()}\n"
    return yaml.dump({key: value}, default_flow_style=False, **options)
