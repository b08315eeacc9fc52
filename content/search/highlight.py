"""Highlighting: the typed terms (and their inflections) marked in a title, and the
snippet of a body around the best run of them."""

import re
import unicodedata
from html import escape

from markupsafe import Markup

from content.search.analysis import CJK_RE, fold_chars

SNIPPET_CHARS = 160


def _spans(folded: str, terms: list[str]) -> list[tuple[int, int, str]]:
    spans = []
    for term in terms:
        term = " ".join(term.split())
        if not term:
            continue
        if CJK_RE.search(term):
            pattern = r"\s*".join(re.escape(part) for part in term.split())
        else:
            # English: the word and its inflections ("renewal" finds "renewals").
            stem = term if len(term) < 5 else term[: max(4, len(term) - 2)]
            body = r"[\s-]+".join(re.escape(part) for part in stem.split())
            pattern = rf"(?<![a-z0-9]){body}[a-z0-9]*"
        for match in re.finditer(pattern, folded):
            spans.append((match.start(), match.end(), term))
            if len(spans) > 400:
                return spans
    return spans


def _merge(spans):
    merged = []
    for start, end, term in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]), merged[-1][2])
        else:
            merged.append((start, end, term))
    return merged


def _render(text: str, spans, start: int, end: int) -> Markup:
    out, cursor = [], start
    for s, e, _term in spans:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        out.append(_plain(text[cursor:s]))
        out.append(f"<mark>{_plain(text[s:e])}</mark>")
        cursor = e
    out.append(_plain(text[cursor:end]))
    return Markup("".join(out))


def _plain(text: str) -> str:
    """Escaped, on one line (the body text keeps the paragraphs' line breaks)."""
    return escape(text.replace("\r", " ").replace("\n", " "))


def mark(text: str, terms: list[str]) -> Markup:
    """The whole text, escaped, with the matched terms in <mark>."""
    text = unicodedata.normalize("NFC", text or "")
    return _render(text, _merge(_spans(fold_chars(text), _terms(terms))), 0, len(text))


def _terms(terms: list[str]) -> list[str]:
    # Longest first, so 客户成功经理 is marked whole rather than as 客户成功 + 经理.
    return sorted({t for t in terms if t and t.strip()}, key=len, reverse=True)


def snippet(text: str, terms: list[str], *, fallback: str = "", width: int = SNIPPET_CHARS) -> Markup:
    """About `width` characters of `text` around the densest group of matched terms,
    escaped, with the terms in <mark>. Without a match: the start of `fallback` or text."""
    text = text or ""
    spans = _merge(_spans(fold_chars(text), _terms(terms)))
    if not spans and fallback:
        # The body does not say it (the title or tags did): show the summary instead.
        text, spans = fallback, _merge(_spans(fold_chars(fallback), _terms(terms)))
    if not spans:
        end = min(len(text), width)
        return _render(text, [], 0, end) + Markup("…" if len(text) > width else "")
    best_start, best_score = spans[0][0], -1
    for i, (start, _end, _term) in enumerate(spans):
        covered = {term for s, e, term in spans[i:] if e <= start + width}
        score = len(covered) * 10 + sum(1 for s, e, _t in spans[i:] if e <= start + width)
        if score > best_score:
            best_start, best_score = start, score
    start = max(0, best_start - width // 4)
    if start > 0:
        # Start on a sentence or word boundary between there and the first match.
        for boundary in ("。", "！", "？", ". ", "\n", "，", ", ", " "):
            found = text.find(boundary, start, best_start)
            if found != -1:
                start = found + len(boundary)
                break
    end = min(len(text), start + width)
    body = _render(text, spans, start, end)
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    return Markup(prefix) + body + Markup(suffix)
