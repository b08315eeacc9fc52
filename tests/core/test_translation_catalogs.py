"""Every package's catalog is merged into one domain at run time, so the same English
string translated two ways in two packages would silently override one of them (a lead's
"Stage" shown as a sequence "step"). Each msgid must mean one thing everywhere."""

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
                translations[message.id][str(path.relative_to(ROOT))] = message.string
    conflicts = {msgid: where for msgid, where in translations.items() if len(set(where.values())) > 1}
    assert conflicts == {}
