"""What to write next (/admin/content/calendar/ideas): each source's ideas with their
evidence (how often, when last seen) and a form that makes one a planned piece in one
click: the title filled in, the team and date picked. A refused plan shows the page
again with the message beside the field of that idea's form, everything typed kept."""

from datetime import timedelta

from flask import current_app, flash, redirect, render_template
from flask_babel import gettext as _
from flask_login import current_user

from accounts.guards import roles_required
from content import ideas, planning, teams
from content.calendar_admin import audit_plan, calendar_bp, calendar_url, plan_choices, plan_input
from content.forms import KIND_LABELS
from content.ops_forms import PlanForm
from core.localtime import local_today
from core.timeutil import utcnow

# The date a quick plan proposes: a week ahead, time enough to write.
LEAD_TIME = timedelta(days=7)


def _page(form: PlanForm, *, failed: str = "", status: int = 200):
    return render_template(
        "content/calendar/ideas.html",
        groups=ideas.what_to_write_next(current_app, now=utcnow()),
        form=form,
        failed=failed,
        kinds=KIND_LABELS,
        proposed=(local_today() + LEAD_TIME).isoformat(),
    ), status


@calendar_bp.get("/ideas")
@roles_required("editor")
def ideas_page():
    form = PlanForm()
    plan_choices(form)
    return _page(form)


@calendar_bp.post("/ideas/plan")
@roles_required("editor")
def plan_idea():
    """One idea made a plan, owned by the planner when they are in the chosen team."""
    form = PlanForm()
    plan_choices(form)
    if not form.validate():
        return _page(form, failed=form.idea.data or "", status=422)
    user = current_user._get_current_object()
    member = form.team.data is not None and form.team.data in teams.membership(user).writes
    try:
        plan = planning.save_plan(
            None,
            plan_input(form, owner_id=user.id if member else None),
            user=user,
            today=local_today(),
            now=utcnow(),
        )
    except planning.PlanError as exc:
        for name, message in exc.problems.items():
            getattr(form, name, form.title).errors = [str(message)]
        return _page(form, failed=form.idea.data or "", status=422)
    audit_plan("plan_save", plan, idea=plan.idea, target_date=plan.target_date.isoformat())
    flash(_("Planned: %(title)s.", title=plan.title), "success")
    return redirect(calendar_url(plan.target_date, view="month"), code=303)
