"""Content results (/admin/insights/results): each article's figures for a period,
summed per author and per team, filtered by team and kind, sortable, as CSV; a page per
team with its trend. Marketers and admins see every team; editors see their teams' (an
editor in no team sees all, as content.teams lets them write everywhere)."""

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from accounts.guards import roles_required
from core.localtime import local_today, site_zone
from core.signals import send_staff_action
from core.spreadsheet import csv_download
from insights import dashboards, results

ROLES = ("editor", "marketer", "admin")
bp = Blueprint(
    "insights_results", __name__, url_prefix="/admin/insights/results", template_folder="templates"
)


def _team_ids():
    """The teams the reader may see: None for all."""
    from content.teams import membership

    if current_user.has_role("marketer"):
        return None
    return membership(current_user).writes or None


def _filters(team_ids, **fixed) -> results.ResultFilters:
    args = request.args.to_dict() | fixed
    return results.ResultFilters.from_args(args, today=local_today(site_zone()), team_ids=team_ids)


def _page(filters, team_ids, template, **context):
    from content.forms import KIND_LABELS
    from content.teams import all_teams

    report = results.report(filters, team_ids=team_ids)
    table, sort = results.table(report, filters)
    return render_template(
        template,
        filters=filters,
        args=filters.as_args(),
        table=table,
        sort=sort,
        team_options=[
            (team.id, team.name) for team in all_teams() if team_ids is None or team.id in team_ids
        ],
        kind_labels=KIND_LABELS,
        groupings=[("article", _("Articles")), ("author", _("Authors")), ("team", _("Teams"))],
        site_zone=site_zone(),
        **context,
    )


@bp.get("/")
@roles_required(*ROLES)
def overview():
    team_ids = _team_ids()
    return _page(_filters(team_ids), team_ids, "insights/results.html")


@bp.get("/teams/<int:team_id>")
@roles_required(*ROLES)
def team(team_id):
    from content.teams import Team
    from core.extensions import db

    team_ids = _team_ids()
    found = db.session.get(Team, team_id)
    if found is None or (team_ids is not None and team_id not in team_ids):
        abort(404)
    filters = _filters(team_ids, team=str(team_id))
    if filters.by == "team":  # a team's page is by article or by author
        filters.by = "article"
    trend = results.team_trend(team_id, *filters.period.period)
    return _page(filters, team_ids, "insights/results_team.html", team=found, trend=trend)


@bp.get("/results.csv")
@roles_required(*ROLES)
def export_csv():
    team_ids = _team_ids()
    filters = _filters(team_ids)
    table, _sort = results.table(results.report(filters, team_ids=team_ids), filters)
    send_staff_action(
        "insights.export",
        user=current_user,
        target=f"report:{table.name}",
        details={"since": str(filters.period.since), "until": str(filters.period.until)},
    )
    since, until = filters.period.period
    return csv_download(dashboards.to_csv(table), f"content-{filters.by}-{since:%Y%m%d}-{until:%Y%m%d}.csv")
