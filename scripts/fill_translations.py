"""Fill msgstr entries of a catalog from a JSON or YAML mapping {msgid: translation}.

    .venv/bin/python scripts/fill_translations.py content/translations/zh_CN/LC_MESSAGES/messages.po zh.yml

Entries already translated are kept unless the mapping names them. Prints what is still
untranslated, so nothing is forgotten.
"""

import sys
from pathlib import Path

import yaml
from babel.messages.pofile import read_po, write_po


def fill(po_path: Path, mapping: dict) -> list[str]:
    with po_path.open("rb") as handle:
        catalog = read_po(handle)
    for message in catalog:
        if message.id and message.id in mapping:
            message.string = mapping[message.id]
            message.flags.discard("fuzzy")
    with po_path.open("wb") as handle:
        write_po(handle, catalog, width=0)
    return [m.id for m in catalog if m.id and not m.string]


if __name__ == "__main__":
    po, source = Path(sys.argv[1]), Path(sys.argv[2])
    missing = fill(po, yaml.safe_load(source.read_text(encoding="utf-8")))
    for msgid in missing:
        print("untranslated:", msgid)
