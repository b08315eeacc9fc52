"""Words for the codes stored on staff users (their role) and in the audit log (actions,
their details' names and values), for pages, mails and the audit export."""

import re
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp

from core.hooks import add_audit_words, audit_words
from core.i18n import colon, word_list
from core.localtime import local_date, local_time

ROLE_LABELS = {
    "admin": _l("Administrator"),
    "editor": _l("Editor"),
    "marketer": _l("Marketer"),
    "sales": _l("Sales"),
}


def role_label(role: str | None) -> str:
    """A role as staff read it (编辑, 市场), never its code."""
    return str(ROLE_LABELS.get(role, role or "—"))


# The staff actions of the audit log (core.signals.staff_action), in the reader's words.
AUDIT_ACTION_LABELS = {
    "accounts.sign_in": _l("Signed in"),
    "accounts.sign_in_failed": _l("Failed sign-in"),
    "accounts.password_change": _l("Changed password"),
    "accounts.user_create": _l("Created a staff user"),
    "accounts.user_change": _l("Changed a staff user"),
    "audit.read": _l("Read the audit log"),
    "audit.export": _l("Exported the audit log"),
    "content.publish": _l("Published content"),
    "content.unpublish": _l("Unpublished content"),
    "content.archive": _l("Archived content"),
    "content.return": _l("Returned content to its author"),
    "content.import": _l("Imported content"),
    "content.verify": _l("Verified an article as current"),
    "content.checklist": _l("Ticked an article's review checklist"),
    "content.ownership": _l("Changed an article's team or owner"),
    "content.team_save": _l("Changed a content team"),
    "content.standard_save": _l("Changed a content kind's standard"),
    "content.plan_save": _l("Saved a planned piece"),
    "content.plan_move": _l("Moved a planned piece to another day"),
    "content.plan_start": _l("Started a draft from a planned piece"),
    "leads.import": _l("Imported leads"),
    "leads.export": _l("Exported leads"),
    "leads.erase": _l("Erased a person"),
    "leads.stage_change": _l("Changed a lead's stage"),
    "leads.held_release": _l("Released a held submission"),
    "leads.merge": _l("Merged duplicate leads"),
    "leads.merge_undo": _l("Undid a lead merge"),
    "leads.embed_settings": _l("Changed where a form may be embedded"),
    "insights.export": _l("Exported a report"),
    "segments.export": _l("Exported a segment"),
    "campaigns.send": _l("Sent a campaign"),
    "campaigns.export": _l("Exported campaigns"),
    "settings.scoring_rule": _l("Changed a scoring rule"),
    "sales.handoff_decision": _l("Decided on a hand-off"),
    "sales.review_export": _l("Exported a weekly hand-off review"),
    "settings.support_tiers": _l("Changed the support tiers"),
    "nurture.suppress": _l("Stopped mail to an address"),
    "nurture.unsuppress": _l("Removed a suppression"),
    "nurture.enrol": _l("Enrolled a lead in a sequence"),
    "nurture.sequence_saved": _l("Changed a sequence"),
    "api.key_create": _l("Created an API key"),
    "api.key_revoke": _l("Revoked an API key"),
    "staff.change": _l("Saved a change"),
}

