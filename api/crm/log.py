"""The CRM sync log for staff: the latest runs with their counts and entries, and a
lead's own entries for the lead page (core.hooks.add_lead_panel)."""

from flask import render_template
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from api.crm.models import CrmLink, CrmSyncEntry, CrmSyncRun
from core.extensions import db

ROLES = ("admin", "sales")
LEAD_ENTRIES = 20


def latest_runs(limit: int = 30) -> list[CrmSyncRun]:
    return db.session.scalars(select(CrmSyncRun).order_by(CrmSyncRun.id.desc()).limit(limit)).all()


def entries(*, run_id: int | None = None, lead_id: int | None = None, limit: int = 200) -> list[CrmSyncEntry]:
    query = select(CrmSyncEntry).order_by(CrmSyncEntry.id.desc()).limit(limit)
    if run_id is not None:
        query = query.where(CrmSyncEntry.run_id == run_id)
    if lead_id is not None:
        query = query.where(CrmSyncEntry.lead_id == lead_id)
    return db.session.scalars(query).all()


def lead_panel(lead) -> Markup:
    """The lead page's CRM section: the record it is tied to and what the sync did."""
    if not current_user.has_role(*ROLES):
        return Markup("")
    links = db.session.scalars(select(CrmLink).where(CrmLink.lead_id == lead.id)).all()
    rows = entries(lead_id=lead.id, limit=LEAD_ENTRIES)
    if not links and not rows:
        return Markup("")
    return Markup(render_template("api/_lead_crm.html", links=links, rows=rows))
