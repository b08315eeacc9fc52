"""/admin/scoring: the rule editor (marketers, admins), hand-offs (sales see their own),
a lead's score explained with a re-enrol button, and the dormant pool."""

from datetime import timedelta

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    has_request_context,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from accounts.guards import roles_required
from core.extensions import db
from core.hooks import add_audit_words
from core.signals import send_staff_action
from core.timeutil import utcnow
from gated.models import Lead
from insights.scoring import desk, engine, handoff
from insights.scoring import dormant as dormant_pool
from insights.scoring import review as weekly
from insights.scoring import rules as rule_service
from insights.scoring.forms import FIELD_LABELS, RETURN_REASON_LABELS, DecisionForm, ReenrollForm, RuleForm
from insights.scoring.models import Handoff, LeadScoring, ScoreChange, ScoreRule

RULE_ROLES = ("marketer", "admin")
SALES_ROLES = ("sales", "marketer", "admin")
bp = Blueprint("scoring_admin", __name__, url_prefix="/admin/scoring", template_folder="../templates")

# Each refusal of the rule service, as the message shown beside the field it is about.
RULE_ERRORS = {
    "event_kind": ("event_kind", _l("Choose the event an action rule scores.")),
    "field": ("field", _l("An action rule matches the page path, the value, the reference id or anything.")),
    "ref_id": ("pattern", _l("A reference id is a whole number.")),
    "fit": (
        "pattern",
        _l(
            "A fit rule needs a lead field (role, job title, email domain, company) and at least one keyword."
        ),
    ),
    "kind": ("kind", _l("A rule is an action rule or a fit rule.")),
}


def _save(form: RuleForm, rule: ScoreRule | None):
    if not form.validate_on_submit():
        return None
    try:
        saved = rule_service.save_rule(rule, form.data)
    except rule_service.RuleError as exc:
        db.session.rollback()
        name, message = RULE_ERRORS[str(exc)]
        form[name].errors = [*form[name].errors, str(message)]
        return None
    send_staff_action(
        "settings.scoring_rule", user=current_user, target=f"rule:{saved.id}", details={"saved": saved.name}
    )
    return saved


@bp.route("/rules", methods=["GET", "POST"])
@roles_required(*RULE_ROLES)
def rules():
    form = RuleForm()
    if _save(form, None):
        flash(_("Rule saved. Run “flask leads rescore” to apply it to past events."), "success")
        return redirect(url_for(".rules"))
    listed = db.session.scalars(select(ScoreRule).order_by(ScoreRule.kind, ScoreRule.id)).all()
    return render_template(
        "insights/scoring_rules.html", form=form, rules=listed, labels=FIELD_LABELS, rule=None
    )


@bp.route("/rules/<int:rule_id>", methods=["GET", "POST"])
@roles_required(*RULE_ROLES)
def edit_rule(rule_id):
    rule = db.get_or_404(ScoreRule, rule_id)
    form = RuleForm(obj=rule)
    if _save(form, rule):
        flash(_("Rule saved. Run “flask leads rescore” to apply it to past events."), "success")
        return redirect(url_for(".rules"))
    return render_template(
        "insights/scoring_rules.html", form=form, rules=None, labels=FIELD_LABELS, rule=rule
    )


@bp.post("/rules/<int:rule_id>/delete")
@roles_required(*RULE_ROLES)
def delete_rule(rule_id):
    from flask_wtf import FlaskForm

    rule = db.get_or_404(ScoreRule, rule_id)
    if FlaskForm().validate_on_submit():
        rule_id, name = rule.id, rule.name
        db.session.delete(rule)
        db.session.commit()
        send_staff_action(
            "settings.scoring_rule", user=current_user, target=f"rule:{rule_id}", details={"deleted": name}
        )
        flash(_("Rule deleted."), "success")
    return redirect(url_for(".rules"))


def _own(query):
    if current_user.has_role("marketer"):
        return query
    return query.where(Handoff.owner_id == current_user.id)


@bp.get("/handoffs")
@roles_required(*SALES_ROLES)
def handoffs():
    """The hand-off desk: the MQLs waiting for a decision, oldest promise first."""
    return _desk()


def _desk(failed: int | None = None, failed_form: DecisionForm | None = None, status: int = 200):
    now = utcnow()
    items = desk.pending(current_user, now=now)
    decided = db.session.execute(
        _own(
            select(Handoff, Lead)
            .join(Lead, Lead.id == Handoff.lead_id)
            .where(Handoff.outcome != "pending")
            .order_by(Handoff.decided_at.desc(), Handoff.id.desc())
            .limit(10)
        )
    ).all()
    forms = {item.handoff.id: failed_form if item.handoff.id == failed else DecisionForm() for item in items}
    page = render_template(
        "insights/scoring_handoffs.html",
        items=items,
        forms=forms,
        decided=decided,
        hours=desk.promise_hours(),
        clock=desk.clock(now=now),
        reason_labels=RETURN_REASON_LABELS,
        now=now,
    )
    return page, status


