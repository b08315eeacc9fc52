"""Translations: each package keeps its own catalog (<pkg>/translations/), merged by
Flask-Babel into one "messages" domain. Catalogs are compiled from the .po files when the
.mo is missing or older, so editors of strings only touch .po files."""

import os
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from core.extensions import parsed_locale


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


@contextmanager
def page_language(code: str):
    """Render a page wholly in `code` (zh_CN, en; or as articles spell it, zh-CN) whatever
    the visitor's language: an article's page speaks the article's language, chrome and
    language switch included, so no page mixes two. Flask-Babel's force_locale covers the
    catalogs; the templates' `current_locale` (and the switch) follow g.locale_code."""
    from flask import g
    from flask_babel import force_locale, get_locale

    code = code.replace("-", "_")
    get_locale()  # the visitor's own choice is made (and recorded) before it is overridden
    previous = g.get("locale_code")
    with force_locale(parsed_locale(code)):
        g.locale_code = code
        try:
            yield
        finally:
            g.locale_code = previous


def article_language(locale) -> str:
    """A UI locale (a babel Locale, or a code such as zh_CN, zh_Hans_CN, en) as articles
    spell their language: zh-CN, en ("" for none)."""
    if not locale:
        return ""
    if not isinstance(locale, Locale):
        locale = parsed_locale(str(locale).replace("-", "_"))
    return "-".join(filter(None, (locale.language, locale.territory)))


def visitor_language() -> str:
    """The language of the page being rendered, as articles spell it (zh-CN, en)."""
    from flask_babel import get_locale

    return article_language(get_locale())


_CJK_WORD = re.compile(r"[\u4e00-\u9fff]+")
_LATIN_END = re.compile(r"[A-Za-z0-9]$")
_LATIN_START = re.compile(r"[A-Za-z0-9]")


def word_list(items, style: str = "standard") -> str:
    """Words joined as the page's language joins them (周一、周二和周三; Mon, Tue, and Wed);
    style "or" for alternatives (决策者或使用者)."""
    from babel.lists import format_list
    from flask_babel import get_locale

    words, locale = [str(item) for item in items], get_locale()
    if locale is None or locale.language != "zh" or len(words) < 2:
        return format_list(words, style=style, locale=locale)
    # Chinese sets a joining word (和, 或) apart from Latin letters and digits by a space
    # (tags 或 topic, 决策者或使用者); the list comma 、 never. Babel's pattern, filled
    # with markers, tells which joiner stands between which two words.
    pieces = re.split(
        "\x00(\\d+)\x00", format_list([f"\x00{n}\x00" for n in range(len(words))], style=style, locale=locale)
    )
    out = [pieces[0]]
    for at in range(1, len(pieces), 2):
        word, joiner = words[int(pieces[at])], pieces[at + 1]
        following = words[int(pieces[at + 2])] if at + 2 < len(pieces) else ""
        if joiner and _CJK_WORD.fullmatch(joiner) and following:
            joiner = (
                (" " if _LATIN_END.search(word) else "")
                + joiner
                + (" " if _LATIN_START.match(following) else "")
            )
        out += [word, joiner]
    return "".join(out)


def colon() -> str:
    """The colon after a label as the page's language writes it: 团队：客服, Team: Support."""
    from flask_babel import get_locale

    locale = get_locale()
    return "：" if locale is not None and locale.language == "zh" else ": "


def language_name(code: str | None) -> str:
    """A language code (zh-CN, en) named in the page's language (中文, 英语; Chinese,
    English); a dash for none, the code itself when Babel does not know it."""
    from flask_babel import get_locale

    if not code:
        return "—"
    try:
        return Locale.parse(str(code).replace("-", "_")).get_language_name(get_locale()) or code
    except (ValueError, TypeError):
        return code


def words_for(labels: dict, kind: str, value: str | None) -> str:
    """A code's words from a package's table of labels ({kind: {code: words}}): a dash for
    nothing, the code itself when the table has none (a rule's or a source's own name)."""
    if not value:
        return "—"
    return str(labels.get(kind, {}).get(value, value))
