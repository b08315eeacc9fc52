"""Sequences and their steps: the list, the editor, previews and test sends, a
sequence's page with its figures and enrolled leads, status changes, YAML export."""

from types import SimpleNamespace

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from accounts.guards import roles_required
from core.extensions import db
from core.ids import record_id
from core.listing import chosen_sort, list_args, request_page
from core.signals import send_staff_action
from core.timeutil import utcnow
from gated.models import Lead
from nurture import delays, journey, journey_save, listing, revisions, stats
from nurture.admin import ROLES, bp, mail_preview, queue_test_to_me
from nurture.forms import EnrollFilterForm, EnrollForm, SequenceForm, StepForm
from nurture.labels import nurture_label
from nurture.models import SEQUENCE_STATUSES, Sequence, Step

# The views `sequences` and `set_status` keep their endpoint names: the service is aliased.
from nurture.sequences import export_sequence
from nurture.sequences import set_status as change_sequence_status
from nurture.validation import SequenceError, clean_sequence


@bp.get("/")
@roles_required(*ROLES)
def sequences():
    filters = listing.SequenceFilters.from_args(request.args)
    sort = chosen_sort(listing.SEQUENCE_SORTS, request.args.get("sort"))
    page = request_page(
        filters.query(), sort=sort, id_column=Sequence.id, per_page=listing.PAGE_SIZE, session=db.session
    )
    return render_template(
        "nurture/admin/sequences.html",
        page=page,
        figures=listing.sequence_figures([sequence.id for sequence in page.items]),
        filters=filters,
        args=list_args(filters.as_args(), sort, listing.SEQUENCE_SORTS),
        sort=sort.key,
        statuses=[(status, nurture_label("status", status)) for status in SEQUENCE_STATUSES],
    )


def _sequence_form(sequence: Sequence | None):
    """The form as saved, or a new sequence's defaults and one blank step (on a GET)."""
    form = SequenceForm()
    if request.method == "GET":
        if sequence is not None:
            form.fill(sequence)
        else:
            form.timezone.data = current_app.config["BABEL_DEFAULT_TIMEZONE"]
            form.topic.data = next(
                (choice.value for choice in form.topic.choices if choice.value == "newsletter"), None
            )
            form.add_blank_step()
    return form


def _save(form: SequenceForm, sequence: Sequence | None):
    """Save a valid form as one change (nurture.journey_save); on refusal, the reasons
    beside their step and field (or as flash messages) and None."""
    data = form.to_data()
    if _slug_taken(form, data, sequence):
        _refused(form, _problems_of(data))  # every other problem in the same round
        return None
    try:
        saved, outcome = journey_save.save_journey(
            sequence, data, form.step_ids, now=utcnow(), user_id=current_user.id
        )
    except SequenceError as exc:
        db.session.rollback()
        _refused(form, exc.problems)
        return None
    if outcome != "unchanged":
        send_staff_action("nurture.sequence_saved", user=current_user, target=f"sequence:{saved.id}")
    return saved


def _slug_taken(form: SequenceForm, data: dict, sequence: Sequence | None) -> bool:
    """Another sequence has the slug typed: said beside the slug field."""
    if (sequence is None or data["slug"] != sequence.slug) and db.session.scalar(
        select(Sequence.id).where(Sequence.slug == data["slug"])
    ):
        form.slug.errors = [
            *form.slug.errors,
            _("Another sequence already uses the slug %(slug)s.", slug=data["slug"]),
        ]
        return True
    return False


def _problems_of(data: dict) -> list:
    """What nurture.validation finds wrong with the sequence typed ([] when nothing)."""
    try:
        clean_sequence(data)
    except SequenceError as exc:
        return exc.problems
    return []


def _refused(form: SequenceForm, problems: list) -> None:
    """The reasons beside their step and field, one per field (a field the form's own
    check found wrong keeps that message), the others as flash messages."""
    fresh = [problem for problem in problems if not getattr(form._field_of(problem.field), "errors", None)]
    elsewhere = form.show_problems(fresh)
    flash(_("The sequence was not saved: see the messages beside the fields."), "error")
    for problem in elsewhere:
        flash(problem.translated(), "error")


def _editor(form: SequenceForm, sequence: Sequence | None, status: int = 200):
    """The journey editor: every step as a card, previews for the sample or a real lead."""
    lead = db.session.get(Lead, request.values.get("lead", type=record_id) or 0)
    context = journey.preview_context(lead)
    return render_template(
        "nurture/admin/edit.html",
        form=form,
        sequence=sequence,
        cards=journey.cards(form, sequence, context),
        trigger=journey.trigger_words(form.trigger_kind.data, form.trigger_value.data),
        variables=journey.variables(context),
        preview_leads=journey.preview_leads(sequence),
        preview_lead=lead,
        history=revisions.history(sequence.id) if sequence else [],
        blank_step=StepForm(prefix="steps-0-"),
    ), status


