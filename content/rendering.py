"""Markdown to safe HTML, once, on save.

The pipeline is Python-Markdown (tables, fenced code highlighted by Pygments into CSS
classes, a table of contents with anchors that keep Chinese characters, admonitions,
attribute lists), then nh3 against an allow-list. Editors may write safe HTML; scripts,
event handlers, style attributes and `javascript:` URLs never survive, and iframes keep
their `src` only when it is an https URL on a host in the CSP_FRAME_HOSTS setting (the
same list the Content-Security-Policy allows), otherwise the iframe goes.

Everything a page needs is computed here and stored on the article: the HTML, the TOC,
the headings, the plain text (for search and descriptions), the questions and answers of
a Q&A page (for FAQPage JSON-LD) and the reading time.
"""

import math
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

import markdown
import nh3
from markdown.extensions.toc import slugify_unicode
from pygments.formatters import HtmlFormatter

from content import bounds

# Reading speeds: Chinese is read by the character, English by the word.
CJK_CHARS_PER_MINUTE = 400
WORDS_PER_MINUTE = 200

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]")
_WORD = re.compile(r"[A-Za-z0-9]+(?:['’.-][A-Za-z0-9]+)*")
_EMPTY_IFRAME = re.compile(r"<iframe(?![^>]*\ssrc=)[^>]*>.*?</iframe>", re.S)
_QUESTION_END = ("?", "？")

ALLOWED_TAGS = (nh3.ALLOWED_TAGS - {"area", "map"}) | {"iframe", "figure", "figcaption"}
ALLOWED_ATTRIBUTES = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    "*": {"id", "class", "lang", "dir", "title"},
    "a": {"href", "hreflang", "title"},
    "img": {"src", "alt", "width", "height", "loading"},
    "iframe": {"src", "width", "height", "title", "allowfullscreen", "loading"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
}
URL_SCHEMES = {"http", "https", "mailto", "tel"}


@dataclass
class Rendered:
    html: str
    toc_html: str
    text: str
    reading_minutes: int
    headings: list[dict] = field(default_factory=list)
    faq: list[dict] = field(default_factory=list)


def slugify_heading(value: str, separator: str) -> str:
    """Heading anchors that keep Chinese (and any other letters): "如何开始？" -> "如何开始"."""
    return slugify_unicode(value, separator) or "section"


def _markdown() -> markdown.Markdown:
    return markdown.Markdown(
        extensions=[
            "tables",
            "fenced_code",
            "codehilite",
            "toc",
            "admonition",
            "attr_list",
            "sane_lists",
            "md_in_html",
        ],
        extension_configs={
            # `---:` columns as align="right" (a style attribute would not survive nh3).
            "tables": {"use_align_attribute": True},
            "codehilite": {"css_class": "highlight", "guess_lang": False, "use_pygments": True},
            "toc": {"slugify": slugify_heading, "toc_depth": "2-3", "permalink": False},
        },
        output_format="html",
    )


def sanitise(
    html: str, frame_hosts: list[str] | tuple[str, ...] = (), *, link_rel: str | None = "noopener noreferrer"
) -> str:
    """Clean HTML against the allow-list; iframes survive only from `frame_hosts`."""
    hosts = {host.lower() for host in frame_hosts}

    def keep(tag: str, attribute: str, value: str) -> str | None:
        if tag == "iframe" and attribute == "src":
            parts = urlsplit(value.strip())
            return value if parts.scheme == "https" and (parts.hostname or "") in hosts else None
        return value

    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        attribute_filter=keep,
        link_rel=link_rel,
        strip_comments=True,
    )
    return _EMPTY_IFRAME.sub("", cleaned)


def render_markdown(
    source: str, *, frame_hosts: list[str] | tuple[str, ...] = (), max_bytes: int = bounds.MAX_BYTES
) -> Rendered:
    """Render and sanitise an article body; compute everything derived from it.

    Raises bounds.TooComplex, before any rendering, for a body past the bounds (a size
    of `max_bytes`, nesting, links, entities, headings), and for any body whose
    structure still recurses too deep for the renderer."""
    source = source or ""
    bounds.check(source, max_bytes=max_bytes)
    md = _markdown()
    try:
        converted = md.convert(source)
    except RecursionError:
        raise bounds.TooComplex(bounds.TOO_DEEP) from None
    html = sanitise(converted, frame_hosts)
    toc_html = sanitise(md.toc, (), link_rel=None) if md.toc_tokens else ""
    sections = _Sections.parse(html)
    text = "\n".join(part for heading, body in sections.items for part in (heading, body) if part).strip()
    faq = [
        {"question": heading, "answer": body}
        for heading, body in sections.items
        if heading.endswith(_QUESTION_END) and body
    ]
    return Rendered(
        html=html,
        toc_html=toc_html,
        text=text,
        reading_minutes=reading_minutes(text),
        headings=_flatten(md.toc_tokens),
        faq=faq,
    )


def reading_minutes(text: str) -> int:
    """At least one minute: Chinese characters at 400 a minute plus words at 200."""
    cjk = len(_CJK.findall(text))
    words = len(_WORD.findall(_CJK.sub(" ", text)))
    return max(1, math.ceil(cjk / CJK_CHARS_PER_MINUTE + words / WORDS_PER_MINUTE))


def pygments_css() -> str:
    """The stylesheet for highlighted code (shipped in static/css/content.css)."""
    return HtmlFormatter(style="monokai").get_style_defs(".highlight")


def _flatten(tokens: list[dict]) -> list[dict]:
    flat = []
    for token in tokens:
        flat.append({"level": token["level"], "id": token["id"], "title": token["name"]})
        flat.extend(_flatten(token.get("children", [])))
    return flat


class _Sections(HTMLParser):
    """Split sanitised HTML into (heading, text under it) pairs of plain text."""

    BLOCKS = {"p", "li", "pre", "tr", "blockquote", "div", "dt", "dd", "br", "table", "figcaption"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.items: list[tuple[str, str]] = []
        self._heading: list[str] | None = None
        self._current_heading = ""
        self._body: list[str] = []

    @classmethod
    def parse(cls, html: str) -> "_Sections":
        parser = cls()
        parser.feed(html)
        parser.close()
        parser._flush()
        return parser

    def _flush(self):
        body = re.sub(r"[ \t]*\n\s*", "\n", "".join(self._body)).strip()
        body = re.sub(r"[ \t]+", " ", body)
        if self._current_heading or body:
            self.items.append((self._current_heading, body))
        self._body = []

    def handle_starttag(self, tag, attrs):
        if re.fullmatch(r"h[1-6]", tag):
            self._flush()
            self._heading = []
        elif tag in self.BLOCKS:
            self._body.append("\n")

    def handle_endtag(self, tag):
        if re.fullmatch(r"h[1-6]", tag) and self._heading is not None:
            self._current_heading = re.sub(r"\s+", " ", "".join(self._heading)).strip()
            self._heading = None
        elif tag in self.BLOCKS:
            self._body.append("\n")

    def handle_data(self, data):
        (self._heading if self._heading is not None else self._body).append(data)
