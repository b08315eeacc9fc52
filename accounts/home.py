"""The administrator's section of the staff home: the system's health, from the checks
/healthz runs (database, migrations, the mail queue and its worker, the search index)."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from core.home import Row, panel
from core.views import health_checks

CHECK_LABELS = {
    "database": _l("Database"),
    "migrations": _l("Database migrations"),
    "mail_queue": _l("Mail queue and worker"),
    "index": _l("Search index"),
    "lead_webhook": _l("Lead webhook"),
}


def health_panel(_user) -> Markup:
    rows = [
        Row(
            str(CHECK_LABELS.get(name, name)),
            "/healthz",
            _("working") if check.get("ok") else _("needs attention"),
            urgent=not check.get("ok"),
        )
        for name, check in health_checks().items()
    ]
    return panel("health", _("System health"), rows=rows)
