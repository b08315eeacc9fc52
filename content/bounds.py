"""What Markdown may ask of the renderer, checked in one linear pass before rendering.

Python-Markdown has shapes that cost far more than their size: its link pattern scans
to the end of the paragraph from every "[" and its inline stash re-reads the paragraph
after every entity (both quadratic in one paragraph), its table of contents numbers
repeated headings one candidate at a time (quadratic in the headings), and nested lists,
block quotes, admonitions and `markdown="1"` blocks recurse once per level (RecursionError
near a thousand). A body past these bounds is refused with a message that names the
bound, so an editor's preview or save, an import and a nurture step answer at once
instead of holding a worker for minutes. Real articles sit far below every bound.
"""

import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

# Sizes and counts that a long real article stays well inside; each is measured in
# docs/SECURITY.md ("Markdown").
MAX_BYTES = 500_000
MAX_DEPTH = 32  # nesting levels of lists, quotes and admonitions (4 columns a level)
MAX_HTML_BLOCKS = 100  # `markdown="1"` blocks, each parsed recursively
MAX_HEADINGS = 1000
MAX_LINKS_PER_PARAGRAPH = 500  # "[" in one paragraph
MAX_LINKS = 5000  # "[" in the whole body
MAX_ENTITIES_PER_PARAGRAPH = 2000  # "&" in one paragraph

TAB_COLUMNS = 4
_NEWLINE = re.compile(r"\r\n|\r|\n")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_PREFIX = re.compile(r"^[ \t>]*")
_HEADING = re.compile(r"^ {0,3}(#{1,6}(\s|$)|=+\s*$)")
_HTML_MARKDOWN = re.compile(r"<[A-Za-z][^>]*\smarkdown\s*=", re.I)


TOO_DEEP = _l(
    "Lists, quotes, notes or HTML blocks are nested too deeply: at most %(limit)s levels are accepted.",
    limit=MAX_DEPTH,
)


class TooComplex(ValueError):
    """A Markdown body past one of the bounds; `message` says which, for the editor."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass
class _Counts:
    links: int = 0
    headings: int = 0
    paragraph_links: int = 0
    paragraph_entities: int = 0


def check(source: str, *, max_bytes: int = MAX_BYTES) -> None:
    """Raise TooComplex when rendering `source` could take unbounded time or recursion.

    Linear in the length of `source` (the size is checked first), so a hostile body is
    refused as fast as a normal one is read."""
    size = len(source.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise TooComplex(
            _l(
                "The text is too long: %(size)s KB, where at most %(limit)s KB is accepted. "
                "Split it into several articles.",
                size=-(-size // 1000),
                limit=max_bytes // 1000,
            )
        )
    if len(_HTML_MARKDOWN.findall(source)) > MAX_HTML_BLOCKS:
        raise TooComplex(
            _l('At most %(limit)s HTML blocks with markdown="1" are accepted.', limit=MAX_HTML_BLOCKS)
        )
    counts = _Counts()
    for line in _parsed_lines(_NEWLINE.split(source)):
        _check_line(line, counts)


def _parsed_lines(lines: list[str]):
    """The lines the renderer parses: all but those of fenced code blocks, which it
    stashes whole. A fence that never closes is no code block, so its lines count."""
    fence, held = None, []
    for line in lines:
        match = _FENCE.match(line)
        if fence is None:
            if match:
                fence, held = match.group(1), [line]
            else:
                yield line
            continue
        held.append(line)
        if match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence):
            fence, held = None, []
    yield from held


def _check_line(line: str, counts: _Counts) -> None:
    prefix = _PREFIX.match(line).group(0)
    depth = len(prefix.replace("\t", " " * TAB_COLUMNS).replace(">", "")) // TAB_COLUMNS + prefix.count(">")
    if depth > MAX_DEPTH:
        raise TooComplex(TOO_DEEP)
    if not line.strip():
        counts.paragraph_links = counts.paragraph_entities = 0
        return
    if _HEADING.match(line) or _HEADING.match(line.lstrip(" \t>")):
        counts.headings += 1
        if counts.headings > MAX_HEADINGS:
            raise TooComplex(_l("At most %(limit)s headings are accepted.", limit=MAX_HEADINGS))
    links = line.count("[")
    counts.links += links
    counts.paragraph_links += links
    counts.paragraph_entities += line.count("&")
    if counts.paragraph_links > MAX_LINKS_PER_PARAGRAPH or counts.links > MAX_LINKS:
        raise TooComplex(
            _l(
                'Too many "[" (links): at most %(paragraph)s in one paragraph and %(total)s in all.',
                paragraph=MAX_LINKS_PER_PARAGRAPH,
                total=MAX_LINKS,
            )
        )
    if counts.paragraph_entities > MAX_ENTITIES_PER_PARAGRAPH:
        raise TooComplex(
            _l(
                'Too many "&" (character references) in one paragraph: at most %(limit)s.',
                limit=MAX_ENTITIES_PER_PARAGRAPH,
            )
        )
