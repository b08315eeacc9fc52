"""Translations: each package keeps its own catalog (<pkg>/translations/), merged by
Flask-Babel into one "messages" domain. Catalogs are compiled from the .po files when the
.mo is missing or older, so editors of strings only touch .po files."""

import os
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po


def compile_catalogs(directories) -> None:
    for directory in directories:
        for po_path in Path(directory).glob("*/LC_MESSAGES/*.po"):
            mo_path = po_path.with_suffix(".mo")
            if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                continue
            with po_path.open("rb") as handle:
                catalog = read_po(handle)
            # Written aside and moved in, so concurrent workers never read half a file.
            fd, tmp = tempfile.mkstemp(dir=mo_path.parent, suffix=".mo.tmp")
            with os.fdopen(fd, "wb") as handle:
                write_mo(handle, catalog)
            os.replace(tmp, mo_path)


def translation_directories(root: Path, packages) -> list[str]:
    found = [root / "translations"] + [root / pkg / "translations" for pkg in packages]
    return [str(path) for path in found if path.is_dir()]


def share_form_translations(app) -> None:
    """Flask-WTF loads WTForms' own catalog from disk for every request that renders a
    form (about half a millisecond); load it once per locale and hand it over."""
    from babel import support
    from flask import request
    from flask_babel import get_locale
    from wtforms.i18n import messages_path

    catalogs = {}

    @app.before_request
    def attach_form_translations():
        locale = get_locale()
        key = str(locale)
        if key not in catalogs:
            catalogs[key] = support.Translations.load(messages_path(), [locale], domain="wtforms")
        request.wtforms_translations = catalogs[key]
