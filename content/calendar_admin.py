"""The editorial calendar in the staff area (/admin/content/calendar/): the week and month
views, a planned piece's form, moving it (the drag posts here; so does the date field
that works without scripts), starting its draft; and each team's iCal feed
(/calendar/<token>.ics, a signed token in place of a sign-in, for calendar apps).

Editors see and plan for their teams, admins for all (content.planning.may_plan); every
change is audit-logged. Views parse, call one service, render or redirect."""

from datetime import date
from urllib.parse import urlsplit

from babel.dates import format_date, format_interval, format_skeleton, get_day_names
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from accounts.guards import roles_required
from accounts.models import User
from content import calendar, planning, teams
from content.documents import DocumentError
from content.forms import KIND_LABELS
from content.ops_forms import MoveForm, PlanForm
from content.teams_admin import _mark
from content.workflow import ContentError
from core.extensions import db
from core.ids import record_id, token_id
from core.localtime import local_today, site_zone, zone
from core.signals import send_staff_action
from core.timeutil import utcnow
from core.tokens import InvalidToken, sign, unsign
from core.urls import absolute_url_for
from core.views import safe_next

calendar_bp = Blueprint(
    "content_calendar", __name__, url_prefix="/admin/content/calendar", template_folder="templates"
)
feed_bp = Blueprint("content_feed", __name__)
FEED = "calendar-feed"
STATE_TONES = {"planned": "", "started": "warn", "scheduled": "", "published": "good"}


def _user():
    return current_user._get_current_object()


def plan_choices(form: PlanForm) -> None:
    """The kinds, the teams the user plans for, and the staff who may own a piece."""
    form.kind.choices = list(KIND_LABELS.items())
    form.team.choices = [("", _("Choose a team"))] + [
        (team.id, team.name) for team in teams.all_teams() if planning.may_plan(_user(), team.id)
    ]
    form.owner.choices = [("", _("No one"))] + [
        (user.id, user.display_name)
        for user in db.session.scalars(
            select(User).where(User.active.is_(True), User.role.in_(("admin", "editor"))).order_by(User.email)
        )
    ]


def plan_input(form: PlanForm, *, owner_id=None) -> planning.PlanInput:
    return planning.PlanInput(
        title=form.title.data or "",
        kind=form.kind.data or "",
        team_id=form.team.data,
        owner_id=form.owner.data if owner_id is None else owner_id,
        target_date=form.target_date.data,
        serves=form.serves.data or "",
        idea=form.idea.data or "",
    )


def audit_plan(action: str, plan: planning.PlannedPiece, **details) -> None:
    send_staff_action(
        f"content.{action}",
        user=current_user,
        target=f"plan:{plan.id}",
        details={"title": plan.title, "team_id": plan.team_id, **details},
    )


def calendar_url(day, *, view: str | None = None, team=None) -> str:
    view = view if view in calendar.VIEWS else (request.args.get("view") or "month")
    return url_for(
        "content_calendar.calendar",
        view=view if view in calendar.VIEWS else "month",
        date=day.isoformat(),
        team=team,
    )


def _period_title(period: calendar.Period) -> str:
    locale = get_locale()
    if period.view == "month":
        return format_skeleton("yMMMM", period.start, locale=locale)
    return format_interval(period.start, period.end, "yMMMd", locale=locale)


@calendar_bp.get("/", endpoint="calendar")
@roles_required("editor")
def calendar_page():
    view = request.args.get("view") if request.args.get("view") in calendar.VIEWS else "month"
    today = local_today()
    day = planning.parse_day(request.args.get("date")) or today
    if not date(2000, 1, 1) <= day <= planning.latest_day(today):
        day = today  # a calendar of plans has nothing outside these years
    team_id = request.args.get("team", type=record_id)
    visible = teams.visible_team_ids(current_user) or None
    if team_id is not None and (
        db.session.get(teams.Team, team_id) is None or (visible is not None and team_id not in visible)
    ):
        abort(404)
    period = calendar.period_for(view, day)
    found = calendar.entries(
        period.first,
        period.last,
        team_ids={team_id} if team_id else visible,
        now=utcnow(),
        tz=str(zone()),
    )
    names = teams.team_names()
    return render_template(
        "content/calendar/calendar.html",
        period=period,
        title=_period_title(period),
        days=calendar.by_day(found),
        count=len(found),
        today=today,
        team_id=team_id,
        team_choices=[(key, name) for key, name in names.items() if visible is None or key in visible],
        team_names=names,
        people={user.id: user.display_name for user in db.session.scalars(select(User))},
        kinds=KIND_LABELS,
        states=calendar.STATES,
        tones=STATE_TONES,
        weekdays=[get_day_names("abbreviated", locale=get_locale())[n] for n in range(7)],
        feed_url=absolute_url_for("content_feed.team_feed", token=sign(FEED, {"team": team_id}))
        if team_id
        else "",
    )


def _plan_page(form, plan, status=200):
    return render_template(
        "content/calendar/plan_edit.html",
        form=form,
        plan=plan,
        team_names=teams.team_names(),
        states=calendar.STATES,
    ), status