# The details' names, in words; tests/accounts/test_audit_labels.py finds every name the
# code sends (and the filters' fields inside "filters") and fails on one missing here.
AUDIT_DETAIL_LABELS = {
    "filters": _lp("audit detail", "Filters"),
    "count": _lp("audit detail", "Count"),
    "page": _lp("audit detail", "Page"),
    "since": _lp("audit detail", "From"),
    "until": _lp("audit detail", "Until"),
    "from": _lp("audit detail", "From"),
    "to": _lp("audit detail", "To"),
    "old": _lp("audit detail", "Before"),
    "new": _lp("audit detail", "After"),
    "was": _lp("audit detail", "Before"),
    "now": _lp("audit detail", "After"),
    "slug": _lp("audit detail", "Address"),
    "email": _lp("audit detail", "Email"),
    "title": _lp("audit detail", "Title"),
    "name": _lp("audit detail", "Name"),
    "saved": _lp("audit detail", "Saved"),
    "deleted": _lp("audit detail", "Deleted"),
    "created": _lp("audit detail", "Created"),
    "updated": _lp("audit detail", "Updated"),
    "imported": _lp("audit detail", "Imported"),
    "unchanged": _lp("audit detail", "Unchanged"),
    "errors": _lp("audit detail", "Errors"),
    "ok": _lp("audit detail", "Succeeded"),
    "reason": _lp("audit detail", "Reason"),
    "outcome": _lp("audit detail", "Outcome"),
    "recipients": _lp("audit detail", "Recipients"),
    "summary": _lp("audit detail", "Summary"),
    "role": _lp("audit detail", "Role"),
    "active": _lp("audit detail", "Active"),
    "change": _lp("audit detail", "Change"),
    "manual": _lp("audit detail", "Added by hand"),
    "anonymised": _lp("audit detail", "Anonymised"),
    "format": _lp("audit detail", "Format"),
    "actor": _lp("audit detail", "API key"),
    "prefix": _lp("audit detail", "Key prefix"),
    "scopes": _lp("audit detail", "Scopes"),
    "expires_at": _lp("audit detail", "Expires"),
    "sequence": _lp("audit detail", "Sequence"),
    "segment": _lp("audit detail", "Segment"),
    "merged": _lp("audit detail", "Merged lead"),
    "restored": _lp("audit detail", "Restored lead"),
    "chosen": _lp("audit detail", "Kept from the merged lead"),
    "log": _lp("audit detail", "Merge record"),
    "ticked": _lp("audit detail", "Ticked"),
    "team_id": _lp("audit detail", "Team number"),
    "owner_id": _lp("audit detail", "Owner number"),
    "article_id": _lp("audit detail", "Article number"),
    "target_date": _lp("audit detail", "Target date"),
    "idea": _lp("audit detail", "Idea"),
    "tiers": _lp("audit detail", "Support tiers"),
    "route": _lp("audit detail", "Route"),
    # The filters' fields: the audit log's own and the lead list's.
    "user": _lp("audit detail", "Who"),
    "action": _lp("audit detail", "Action"),
    "target": _lp("audit detail", "Target"),
    "q": _lp("audit detail", "Search"),
    "stage": _lp("audit detail", "Stage"),
    "channel": _lp("audit detail", "Channel"),
    "source": _lp("audit detail", "Source"),
    "asset": _lp("audit detail", "File number"),
    "status": _lp("audit detail", "Status"),
}

# What a staff user's change at the command line was, when it is no role or state.
USER_CHANGE_LABELS = {
    "password": _l("Password set"),
    "signed_out": _l("Signed out everywhere"),
}

ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")


def audit_action_label(action: str) -> str:
    """An audit entry's action in words; an action this table does not know shows its code."""
    return str(AUDIT_ACTION_LABELS.get(action, action))


def audit_details(action: str, details: dict | None) -> list[tuple[str, str]]:
    """An entry's details as (name, value) in the reader's words, empty ones left out: a
    code through its package's words (core.hooks.add_audit_words), a yes or no as 是/否, a
    stored time in the reader's zone and format, a set of filters or figures as
    "name：value" pairs joined as the language joins them."""
    return [
        (_detail_name(key), audit_value(action, key, value))
        for key, value in sorted((details or {}).items(), key=_in_table_order)
        if not _empty(value)
    ]


def audit_value(action: str, key: str, value) -> str:
    """One detail's value as the reader reads it (see audit_details)."""
    words = audit_words(current_app, action, key)
    if isinstance(words, dict):
        return str(words.get(value, value))
    if words is not None:
        return str(words(value))
    if isinstance(value, dict):
        return word_list(
            f"{_detail_name(name)}{colon()}{audit_value(action, name, inner)}"
            for name, inner in sorted(value.items(), key=_in_table_order)
            if not _empty(inner)
        )
    if isinstance(value, list | tuple):
        return word_list(audit_value(action, key, item) for item in value)
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, str) and ISO_DAY.fullmatch(value):
        return local_date(value)
    if isinstance(value, str) and ISO_MOMENT.fullmatch(value):
        return local_time(datetime.fromisoformat(value))
    return str(value)


def _in_table_order(item) -> tuple[int, str]:
    """Details in AUDIT_DETAIL_LABELS' order (before, then after), whatever order the
    database keeps a JSON object's keys in; names it does not know last."""
    order = list(AUDIT_DETAIL_LABELS)
    return (order.index(item[0]) if item[0] in order else len(order), item[0])


def _empty(value) -> bool:
    return value in (None, "", [], {})


def _detail_name(key: str) -> str:
    return str(AUDIT_DETAIL_LABELS.get(key, key))


def register_audit_words(app) -> None:
    """The words for the codes accounts itself keeps in audit details."""
    add_audit_words(app, ("accounts.user_create", "accounts.user_change"), "role", role_label)
    add_audit_words(app, "accounts.user_change", "change", USER_CHANGE_LABELS)
    add_audit_words(app, ("audit.read", "audit.export"), "action", audit_action_label)