@bp.get("/delay-words")
@roles_required(*ROLES)
def delay_words():
    """A delay as typed, in words for the journey's wait card (or why it does not read),
    and the trigger as typed, in words for its card."""
    trigger = journey.trigger_words(
        request.args.get("trigger_kind", "manual"), request.args.get("trigger_value", "")
    )
    try:
        minutes = delays.parse_delay(request.args.get("delay", "").strip())
    except delays.ScheduleError as exc:
        return {"error": _(exc.template, **exc.params), "trigger": trigger}
    timing = SimpleNamespace(delay_minutes=minutes, delay_from=request.args.get("from", "previous"))
    typed = SimpleNamespace(
        trigger_kind=request.args.get("trigger_kind", "manual"),
        window_days=request.args.getlist("days"),
        window_start=request.args.get("window_start", "00:00"),
        window_end=request.args.get("window_end", "24:00"),
    )
    return {
        "words": delays.delay_words(timing, typed, first=request.args.get("first") == "1"),
        "trigger": trigger,
    }


def _arranged(form: SequenceForm) -> bool:
    """A move / duplicate / add button pressed without the page's script: re-show the
    journey rearranged, saving nothing."""
    action = request.form.get("arrange")
    if request.method != "POST" or not action:
        return False
    form.validate()
    if "csrf_token" in form.errors:
        abort(400)
    form.rearrange(action)
    return True


@bp.route("/new", methods=["GET", "POST"], endpoint="new_sequence", defaults={"sequence_id": None})
@bp.route("/<int:sequence_id>/edit", methods=["GET", "POST"])
@roles_required(*ROLES)
def edit_sequence(sequence_id: int | None):
    """The journey editor of a new sequence (no id) or a saved one."""
    sequence = db.get_or_404(Sequence, sequence_id) if sequence_id is not None else None
    form = _sequence_form(sequence)
    if _arranged(form):
        return _editor(form, sequence)
    if form.validate_on_submit():
        saved = _save(form, sequence)
        if saved is not None:
            if sequence is None:
                flash(_("Sequence saved as a draft. Preview and test it, then activate it."), "success")
            else:
                flash(_("Sequence saved."), "success")
            return redirect(url_for(".sequence", sequence_id=saved.id))
    elif request.method == "POST" and "csrf_token" not in form.errors:
        # The form's own check found something: the sequence's check runs too, so every
        # problem shows in this round, not one kind after the other.
        data = form.to_data()
        _slug_taken(form, data, sequence)
        _refused(form, _problems_of(data))
    return _editor(form, sequence, 422 if request.method == "POST" else 200)


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
    lead = db.session.get(Lead, request.form.get("lead", type=record_id) or 0)
    return mail_preview(*_posted_step(form), context=journey.preview_context(lead))


@bp.get("/<int:sequence_id>/steps/<int:step_id>/preview")
@roles_required(*ROLES)
def saved_preview(sequence_id, step_id):
    """A saved step for the sample lead or `?lead=`, as the editor's frames load it
    (with no script too)."""
    step = db.get_or_404(Step, step_id)
    if step.sequence_id != sequence_id:
        abort(404)
    lead = db.session.get(Lead, request.args.get("lead", type=record_id) or 0)
    return mail_preview(step.subject, step.body, step.sequence.locale, context=journey.preview_context(lead))


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
    return _editor(form, sequence, status)


@bp.get("/<int:sequence_id>")
@roles_required(*ROLES)
def sequence(sequence_id):
    sequence = db.get_or_404(Sequence, sequence_id)
    status = request.args.get("status") or None
    figures = stats.step_figures(sequence)
    return render_template(
        "nurture/admin/sequence.html",
        sequence=sequence,
        figures=figures,
        funnel=stats.step_funnel(figures) if any(row["sent"] for row in figures) else None,
        counts=stats.enrollment_counts(sequence.id),
        enrolled=stats.enrolled_leads(sequence.id, status=status),
        status_filter=status,
        enroll_form=EnrollForm(),
        filter_form=EnrollFilterForm(),
        statuses=SEQUENCE_STATUSES,
        history=revisions.history(sequence.id),
    )


@bp.post("/<int:sequence_id>/status")
@roles_required(*ROLES)
def set_status(sequence_id):
    status = request.form.get("status", "")
    if status not in SEQUENCE_STATUSES:
        abort(400)
    change_sequence_status(sequence_id, status, now=utcnow())
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
    response = current_app.response_class(export_sequence(sequence.slug), mimetype="application/x-yaml")
    response.headers["Content-Disposition"] = f'attachment; filename="{sequence.slug}.yml"'
    return response


# -- enrolling from the lead admin (gated shows these through core.hooks) -----------
