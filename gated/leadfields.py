"""A lead's language, time zone and tags: checked the same way wherever they come in (an
import's columns, the lead page), and the tags written as rows.

A language is one the site speaks, spelt as articles spell it (zh-CN, en); a time zone
is an IANA name (Asia/Shanghai); tags are short words, at most MAX_TAGS, compared
without case (the first spelling is kept).
"""

import re

from flask import current_app
from flask_babel import lazy_gettext as _l

from core.extensions import db
from core.localtime import is_time_zone
from gated.models import Lead, LeadTag

MAX_TAGS = 20
TAG_LENGTH = 60
# Commas (also the full-width one), semicolons and the Chinese enumeration comma.
TAG_SEPARATORS = re.compile(r"[,，;；、|]")


class FieldError(ValueError):
    """One field's value cannot be used; the message is worded for the person typing it."""


def site_languages() -> list[str]:
    return [code.replace("_", "-") for code in current_app.config["LOCALES"]]


def clean_locale(value: str) -> str:
    """ "" or a language of the site, in its spelling (zh_cn, ZH-CN → zh-CN)."""
    text = (value or "").strip().replace("_", "-")
    if not text:
        return ""
    found = next((code for code in site_languages() if code.lower() == text.lower()), None)
    if found is None:
        raise FieldError(_l("one of: %(known)s", known=", ".join(site_languages())))
    return found


def clean_timezone(value: str) -> str:
    """ "" or an IANA time zone name."""
    text = (value or "").strip()
    if text and not is_time_zone(text):
        raise FieldError(_l("an IANA time zone such as Asia/Shanghai or America/New_York"))
    return text


def clean_tags(value: str) -> list[str]:
    """The tags of a text ("VIP, 制造业；展会"), each once, in the order given."""
    tags: dict[str, str] = {}
    for part in TAG_SEPARATORS.split(value or ""):
        tag = part.strip()
        if not tag:
            continue
        if len(tag) > TAG_LENGTH:
            raise FieldError(_l("a tag has at most %(n)d characters", n=TAG_LENGTH))
        tags.setdefault(tag.lower(), tag)
    if len(tags) > MAX_TAGS:
        raise FieldError(_l("at most %(n)d tags", n=MAX_TAGS))
    return list(tags.values())


def set_tags(lead: Lead, tags: list[str]) -> None:
    """Make the lead's tags exactly `tags` (not committed); kept rows stay as they are."""
    wanted = {tag.lower(): tag for tag in tags}
    for row in list(lead.tag_rows):
        if row.tag.lower() not in wanted:
            lead.tag_rows.remove(row)
        else:
            wanted.pop(row.tag.lower())
    lead.tag_rows.extend(LeadTag(tag=tag) for tag in wanted.values())
    db.session.flush()


def add_tags(lead: Lead, tags: list[str]) -> None:
    """Add `tags` to the lead's own (an import adds; it never takes a tag away)."""
    set_tags(lead, [*lead.tags, *tags][: max(MAX_TAGS, len(lead.tags))])
