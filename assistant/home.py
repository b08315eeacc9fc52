"""The assistant's gaps on the staff home: questions the articles did not answer this week."""

from datetime import timedelta

from flask import url_for
from flask_babel import gettext as _
from markupsafe import Markup

from assistant import stats
from core.home import Figure, Row, panel
from core.timeutil import utcnow

SHOWN = 3


def unsolved_panel(_user) -> Markup:
    now = utcnow()
    groups = stats.unsolved(now - timedelta(days=7), now)
    url = url_for("assistant_admin.unsolved", days=7)
    figures = [Figure(_("Unsolved questions this week"), len(groups), url, alert=True)]
    rows = [Row(group.example, url, _("asked %(n)d times", n=group.count)) for group in groups[:SHOWN]]
    return panel("unsolved", _("Assistant"), figures=figures, rows=rows)
