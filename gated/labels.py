"""Words for the codes stored on leads (stage, channel, role, event kind), for pages; the
exports keep the codes, which scripts and CRMs match on."""

from flask_babel import lazy_gettext as _l

from core.hooks import add_audit_words
from core.i18n import word_list, words_for

LABELS = {
    "stage": {
        "new": _l("New"),
        "engaged": _l("Engaged"),
        "mql": _l("Marketing qualified (MQL)"),
        "sql": _l("Sales qualified (SQL)"),
        "customer": _l("Customer"),
        "lost": _l("Lost"),
    },
    "channel": {
        "paid_search": _l("Paid search"),
        "organic_search": _l("Organic search"),
        "partner": _l("Partners and platforms"),
        "social": _l("Social and media"),
        "email": _l("Email marketing"),
        "referral": _l("Referral"),
        "direct": _l("Direct"),
    },
    "role": {
        "decision_maker": _l("Decision maker"),
        "user": _l("User"),
        "requester": _l("Requester"),
        "other": _l("Other"),
    },
    "form": {
        "whitepaper": _l("White paper form"),
        "video": _l("Gated video form"),
        "demo": _l("Demo request"),
        "newsletter": _l("Newsletter signup"),
        "import": _l("Imported"),
        "api": _l("Sent through the API"),
        "assistant": _l("Assistant hand-over"),
    },
    "held_reason": {
        "too_fast": _l("Sent faster than people type"),
        "no_start": _l("No form start time"),
        "no_proof": _l("No proof-of-work"),
        "bad_proof": _l("Invalid or expired proof-of-work"),
        "replayed": _l("Proof-of-work used before"),
        "honeypot": _l("Hidden trap field filled"),
    },
    "field": {
        "email": _l("Email"),
        "name": _l("Full name"),
        "company": _l("Company"),
        "job_title": _l("Job title"),
        "phone": _l("Phone"),
        "role": _l("Role"),
        "stage": _l("Stage"),
        "locale": _l("Language"),
        "timezone": _l("Time zone"),
    },
    "event": {
        "submission": _l("Form"),
        "consent": _l("Consent"),
        "download": _l("Download"),
    },
}


def label(kind: str, value: str | None) -> str:
    """The words for a code, or the code itself when it has none (e.g. another
    package's timeline event kind)."""
    return words_for(LABELS, kind, value)


def _kept_from_merged(chosen: dict) -> str:
    """A merge's choices ({field: "a" | "b"}): the fields whose value came from the merged lead."""
    return word_list(label("field", name) for name, side in sorted(chosen.items()) if side == "b") or "—"


def register_audit_words(app) -> None:
    """The audit page reads the stages, channels and merge choices in leads' entries in words."""

    add_audit_words(app, "leads.stage_change", ("from", "to", "old", "new"), LABELS["stage"])
    add_audit_words(app, ("leads.export", "leads.erase"), "stage", LABELS["stage"])
    add_audit_words(app, ("leads.export", "leads.erase"), "channel", LABELS["channel"])
    add_audit_words(app, "leads.export", "format", lambda code: str(code).upper())
    add_audit_words(app, "leads.merge", "chosen", _kept_from_merged)
