"""What Markdown may ask of the renderer, checked in one linear pass before rendering.

Python-Markdown has shapes that cost far more than their size: its link pattern scans
to the end of the paragraph from every unclosed "[" or "(", and every inline match
(emphasis, code, an entity, a tag) rewrites the whole paragraph (both quadratic in one
paragraph), its table of contents numbers
repeated headings one candidate at a time (quadratic in the headings), and nested lists,
block quotes, admonitions and `markdown="1"` blocks recurse once per level (RecursionError
near a thousand). A body past these bounds is refused with a message that names the
bound, so an editor's preview or save, an import and a nurture step answer at once
instead of holding a worker for minutes. Real articles sit far below every bound.
"""

import re
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

# Sizes and counts that a long real article stays well inside; each is measured in
# docs/SECURITY.md ("Markdown").
MAX_BYTES = 500_000
MAX_DEPTH = 32  # nesting levels of lists, quotes and admonitions (4 columns a level)
MAX_HTML_BLOCKS = 100  # `markdown="1"` blocks, each parsed recursively
MAX_HEADINGS = 1000
# Inline markup: each mark where an inline pattern may start (* _ ` \ [ ! < & and a
# line break's two spaces) costs the renderer a rewrite of its whole paragraph, and each
# "[" or "(" a scan to its closing bracket. The work is marks x paragraph length plus
# the weighted scans. At either bound a body renders in about a second (measured in
# docs/SECURITY.md).
MAX_MARKS = 10_000
MAX_INLINE_WORK = 300_000_000
BRACKET_WEIGHT = 1000  # a character of the link scan, against one of a rewrite
PARENTHESIS_WEIGHT = 300

TAB_COLUMNS = 4
_NEWLINE = re.compile(r"\r\n|\r|\n")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_PREFIX = re.compile(r"^[ \t>]*")
_HEADING = re.compile(r"^ {0,3}(#{1,6}(\s|$)|=+\s*$)")
# Every pattern here is linear: no repeat that could run to the end of the body from
# each starting point (the check must never be the slow part).
_HTML_MARKDOWN = re.compile(r"\smarkdown\s*=\s*[\"']?(?:1|block|span)\b", re.I)
_MARK = re.compile(r"[*_`\\\[!<&]|  $", re.M)


TOO_MUCH_MARKUP = _l(
    "The text has too much inline markup (* _ ` [ ( & <) for its length, or in one long "
    "paragraph. Split long paragraphs, and put code in a fenced block (```)."
)
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
    headings: int = 0
    marks: int = 0
    work: int = 0
    paragraph: list[str] = field(default_factory=list)


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
    _end_paragraph(counts)


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
    if not line.strip() or line.lstrip(" \t>").startswith("|"):
        # A blank line ends a paragraph; a table row's cells are rendered on their own.
        _end_paragraph(counts)
        if not line.strip():
            return
    if _HEADING.match(line) or _HEADING.match(line.lstrip(" \t>")):
        counts.headings += 1
        if counts.headings > MAX_HEADINGS:
            raise TooComplex(_l("At most %(limit)s headings are accepted.", limit=MAX_HEADINGS))
    counts.paragraph.append(line)


def _end_paragraph(counts: _Counts) -> None:
    """Add the inline work of the paragraph just read to the body's, and check both."""
    paragraph = "\n".join(counts.paragraph)
    counts.paragraph = []
    if not paragraph:
        return
    marks = len(_MARK.findall(paragraph))
    counts.marks += marks
    counts.work += (
        marks * len(paragraph)
        + BRACKET_WEIGHT * _scan_length(paragraph, "[", "]")
        + PARENTHESIS_WEIGHT * _scan_length(paragraph, "(", ")")
    )
    if counts.marks > MAX_MARKS or counts.work > MAX_INLINE_WORK:
        raise TooComplex(TOO_MUCH_MARKUP)


def _scan_length(paragraph: str, opening: str, closing: str) -> int:
    """How far the renderer reads from each `opening` to its `closing` (to the end of
    the paragraph when there is none): the link pattern's scan, in characters."""
    open_at, length = [], 0
    for match in re.finditer(re.escape(opening) + "|" + re.escape(closing), paragraph):
        if match.group() == opening:
            open_at.append(match.start())
        elif open_at:
            length += match.start() - open_at.pop()
    return length + sum(len(paragraph) - start for start in open_at)
