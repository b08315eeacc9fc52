"""The insights dashboards (/admin/insights): the funnel, channels, content, landing
pages, searches with no results, sales outcomes and sequence steps for a period, each
table also as CSV. Marketers and admins."""

from flask import Blueprint, abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from accounts.guards import roles_required
from core.hooks import insights_panels
from core.localtime import local_today, site_zone
from core.signals import send_staff_action
from core.spreadsheet import csv_download
from insights import dashboards, trends

ROLES = ("marketer", "admin")
bp = Blueprint("insights_admin", __name__, url_prefix="/admin/insights", template_folder="templates")


def _filters() -> dashboards.Filters:
    # A report's days are the site's (insights.stages), for every reader alike.
    return dashboards.Filters.from_args(request.args, today=local_today(site_zone()))


CONVERSION_BARS = 10  # form pages charted (the most leads first); the table has them all


def _charts(tables: dict) -> dict:
    """The funnel's totals, new leads by channel, and the form pages' views, leads and
    conversion as (labels, series) for the shared bar chart (templates/_chart.html)."""
    from gated.labels import label

    steps = tables["funnel"].columns[1:]
    funnel = [sum(row[key] for row in tables["funnel"].rows) for key, _title in steps]
    rows = tables["channels"].rows
    pages = tables["conversion"].rows[:CONVERSION_BARS]
    titles = [row["title"] for row in pages]
    return {
        "funnel": ([str(title) for _key, title in steps], [(_("Count"), funnel)]),
        "channels": (
            [str(label("channel", row["channel"])) for row in rows],
            [(_("New leads"), [row["leads"] for row in rows])],
        ),
        "conversion": (
            titles,
            [(_("Views"), [row["views"] for row in pages]), (_("Leads"), [row["leads"] for row in pages])],
        ),
        "conversion_rate": (
            titles,
            [(_("Conversion rate"), [round((row["conversion_rate"] or 0) * 100, 1) for row in pages])],
        ),
    }


@bp.get("/")
@roles_required(*ROLES)
def dashboard():
    from gated.models import CHANNELS

    filters = _filters()
    tables = dashboards.dashboard(filters)
    return render_template(
        "insights/dashboard.html",
        filters=filters,
        args=filters.as_args(),
        tables=tables,
        charts=_charts(tables),
        trend=trends.trends(filters.since, filters.until, channel=filters.channel, tz=site_zone()),
        channels=CHANNELS,
        site_zone=site_zone(),
        panels=insights_panels(current_app, filters.since, filters.until),
    )


@bp.get("/<name>.csv")
@roles_required(*ROLES)
def export_csv(name):
    build = dashboards.TABLES.get(name)
    if build is None:
        abort(404)
    filters = _filters()
    body = dashboards.to_csv(build(filters))
    send_staff_action(
        "insights.export",
        user=current_user,
        target=f"report:{name}",
        details={"since": str(filters.since), "until": str(filters.until)},
    )
    filename = f"insights-{name}-{filters.since:%Y%m%d}-{filters.until:%Y%m%d}.csv"
    return csv_download(body, filename)
