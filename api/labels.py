"""Words for the codes the CRM sync stores (outcomes, directions, kinds of run) and for
API key scopes."""

from flask_babel import lazy_gettext as _l

from core.i18n import words_for

LABELS = {
    "outcome": {
        "created": _l("Created in the CRM"),
        "updated": _l("Updated in the CRM"),
        "unchanged": _l("Already in step"),
        "stage": _l("Stage changed by the CRM"),
        "retry": _l("CRM unavailable; will retry"),
        "failed": _l("Failed"),
        "unknown_record": _l("Unknown CRM record"),
    },
    "direction": {"out": _l("To the CRM"), "in": _l("From the CRM")},
    "kind": {"push": _l("Push"), "pull": _l("Pull"), "webhook": _l("Webhook")},
    # What each API key scope opens (docs/API.md lists the operations).
    "scope": {
        "leads:read": _l("Read leads, segment members and downloads"),
        "leads:write": _l("Add, change and erase leads"),
        "events:write": _l("Record events"),
        "content:read": _l("Read and search articles"),
        "campaigns:read": _l("Read segments, campaigns and sequences"),
        "campaigns:write": _l("Enrol leads in sequences"),
    },
}


def api_label(kind: str, value: str | None) -> str:
    return words_for(LABELS, kind, value)
