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
    # A score change's reason is a rule's name, or one of these.
    "reason": {
        "decay": _l("inactivity"),
        "sales_rejected": _l("rejected by sales"),
    },
}


def insights_label(kind: str, value: str | None) -> str:
    """The words for a code (a rule's own name passes through as it is)."""
    return words_for(LABELS, kind, value)