def _fill(form: PlanForm, plan: planning.PlannedPiece) -> None:
    form.title.data, form.kind.data, form.team.data = plan.title, plan.kind, plan.team_id
    form.owner.data, form.serves.data = plan.owner_id, plan.serves
    form.target_date.data = plan.target_date.isoformat()


def _visible_plan(plan_id: int) -> planning.PlannedPiece:
    plan = db.get_or_404(planning.PlannedPiece, plan_id)
    if not planning.may_plan(_user(), plan.team_id):
        abort(403)
    return plan


@calendar_bp.route("/plans/new", methods=["GET", "POST"])
@calendar_bp.route("/plans/<int:plan_id>", methods=["GET", "POST"])
@roles_required("editor")
def plan_edit(plan_id: int | None = None):
    plan = _visible_plan(plan_id) if plan_id else None
    form = PlanForm()
    plan_choices(form)
    if request.method == "GET":
        if plan is not None:
            _fill(form, plan)
        else:
            form.kind.data = request.args.get("kind") if request.args.get("kind") in KIND_LABELS else "help"
            form.target_date.data = request.args.get("date", "")[:10]
            form.team.data = request.args.get("team", type=record_id)
            # The planner owns what they plan, when they are in a team to own it in.
            form.owner.data = current_user.id if teams.membership(current_user).writes else None
        return _plan_page(form, plan)
    if form.validate():
        try:
            saved = planning.save_plan(
                plan, plan_input(form), user=_user(), today=local_today(), now=utcnow()
            )
        except planning.PlanError as exc:
            db.session.rollback()
            _mark(form, exc.problems)
        else:
            audit_plan("plan_save", saved, target_date=saved.target_date.isoformat())
            flash(_("Plan saved: %(title)s.", title=saved.title), "success")
            return redirect(calendar_url(saved.target_date), code=303)
    return _plan_page(form, plan, 422)


@calendar_bp.post("/plans/<int:plan_id>/move")
@roles_required("editor")
def move(plan_id: int):
    """Reschedule a plan: the drag answers JSON, the date field a page."""
    plan = _visible_plan(plan_id)
    form = MoveForm()
    wants_json = request.accept_mimetypes.best == "application/json"
    if not form.validate():
        abort(400)
    before = plan.target_date
    try:
        planning.reschedule(plan, form.target_date.data, user=_user(), today=local_today(), now=utcnow())
    except planning.PlanError as exc:
        db.session.rollback()
        message = " ".join(str(text) for text in exc.problems.values())
        if wants_json:
            return jsonify({"error": message}), 422
        page = PlanForm(formdata=None)
        plan_choices(page)
        _fill(page, plan)
        page.target_date.data = form.target_date.data
        page.target_date.errors = [message]
        return _plan_page(page, plan, 422)
    audit_plan("plan_move", plan, was=before.isoformat(), now=plan.target_date.isoformat())
    message = _(
        "Moved to %(date)s: %(title)s.",
        date=format_date(plan.target_date, "medium", locale=get_locale()),
        title=plan.title,
    )
    if wants_json:
        return jsonify({"date": plan.target_date.isoformat(), "message": message})
    flash(message, "success")
    return redirect(safe_next(request.form.get("next"), calendar_url(plan.target_date)), code=303)


def _reason(exc: Exception) -> str:
    """What a refused start says: a plan's messages per field, a save's problems, or the
    workflow's sentence."""
    problems = getattr(exc, "problems", None)
    if isinstance(problems, dict):
        return " ".join(str(text) for text in problems.values())
    if problems:
        return " ".join(str(problem.message) for problem in problems)
    return str(exc)


@calendar_bp.post("/plans/<int:plan_id>/start")
@roles_required("editor")
def start(plan_id: int):
    """The plan becomes a draft with its kind's template; the editor opens on it."""
    plan = _visible_plan(plan_id)
    if not FlaskForm().validate():
        abort(400)
    was_started = plan.article_id is not None
    try:
        article = planning.start_draft(plan, user=_user(), now=utcnow())
    except (planning.PlanError, DocumentError, ContentError) as exc:
        db.session.rollback()
        flash(_reason(exc), "error")
        return redirect(url_for("content_calendar.plan_edit", plan_id=plan.id), code=303)
    if not was_started:
        audit_plan("plan_start", plan, article_id=article.id)
        flash(_("Draft started from the plan: %(title)s.", title=article.title), "success")
    return redirect(url_for("content_admin.edit", article_id=article.id), code=303)


@feed_bp.get("/calendar/<token>.ics")
def team_feed(token: str):
    """A team's planned, scheduled and published pieces for calendar apps. The token is
    the only key: a bad or tampered one, or a team since deleted, is not found."""
    try:
        payload = unsign(FEED, token)
    except InvalidToken:
        abort(404)
    team_id = token_id(payload.get("team")) if isinstance(payload, dict) else None
    team = db.session.get(teams.Team, team_id) if team_id else None
    if team is None:
        abort(404)
    host = urlsplit(current_app.config.get("SITE_URL") or "").hostname or "lodestar"
    text = calendar.team_feed(team, now=utcnow(), tz=site_zone(), host=host)
    response = Response(text, mimetype="text/calendar")
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