@bp.post("/handoffs/<int:handoff_id>")
@roles_required(*SALES_ROLES)
def decide(handoff_id):
    form = DecisionForm()
    if not form.validate_on_submit():
        return _desk(handoff_id, form, 422)
    try:
        decided = handoff.decide(
            handoff_id,
            form.outcome.data,
            form.reason_words(),
            user=current_user,
            now=utcnow(),
            reason_code=form.reason_code.data or "",
            note=form.note.data or "",
        )
    except LookupError:
        abort(404)
    except rule_service.RuleError:
        db.session.rollback()
        form.reason_code.errors.append(_("Choose why you return the lead."))
        return _desk(handoff_id, form, 422)
    send_staff_action(
        "sales.handoff_decision",
        user=current_user,
        target=f"lead:{decided.lead_id}",
        details={"outcome": decided.outcome, "reason": decided.reason},
    )
    flash(_("Accepted.") if decided.outcome == "accepted" else _("Returned to marketing."), "success")
    return redirect(url_for(".handoffs"), code=303)


@bp.get("/review")
@roles_required(*SALES_ROLES)
def review():
    """The weekly review: every lead handed over in a week and what became of it."""
    try:
        monday = weekly.week_of(request.args.get("week"))
    except ValueError:
        abort(404)
    week = weekly.review(monday)
    if request.args.get("format") == "csv":
        from core.spreadsheet import csv_download, csv_text

        header, rows = weekly.csv_rows(week, tz=current_app.config["TIMEZONE"])
        send_staff_action("sales.review_export", user=current_user, target=f"week:{monday.isoformat()}")
        return csv_download(csv_text(header, rows), f"handoffs-{monday.isoformat()}.csv")
    return render_template(
        "insights/scoring_review.html",
        week=week,
        previous=(monday - timedelta(days=7)).isoformat(),
        following=(monday + timedelta(days=7)).isoformat(),
        last_day=monday + timedelta(days=6),
        reason_labels=RETURN_REASON_LABELS,
    )


def _may_see(lead_id: int) -> bool:
    if current_user.has_role("marketer"):
        return True
    return (
        db.session.scalar(
            select(Handoff.id).where(Handoff.lead_id == lead_id, Handoff.owner_id == current_user.id).limit(1)
        )
        is not None
    )


def _sequence_choices():
    from nurture.models import Sequence

    return [
        (s.id, s.name)
        for s in db.session.scalars(
            select(Sequence).where(Sequence.status == "active").order_by(Sequence.name)
        )
    ]


@bp.route("/leads/<int:lead_id>", methods=["GET", "POST"])
@roles_required(*SALES_ROLES)
def lead(lead_id):
    """The score is a section of the lead's one page now: a GET answers 301 there (old
    links and hand-off mails keep working); the re-enrol form of that section posts here."""
    if request.method == "GET":
        return redirect(url_for("gated_admin.lead", lead_id=lead_id, _anchor="score"), code=301)

    db.get_or_404(Lead, lead_id)
    if not _may_see(lead_id):
        abort(403)
    form = ReenrollForm()
    form.sequence.choices = _sequence_choices()
    if form.validate_on_submit():
        from nurture.enrolment import enroll

        if enroll([lead_id], form.sequence.data, now=utcnow(), source="dormant", reenroll=True):
            flash(_("The lead re-entered the sequence."), "success")
        else:
            flash(_("The lead could not join the sequence (already in it, or no consent)."), "error")
    return redirect(url_for("gated_admin.lead", lead_id=lead_id, _anchor="score"))


def lead_panel(lead) -> Markup:
    """The score section of the lead page: the score, why (points by reason), the owner,
    activity and dormancy, the score's history and, for who may act, re-entering a
    sequence. Sales see it for the leads handed to them; marketers and admins for all."""
    if not current_user.has_role(*SALES_ROLES) or not _may_see(lead.id):
        return Markup("")
    form = ReenrollForm()
    form.sequence.choices = _sequence_choices()
    changes = db.session.scalars(
        select(ScoreChange)
        .where(ScoreChange.lead_id == lead.id)
        .order_by(ScoreChange.at.desc(), ScoreChange.id.desc())
        .limit(200)
    ).all()
    return Markup(
        render_template(
            "insights/_score_panel.html",
            lead=lead,
            state=db.session.get(LeadScoring, lead.id),
            reasons=engine.reasons(lead.id),
            changes=changes,
            form=form,
            owner=handoff.owner_of(lead.id),
        )
    )


@bp.get("/dormant")
@roles_required(*SALES_ROLES)
def dormant():
    return render_template("insights/scoring_dormant.html", rows=dormant_pool.dormant_leads())


def timeline(lead_id: int) -> list[dict]:
    """The lead page's timeline: each score change with its reason."""
    changes = db.session.scalars(
        select(ScoreChange).where(ScoreChange.lead_id == lead_id).order_by(ScoreChange.at.desc()).limit(100)
    ).all()
    if not changes:
        return []
    url = url_for("gated_admin.lead", lead_id=lead_id, _anchor="score") if has_request_context() else None
    return [
        {
            "at": change.at,
            "kind": "score",
            "text": _("Score %(points)+d: %(reason)s", points=change.points, reason=_reason(change.reason)),
            "url": url,
        }
        for change in changes
    ]


def _reason(reason: str) -> str:
    if reason == engine.REJECTED:
        return _("rejected by sales")
    return _("inactivity") if reason == "decay" else reason


HANDOFF_OUTCOME_LABELS = {"accepted": _l("Accepted"), "rejected": _l("Returned")}


def register_audit_words(app) -> None:
    """The audit page reads a hand-off decision's outcome and return reason in words."""
    add_audit_words(app, "sales.handoff_decision", "outcome", HANDOFF_OUTCOME_LABELS)
    add_audit_words(app, "sales.handoff_decision", "reason", RETURN_REASON_LABELS)
