"""Admin pages for teams and the standards per kind: /admin/content/teams/ and
/admin/content/standards/. Admins only; every change is audit-logged. Views parse the
form, call one service (content.teams, content.standards) and show its per-field
messages on a refused change, with everything typed kept."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from accounts.guards import roles_required
from accounts.models import User
from content import standards, teams
from content.forms import KIND_LABELS
from content.models import KINDS
from content.ops_forms import StandardForm, TeamForm
from core.extensions import db
from core.signals import send_staff_action
from core.timeutil import utcnow

ops_bp = Blueprint("content_ops", __name__, url_prefix="/admin/content", template_folder="templates")


def _staff() -> list[User]:
    return list(
        db.session.scalars(
            select(User).where(User.active.is_(True), User.role.in_(("admin", "editor"))).order_by(User.email)
        )
    )


@ops_bp.get("/teams/")
@roles_required("admin")
def teams_index():
    rows = [(team, teams.team_details(team)) for team in teams.all_teams()]
    people = {user.id: user.display_name for user in _staff()}
    return render_template("content/ops/teams.html", rows=rows, people=people)


@ops_bp.route("/teams/new", methods=["GET", "POST"])
@ops_bp.route("/teams/<int:team_id>", methods=["GET", "POST"])
@roles_required("admin")
def team_edit(team_id: int | None = None):
    team = db.get_or_404(teams.Team, team_id) if team_id else None
    form = TeamForm()
    choices = [(user.id, f"{user.display_name} ({user.email})") for user in _staff()]
    form.members.choices = form.reviewers.choices = choices
    if request.method == "GET" and team is not None:
        details = teams.team_details(team)
        form.name.data = team.name
        form.members.data, form.reviewers.data = details["members"], details["reviewers"]
        form.categories.data = "、".join(details["categories"])
    if request.method == "POST" and form.validate():
        try:
            saved = teams.save_team(
                team,
                name=form.name.data,
                member_ids=form.members.data or [],
                reviewer_ids=form.reviewers.data or [],
                categories=_split(form.categories.data),
            )
        except teams.TeamError as exc:
            _mark(form, exc.problems)
        else:
            send_staff_action(
                "content.team_save",
                user=current_user,
                target=f"team:{saved.id}",
                details={"name": saved.name},
            )
            flash(_("Team saved: %(name)s.", name=saved.name), "success")
            return redirect(url_for("content_ops.teams_index"), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("content/ops/team_edit.html", form=form, team=team), status


def _split(text: str) -> list[str]:
    for mark in ("、", "，", ";", "；", "\n"):
        text = (text or "").replace(mark, ",")
    return [part.strip() for part in text.split(",") if part.strip()]


def _mark(form, problems: dict) -> None:
    for name, message in problems.items():
        target = getattr(form, name, None) or next(iter(form))
        target.errors = [*target.errors, str(message)]
    flash(_("Please correct the marked fields."), "error")


@ops_bp.get("/standards/")
@roles_required("admin")
def standards_index():
    return render_template(
        "content/ops/standards.html",
        standards=standards.all_standards(),
        kinds=KIND_LABELS,
        team_names=teams.team_names(),
        requirable=standards.REQUIRABLE,
    )


@ops_bp.route("/standards/<kind>", methods=["GET", "POST"])
@roles_required("admin")
def standard_edit(kind: str):
    if kind not in KINDS:
        abort(404)
    form = StandardForm()
    form.team.choices = [("", _("No team"))] + [(team.id, team.name) for team in teams.all_teams()]
    form.required_fields.choices = [(name, str(label)) for name, label in standards.REQUIRABLE.items()]
    if request.method == "GET":
        current = standards.standard_for(kind)
        form.team.data = current.team_id
        form.review_months.data = str(current.review_months)
        form.required_fields.data = list(current.required_fields)
        form.template.data = current.template
        form.checklist.data = "\n".join(current.checklist)
    elif form.validate():
        try:
            standards.save_standard(
                kind,
                team_id=form.team.data,
                template=form.template.data or "",
                required_fields=form.required_fields.data or [],
                checklist_text=form.checklist.data or "",
                review_months=form.review_months.data,
                now=utcnow(),
            )
        except standards.StandardError as exc:
            _mark(form, exc.problems)
        else:
            send_staff_action("content.standard_save", user=current_user, target=f"kind:{kind}")
            flash(_("Standard saved: %(kind)s.", kind=KIND_LABELS[kind]), "success")
            return redirect(url_for("content_ops.standards_index"), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("content/ops/standard_edit.html", form=form, kind=kind, kinds=KIND_LABELS), status
