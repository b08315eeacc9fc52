"""Words for the codes stored by insights (event kinds, score reasons), for pages and
mails; the CSV exports and the API keep the codes."""

from flask_babel import lazy_gettext as _l

from core.i18n import words_for

LABELS = {
    "event": {
        "page_view": _l("Page view"),
        "search": _l("Search"),
        "search_click": _l("Search result opened"),
        "page_time": _l("Time on page"),
        "form_view": _l("Form opened"),
        "form_submit": _l("Form sent"),
        "download": _l("Download"),
        "mail_sent": _l("Mail sent"),
        "mail_open": _l("Mail opened"),
        "mail_click": _l("Link in a mail clicked"),
        "unsubscribe": _l("Unsubscribed"),
        "stage_change": _l("Stage change"),
        "custom": _l("Custom event"),
    },
    # The site's own pages that are no article, by their path (an article: its title).
    "page": {
        "/": _l("Home page"),
        "/help/": _l("Help center"),
        "/library/": _l("White papers"),
        "/search": _l("Search"),
        "/demo-request": _l("Demo request"),
        "/newsletter": _l("Newsletter signup"),
    },
    # A score change's reason is a rule's name, or one of these.
    "reason": {
        "decay": _l("inactivity"),
        "sales_rejected": _l("rejected by sales"),
    },
}


def insights_label(kind: str, value: str | None) -> str:
    """The words for a code (a rule's own name passes through as it is)."""
    return words_for(LABELS, kind, value)


def page_name(path: str | None, titles: dict | None = None) -> str:
    """A page a lead saw as staff read it: an article's title (`titles`, from
    content.public.titles_by_path), one of the site's own pages in words, else its path."""
    path = path or ""
    found = (titles or {}).get(path) or LABELS["page"].get(path.split("?")[0])
    return str(found) if found else path
