"""Words for the codes stored on staff users (their role), for pages and mails."""

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp

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
    "content.import": _l("Imported content"),
    "content.verify": _l("Verified an article as current"),
    "content.checklist": _l("Ticked an article's review checklist"),
    "content.ownership": _l("Changed an article's team or owner"),
    "content.team_save": _l("Changed a content team"),
    "content.standard_save": _l("Changed a content kind's standard"),
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

# The details' names, in words (a detail this table does not know shows its name).
AUDIT_DETAIL_LABELS = {
    "filters": _lp("audit detail", "Filters"),
    "count": _lp("audit detail", "Count"),
    "page": _lp("audit detail", "Page"),
    "since": _lp("audit detail", "From"),
    "until": _lp("audit detail", "Until"),
    "from": _lp("audit detail", "From"),
    "to": _lp("audit detail", "To"),
    "slug": _lp("audit detail", "Address"),
    "email": _lp("audit detail", "Email"),
    "title": _lp("audit detail", "Title"),
    "name": _lp("audit detail", "Name"),
    "saved": _lp("audit detail", "Saved"),
    "deleted": _lp("audit detail", "Deleted"),
    "created": _lp("audit detail", "Created"),
    "updated": _lp("audit detail", "Updated"),
    "reason": _lp("audit detail", "Reason"),
    "outcome": _lp("audit detail", "Outcome"),
    "recipients": _lp("audit detail", "Recipients"),
    "summary": _lp("audit detail", "Summary"),
    "role": _lp("audit detail", "Role"),
    "status": _lp("audit detail", "Status"),
}


def audit_action_label(action: str) -> str:
    """An audit entry's action in words; an action this table does not know shows its code."""
    return str(AUDIT_ACTION_LABELS.get(action, action))


def audit_details(details: dict | None) -> list[tuple[str, str]]:
    """An entry's details as (name, value) in words for the audit page: empty ones left
    out, a set of filters or figures as "name：value" pairs joined as the language joins."""
    from flask_babel import gettext as _

    from core.i18n import word_list

    shown = []
    for key, value in sorted((details or {}).items()):
        if value in (None, "", [], {}):
            continue
        if isinstance(value, dict):
            pairs = [
                _("%(name)s: %(value)s", name=_detail_name(k), value=v)
                for k, v in sorted(value.items())
                if v not in (None, "")
            ]
            value = word_list(pairs)
        elif isinstance(value, list | tuple):
            value = word_list(value)
        shown.append((_detail_name(key), str(value)))
    return shown


def _detail_name(key: str) -> str:
    return str(AUDIT_DETAIL_LABELS.get(key, key))
