"""Words for a short link's channel codes (its utm_source), for pages; a channel not in
the table is shown as typed."""

from flask_babel import lazy_gettext as _l

from core.i18n import words_for

# The channels offered when a marketer makes a link (any other may be typed).
CHANNELS = {
    "wechat": _l("WeChat article or group"),
    "slides": _l("Slides"),
    "booth": _l("Booth"),
    "poster": _l("Poster"),
    "event": _l("Event venue"),
    "print": _l("Print"),
    "staff": _l("Staff share"),
    "partner": _l("Partner share"),
}
LABELS = {"channel": CHANNELS}


def channel_words(code: str) -> str:
    return words_for(LABELS, "channel", code)
