"""Sequences and their steps: the list, the editor, previews and test sends, a
sequence's page with its figures and enrolled leads, status changes, YAML export."""

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from accounts.guards import roles_required
from core.extensions import db
from core.ids import record_id
from core.timeutil import utcnow
from nurture import services, stats
from nurture.admin import ROLES, bp, mail_preview, queue_test_to_me
from nurture.forms import EnrollFilterForm, EnrollForm, SequenceForm
from nurture.models import SEQUENCE_STATUSES, Sequence


@bp.get("/")
@roles_required(*ROLES)
def sequences():
    return render_template("nurture/admin/sequences.html", rows=stats.sequences_overview())


def _sequence_form(sequence: Sequence | None):
    form = SequenceForm()
    if request.method == "GET":
        if sequence is not None:
            form.fill(sequence)
        else:
            form.timezone.data = current_app.config["BABEL_DEFAULT_TIMEZONE"]
            form.topic.data = next(
                (choice.value for choice in form.topic.choices if choice.value == "newsletter"), None
            )
    return form


def _save(form: SequenceForm, sequence: Sequence | None):
    """Save a valid form; on refusal, the reasons as flash messages and None."""
    data = form.to_data()
    if sequence is not None and data["slug"] != sequence.slug:
        taken = db.session.scalar(select(Sequence.id).where(Sequence.slug == data["slug"]))
        if taken:
            flash(_("Another sequence already uses the slug %(slug)s.", slug=data["slug"]), "error")
            return None
        sequence.slug = data["slug"]
    try:
        saved, _outcome = services.save_sequence(data, now=utcnow())
    except services.SequenceError as exc:
        db.session.rollback()
        elsewhere = form.show_problems(exc.problems)
        if len(elsewhere) < len(exc.problems):
            flash(_("The sequence was not saved: see the messages beside the fields."), "error")
        for problem in elsewhere:
            flash(problem.translated(), "error")
        return None
    return saved


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*ROLES)
def new_sequence():
    form = _sequence_form(None)
    if request.method == "GET":
        form.add_blank_step()
    if form.validate_on_submit():
        if db.session.scalar(select(Sequence.id).where(Sequence.slug == form.slug.data.strip())):
            flash(_("Another sequence already uses the slug %(slug)s.", slug=form.slug.data), "error")
        else:
            saved = _save(form, None)
            if saved is not None:
                flash(_("Sequence saved as a draft. Preview and test it, then activate it."), "success")
                return redirect(url_for(".sequence", sequence_id=saved.id))
    status = 422 if request.method == "POST" else 200
    return render_template("nurture/admin/edit.html", form=form, sequence=None), status


@bp.route("/<int:sequence_id>/edit", methods=["GET", "POST"])
@roles_required(*ROLES)
def edit_sequence(sequence_id):
    sequence = db.get_or_404(Sequence, sequence_id)
    form = _sequence_form(sequence)
    if form.validate_on_submit():
        saved = _save(form, sequence)
        if saved is not None:
            flash(_("Sequence saved."), "success")
            return redirect(url_for(".sequence", sequence_id=saved.id))
    status = 422 if request.method == "POST" else 200
    return render_template("nurture/admin/edit.html", form=form, sequence=sequence), status


def _posted_step(form: SequenceForm):
    """The step the Preview / Send test button belongs to, as typed (maybe unsaved)."""
    try:
        index = int(request.form.get("step", "0"))
        entry = form.steps.entries[index].form
    except (ValueError, IndexError):
        abort(400)
    return entry.subject.data or "", entry.body.data or "", form.locale.data or "zh-CN"


@bp.post("/preview")
@roles_required(*ROLES)
def preview():
    """One step rendered for the sample lead, in the mail layout: the iframe of the
    editor shows it (the Preview button posts here; the editor's script does it live)."""
    form = SequenceForm()
    if not form.validate_on_submit() and "csrf_token" in form.errors:
        abort(400)
    return mail_preview(*_posted_step(form))


@bp.post("/test-send")
@roles_required(*ROLES)
def test_send():
    """Queue the step as typed to the signed-in user; the worker delivers it."""
    form = SequenceForm()
    form.validate_on_submit()
    if "csrf_token" in form.errors:
        abort(400)
    subject, body, locale = _posted_step(form)
    status = queue_test_to_me(subject, body, locale)
    sequence = db.session.get(Sequence, request.form.get("sequence_id", type=record_id) or 0)
    return render_template("nurture/admin/edit.html", form=form, sequence=sequence), status


@bp.get("/<int:sequence_id>")
@roles_required(*ROLES)
def sequence(sequence_id):
    sequence = db.get_or_404(Sequence, sequence_id)
    status = request.args.get("status") or None
    return render_template(
        "nurture/admin/sequence.html",
        sequence=sequence,
        figures=stats.step_figures(sequence),
        counts=stats.enrollment_counts(sequence.id),
        enrolled=stats.enrolled_leads(sequence.id, status=status),
        status_filter=status,
        enroll_form=EnrollForm(),
        filter_form=EnrollFilterForm(),
        statuses=SEQUENCE_STATUSES,
    )


@bp.post("/<int:sequence_id>/status")
@roles_required(*ROLES)
def set_status(sequence_id):
    status = request.form.get("status", "")
    if status not in SEQUENCE_STATUSES:
        abort(400)
    services.set_status(sequence_id, status, now=utcnow())
    flash(_("Status changed to %(status)s.", status=_status_label(status)), "success")
    return redirect(url_for(".sequence", sequence_id=sequence_id))


def _status_label(status: str) -> str:
    return {"draft": _("draft"), "active": _("active"), "paused": _("paused"), "archived": _("archived")}.get(
        status, status
    )


@bp.post("/<int:sequence_id>/steps/<int:position>/test")
@roles_required(*ROLES)
def test_saved_step(sequence_id, position):
    sequence = db.get_or_404(Sequence, sequence_id)
    step = next((s for s in sequence.steps if s.position == position), None) or abort(404)
    queue_test_to_me(step.subject, step.body, sequence.locale)
    return redirect(url_for(".sequence", sequence_id=sequence_id))


@bp.get("/<int:sequence_id>/export")
@roles_required(*ROLES)
def export(sequence_id):
    sequence = db.get_or_404(Sequence, sequence_id)
    response = current_app.response_class(
        services.export_sequence(sequence.slug), mimetype="application/x-yaml"
    )
    response.headers["Content-Disposition"] = f'attachment; filename="{sequence.slug}.yml"'
    return response


# -- enrolling from the lead admin (gated shows these through core.hooks) -----------
