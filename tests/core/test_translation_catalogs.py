"""Every package's catalog is merged into one domain at run time, so the same English
string translated two ways in two packages would silently override one of them (a lead's
"Stage" shown as a sequence "step"). Each msgid must mean one thing everywhere."""

import re
from collections import defaultdict
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]


def _catalogs():
    return [
        path
        for path in ROOT.glob("**/translations/zh/LC_MESSAGES/messages.po")
        if not {".venv", "node_modules"} & set(path.parts)
    ]


def test_every_package_has_a_catalog_found_here():
    packages = {path.relative_to(ROOT).parts[0] for path in _catalogs()}
    assert {"accounts", "content", "gated", "nurture", "insights", "assistant"} <= packages


def test_no_string_is_translated_two_ways():
    translations = defaultdict(dict)
    for path in _catalogs():
        with path.open("rb") as handle:
            for message in read_po(handle):
                if not message.id or message.pluralizable or not message.string:
                    continue
                # A context (pgettext) makes a message of its own: the same words, another use.
                translations[(message.context, message.id)][str(path.relative_to(ROOT))] = message.string
    conflicts = {msgid: where for msgid, where in translations.items() if len(set(where.values())) > 1}
    assert conflicts == {}


# Chinese copy: full-width punctuation next to Chinese characters (，。：；！？（）), 您 to
# every reader, nothing left untranslated. Code inside the copy keeps its own punctuation:
# a YAML list ([续费, 入门]), a Markdown link's target, a template's {{ … }} and {% … %}.
HALF_WIDTH_BESIDE_CHINESE = re.compile(r"[\u3400-\u9fff][,;:?!()]|[,;:?!()][\u3400-\u9fff]")
CODE_IN_COPY = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\]\([^)]*\)|\[[^\]]*\]")


def _half_width_beside_chinese(text: str) -> list[str]:
    text = CODE_IN_COPY.sub(" ", text)
    return [text[max(0, m.start() - 8) : m.end() + 8] for m in HALF_WIDTH_BESIDE_CHINESE.finditer(text)]


def _translations():
    for path in _catalogs():
        with path.open("rb") as handle:
            for message in read_po(handle):
                if message.id:
                    strings = message.string if isinstance(message.string, tuple) else (message.string,)
                    yield path.relative_to(ROOT), message.id, strings


def _copy_files():
    """Templates (pages and mails) and the demo sequences' mails: the copy not in a catalog."""
    found = [*ROOT.glob("*/templates/**/*.html"), *ROOT.glob("*/templates/**/*.txt")]
    found += [*ROOT.glob("templates/**/*.html"), *ROOT.glob("nurture/demo/*.yml")]
    return [path for path in found if not {".venv", "node_modules"} & set(path.parts)]


def test_every_string_is_translated():
    untranslated = [(str(path), msgid) for path, msgid, strings in _translations() if not all(strings)]
    assert untranslated == []


def test_chinese_copy_uses_full_width_punctuation():
    in_catalogs = {
        (str(path), msgid): found
        for path, msgid, strings in _translations()
        if (found := [hit for string in strings for hit in _half_width_beside_chinese(string)])
    }
    assert in_catalogs == {}
    in_files = {
        str(path.relative_to(ROOT)): found
        for path in _copy_files()
        if (found := _half_width_beside_chinese(path.read_text(encoding="utf-8")))
    }
    assert in_files == {}


def test_every_reader_is_addressed_as_nin():
    assert [
        (str(path), msgid) for path, msgid, strings in _translations() if any("你" in s for s in strings)
    ] == []
    assert [
        str(path.relative_to(ROOT)) for path in _copy_files() if "你" in path.read_text(encoding="utf-8")
    ] == []
    # The demo's articles too: the help center and the assistant answer customers with them.
    articles = [path for path in ROOT.glob("*/demo/**/*.md") if ".venv" not in path.parts]
    assert (
        articles
        and [str(path.relative_to(ROOT)) for path in articles if "你" in path.read_text("utf-8")] == []
    )
