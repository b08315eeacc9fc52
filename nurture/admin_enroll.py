"""Enrolling leads: on a sequence's page (pasted addresses, a filter), from the lead
admin (the lead page's panel, the filtered lead list), and taking a lead out."""

from datetime import datetime, time

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from accounts.guards import roles_required
from core.extensions import db
from core.ids import parse_id, record_id
from core.timeutil import utcnow
from gated.listing import LeadFilters
from gated.models import Lead
from nurture import enrolling, enrolment, exits
from nurture.admin import ROLES, bp
from nurture.forms import EnrollFilterForm, EnrollForm
from nurture.models import Sequence


@bp.post("/<int:sequence_id>/enroll")
@roles_required(*ROLES)
def enroll(sequence_id):
    db.get_or_404(Sequence, sequence_id)
    form = EnrollForm()
    if form.validate_on_submit():
        count, unknown = enrolment.enroll_listed(form.leads.data, sequence_id, now=utcnow())
        flash(
            _(
                "%(count)d leads enrolled (leads already in the sequence or suppressed are skipped).",
                count=count,
            ),
            "success",
        )
        if unknown:
            flash(_("No lead found for: %(entries)s", entries=", ".join(unknown[:20])), "warning")
    else:
        flash(_("Paste at least one email address or lead number."), "error")
    return redirect(url_for(".sequence", sequence_id=sequence_id))


@bp.post("/<int:sequence_id>/enroll-filtered")
@roles_required(*ROLES)
def enroll_filtered(sequence_id):
    """Enroll every consenting lead a filter selects (stage, source, created since)."""
    db.get_or_404(Sequence, sequence_id)
    form = EnrollFilterForm()
    if form.validate_on_submit():
        since = datetime.combine(form.since.data, time()) if form.since.data else None
        count = enrolling.enroll_filtered(
            sequence_id,
            now=utcnow(),
            stage=form.stage.data,
            source=(form.source.data or "").strip(),
            since=since,
            segment=parse_id(form.segment.data),
        )
        flash(
            _(
                "%(count)d leads enrolled (leads already in the sequence or suppressed are skipped).",
                count=count,
            ),
            "success",
        )
    else:
        flash(
            _(
                "Check the filter: %(errors)s",
                errors="; ".join(str(e) for errs in form.errors.values() for e in errs),
            ),
            "error",
        )
    return redirect(url_for(".sequence", sequence_id=sequence_id))


@bp.post("/<int:sequence_id>/leads/<int:lead_id>/remove")
@roles_required(*ROLES)
def remove_lead(sequence_id, lead_id):
    exits.exit_lead(lead_id, "removed", now=utcnow(), sequence_id=sequence_id)
    flash(_("The lead left the sequence."), "success")
    return redirect(url_for(".sequence", sequence_id=sequence_id))


def _refusals() -> dict[str, str]:
    return {
        "sequence": _("Choose an active or paused sequence that has steps."),
        "filter": _("Filter the list first: enrolling never takes every lead at once."),
        "enrolled": _("The lead is already in this sequence; enroll again only on purpose, below."),
        "active": _("The lead is still going through this sequence."),
        "consent": _("The lead has not agreed to marketing mail."),
        "suppressed": _("The address is suppressed: it gets no more mail."),
        "stage": _("The lead is with sales (SQL or customer): sequences are for leads before that."),
        "refused": _("The lead could not be enrolled."),
        "no_email": _(
            "The lead is known by a mobile number only: sequences send mail, and it has no address."
        ),
    }


def lead_panel(lead: Lead) -> Markup:
    """The lead page's Sequences section: where the lead stands, enroll, enroll again."""
    if not current_user.has_role(*ROLES):
        return Markup("")
    return Markup(
        render_template(
            "nurture/admin/_lead_sequences.html",
            lead=lead,
            enrollments=enrolling.lead_enrollments(lead.id),
            sequences=enrolling.enrollable_sequences(),
        )
    )


def lead_list_action(args: dict) -> Markup:
    """The lead list's "enroll these leads in a sequence" form, once the list is filtered."""
    if not args or not current_user.has_role(*ROLES):
        return Markup("")
    return Markup(
        render_template(
            "nurture/admin/_leads_enroll.html", args=args, sequences=enrolling.enrollable_sequences()
        )
    )


@bp.post("/leads/<int:lead_id>/enroll")
@roles_required(*ROLES)
def enroll_lead(lead_id):
    lead = db.get_or_404(Lead, lead_id)
    again = request.form.get("again") == "yes"
    try:
        enrollment = enrolling.enroll_lead(
            lead, request.form.get("sequence", type=record_id), now=utcnow(), again=again
        )
    except enrolling.Refused as refused:
        flash(_refusals()[refused.reason], "error")
    else:
        name = enrollment.sequence.name
        flash(
            _("Enrolled again in %(name)s, from the first step.", name=name)
            if again
            else _("Enrolled in %(name)s.", name=name),
            "success",
        )
    return redirect(url_for("gated_admin.lead", lead_id=lead.id, _anchor="sequences"))


@bp.route("/leads/enroll", methods=["GET", "POST"])
@roles_required(*ROLES)
def enroll_leads():
    """Every lead of the filtered lead list into one sequence, after a confirm step
    that shows how many."""
    filters = LeadFilters.from_args(request.values)
    sequence_id = request.values.get("sequence", type=record_id)
    back = url_for("gated_admin.leads", **filters.as_args())
    try:
        if request.method == "POST" and request.form.get("confirm") == "yes":
            outcome = enrolling.enroll_matching(filters, sequence_id, now=utcnow())
            flash(
                _(
                    "%(enrolled)d of %(matched)d leads enrolled; %(skipped)d skipped (already in the "
                    "sequence, suppressed or with sales), %(unconsented)d without consent to marketing mail.",
                    enrolled=outcome.enrolled,
                    matched=outcome.matched,
                    skipped=outcome.skipped,
                    unconsented=outcome.without_consent,
                ),
                "success",
            )
            return redirect(back)
        sequence, matched, consenting = enrolling.count_matching(filters, sequence_id)
    except enrolling.Refused as refused:
        flash(_refusals()[refused.reason], "error")
        return redirect(back)
    return render_template(
        "nurture/admin/enroll_leads.html",
        sequence=sequence,
        matched=matched,
        consenting=consenting,
        args=filters.as_args(),
        back=back,
    )


# -- messages and queue -------------------------------------------------------------
