"""The help center's gaps on the staff home: searches that found nothing this week."""

from datetime import timedelta

from flask import url_for
from flask_babel import gettext as _
from markupsafe import Markup

from content.search.analytics import search_totals
from core.home import Figure, panel
from core.timeutil import utcnow


def gaps_panel(_user) -> Markup:
    now = utcnow()
    totals = search_totals(now - timedelta(days=7), now)
    figures = [
        Figure(
            _("Searches with no result this week"),
            totals["empty"],
            url_for("search_admin.report", days=7, found="none"),
            alert=True,
        )
    ]
    return panel("search-gaps", _("Help-center gaps"), figures=figures)
