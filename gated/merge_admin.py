"""Merging duplicate leads in the admin: from a lead's page pick the other lead (search by
email, phone or name), see both side by side, choose the value that wins for each field
that differs, confirm; the lead page then lists its merges, each with an undo while undo
is safe (gated.merging). Marketers, sales and admins."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from accounts.guards import roles_required
from core.extensions import db
from core.signals import send_staff_action
from core.timeutil import utcnow
from gated import merging
from gated.admin import ROLES, lead_or_404
from gated.models import Lead, LeadMerge

MAX_CANDIDATES = 20
bp = Blueprint("gated_merge", __name__, url_prefix="/admin/leads", template_folder="templates")


@bp.route("/<int:lead_id>/merge", methods=["GET", "POST"])
@roles_required(*ROLES)
def choose(lead_id):
    """Search for the other lead, or (with ?other=) compare the two; a POST merges."""
    lead = lead_or_404(lead_id)
    if request.method == "POST":
        return _merge(lead)
    q = (request.args.get("q") or "").strip()[:200]
    other_id = request.args.get("other", "")
    other = None
    if other_id.isdecimal() and len(other_id) < 12:
        other = db.session.get(Lead, int(other_id))
    candidates = []
    if q and other is None:
        candidates = merging.candidates(lead, q, limit=MAX_CANDIDATES)
    return render_template(
        "gated/admin/merge.html",
        lead=lead,
        other=other,
        q=q,
        candidates=candidates,
        fields=merging.CHOSEN_FIELDS,
        differing=merging.differing_fields(lead, other) if other else [],
        problem="",
    )


def _merge(lead: Lead):
    lead_id = lead.id
    other_id = request.form.get("other", "")
    if not (other_id.isdecimal() and len(other_id) < 12) or request.form.get("confirm") != "yes":
        flash(_("Choose the other lead and confirm."), "error")
        return redirect(url_for("gated_merge.choose", lead_id=lead_id))
    chosen = {name: request.form.get(f"keep_{name}", "a") for name in merging.CHOSEN_FIELDS}
    try:
        log = merging.merge(lead.id, int(other_id), chosen=chosen, user_id=current_user.id, now=utcnow())
    except merging.MergeRefused as exc:
        flash(str(exc), "error")
        return redirect(url_for("gated_merge.choose", lead_id=lead_id))
    send_staff_action(
        "leads.merge",
        user=current_user,
        target=f"lead:{log.lead_id}",
        details={"merged": log.merged_id, "chosen": log.chosen, "log": log.id},
    )
    flash(
        _(
            "Lead #%(merged)d was merged into this lead; its history is here now. You can undo it below.",
            merged=log.merged_id,
        ),
        "success",
    )
    return redirect(url_for("gated_admin.lead", lead_id=log.lead_id) + "#merges")


@bp.post("/merges/<int:log_id>/undo")
@roles_required(*ROLES)
def undo(log_id):
    log = db.session.get(LeadMerge, log_id)
    if log is None:
        abort(404)
    try:
        merging.undo(log.id, user_id=current_user.id, now=utcnow())
    except merging.MergeRefused as exc:
        flash(str(exc), "error")
        return redirect(url_for("gated_admin.lead", lead_id=log.lead_id) + "#merges")
    send_staff_action(
        "leads.merge_undo",
        user=current_user,
        target=f"lead:{log.lead_id}",
        details={"restored": log.merged_id, "log": log.id},
    )
    flash(
        _("The merge was undone: lead #%(merged)d is back with its own history.", merged=log.merged_id),
        "success",
    )
    return redirect(url_for("gated_admin.lead", lead_id=log.merged_id) + "#merges")


def lead_panel(lead: Lead) -> Markup:
    """The lead page's Merges section: the merge button and the lead's merge log."""
    if not current_user.has_role(*ROLES):
        return Markup("")
    logs = merging.merges_of(lead.id)
    return Markup(
        render_template(
            "gated/admin/_merges.html",
            lead=lead,
            logs=logs,
            problems={log.id: merging.undo_problem(log) for log in logs if log.undone_at is None},
        )
    )
