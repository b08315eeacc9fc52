"""Words for the codes stored on staff users (their role), for pages and mails."""

from flask_babel import lazy_gettext as _l

ROLE_LABELS = {
    "admin": _l("Administrator"),
    "editor": _l("Editor"),
    "marketer": _l("Marketer"),
    "sales": _l("Sales"),
}


def role_label(role: str | None) -> str:
    """A role as staff read it (编辑, 市场), never its code."""
    return str(ROLE_LABELS.get(role, role or "—"))
