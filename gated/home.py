"""The leads' section of the staff home (marketers): leads this week against the last
four, and submissions held as possibly automated that wait for a decision."""

from datetime import timedelta

from flask import url_for
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import func, select

from core.extensions import db
from core.home import Figure, panel
from core.localtime import zone
from core.timeutil import utcnow
from core.trends import weekly_counts
from gated.models import HeldSubmission, Lead


def leads_panel(_user) -> Markup:
    now = utcnow()
    weeks = weekly_counts(Lead.created_at, now=now)
    since = (now - timedelta(days=7)).replace(tzinfo=zone("UTC")).astimezone(zone()).date()
    held = db.session.scalar(select(func.count()).where(HeldSubmission.released_at.is_(None)))
    figures = [
        Figure(
            _("New leads this week"), weeks[-1], url_for("gated_admin.leads", since=since.isoformat()), weeks
        ),
        Figure(_("Held submissions waiting"), held, url_for("gated_admin.held"), alert=True),
    ]
    return panel("leads", _("Leads"), figures=figures)
