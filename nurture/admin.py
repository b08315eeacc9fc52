"""Marketer admin under /admin/nurture/: sequences and their steps with previews and
test sends, per-step figures and enrolled leads, enrolling from the lead admin, the
message log, the queue, the suppression list and the development Outbox. Marketers and
admins only."""

import re
from datetime import datetime, time
from email import message_from_bytes, policy
from email.parser import BytesHeaderParser
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import select

from accounts.guards import roles_required
from core.extensions import db
from core.ids import page_number, parse_id, record_id
from core.signals import send_staff_action
from core.timeutil import utcnow
from gated.listing import LeadFilters
from gated.models import Lead
from nurture import caps, enrolling, personalise, receivers, services, stats, validation
from nurture.compose import inline_styles, wrap
from nurture.email import Rendered
from nurture.forms import EnrollFilterForm, EnrollForm, SequenceForm, SuppressForm
from nurture.models import MESSAGE_STATUSES, SEQUENCE_STATUSES, Message, Sequence, Suppression

bp = Blueprint("nurture_admin", __name__, url_prefix="/admin/nurture", template_folder="templates")
ROLES = ("marketer",)
PAGE_SIZE = 50
OUTBOX_NAME = re.compile(r"^[0-9]+\.[0-9]+-[0-9a-f]{8}\.eml$")
# What an email shown inside the admin may do: draw itself, nothing else.
SUBJECT_BAR = "padding:10px 16px;background:#fff;border-bottom:1px solid #e2e7ef;font:600 15px/1.4 sans-serif;color:#111827;"
MAIL_FRAME_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data: https: http:; frame-ancestors 'self'"
)


@bp.context_processor
def nurture_admin_globals():
    return {"worker_warning": stats.worker_warning(), "message_error": message_error}


def message_error(error: str | None) -> str:
    """A message's stored error for the admin: the reasons nurture writes itself are
    translated; a mail server's reply and other diagnostics are shown as stored."""
    if error == receivers.NO_ADDRESS:
        return _("The lead has no email address.")
    if error and error.startswith(receivers.NO_LEAD):
        return _("No email address: there is no lead %(id)s.", id=error.removeprefix(receivers.NO_LEAD))
    if error and error.startswith(caps.CAPPED):
        window, _space, limit = error.removeprefix(caps.CAPPED).partition(" ")
        count = limit.strip("()")
        if window == "day":
            return _(
                "Not sent: the address has had %(count)s transactional mails in the last day.", count=count
            )
        return _("Not sent: the address has had %(count)s transactional mails in the last hour.", count=count)
    return error or ""


def _frame(html: str) -> Response:
    """An email (or a message about it) for the sandboxed preview iframe."""
    response = current_app.response_class(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = MAIL_FRAME_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


# -- sequences ----------------------------------------------------------------------


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


def mail_preview(subject: str, body: str, locale: str, *, annotate=None) -> Response:
    """A step (or any marketing mail's subject and body) as typed, rendered for the
    sample lead in the mail layout with its subject above, for a sandboxed iframe; or
    what keeps it from rendering. Campaigns' editor shows its previews through it, and
    its report its click map (`annotate(html)` marks up the rendered mail)."""
    problems = validation.step_problems(subject, body, locale)
    if problems:
        return _frame(render_template("nurture/admin/preview_error.html", problems=problems))
    context = personalise.sample_context(current_app.config)
    rendered_subject, text, html = personalise.render_step(subject, body, context)
    mail = wrap(
        Rendered(rendered_subject, text, inline_styles(html)),
        message_id=0,
        locale=locale,
        transactional=False,
        pixel=False,
    )
    # The subject as a mail client shows it, above the mail.
    body_open = mail.html.index(">", mail.html.index("<body")) + 1
    subject_bar = f'<div style="{SUBJECT_BAR}">{escape(rendered_subject)}</div>'
    page = mail.html[:body_open] + subject_bar + mail.html[body_open:]
    return _frame(annotate(page) if annotate else page)


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


def queue_test_to_me(subject: str, body: str, locale: str) -> int:
    """Queue a test of a step (or a campaign's mail) to the signed-in user and say so, or flash why it would
    not render; the HTTP status of the answer."""
    try:
        services.queue_test(subject, body, to=current_user.email, locale=locale, now=utcnow())
    except services.SequenceError as exc:
        for error in exc.errors:
            flash(error, "error")
        return 422
    flash(
        _(
            "Test mail queued to %(email)s; the worker sends it within a few seconds.",
            email=current_user.email,
        ),
        "success",
    )
    return 200


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


@bp.post("/<int:sequence_id>/enroll")
@roles_required(*ROLES)
def enroll(sequence_id):
    db.get_or_404(Sequence, sequence_id)
    form = EnrollForm()
    if form.validate_on_submit():
        count, unknown = services.enroll_listed(form.leads.data, sequence_id, now=utcnow())
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
        count = services.enroll_filtered(
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
    services.exit_lead(lead_id, "removed", now=utcnow(), sequence_id=sequence_id)
    flash(_("The lead left the sequence."), "success")
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


@bp.get("/messages")
@roles_required(*ROLES)
def messages():
    status = request.args.get("status") or None
    sequence_id = request.args.get("sequence", type=record_id)
    email = (request.args.get("q") or "").strip().lower()
    page = max(request.args.get("page", 1, type=page_number), 1)
    query = select(Message).order_by(Message.id.desc())
    if status in MESSAGE_STATUSES:
        query = query.where(Message.status == status)
    if sequence_id:
        query = query.where(Message.sequence_id == sequence_id)
    if email:
        query = query.where(Message.to_address.contains(email, autoescape=True))
    rows = db.session.scalars(query.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)).all()
    return render_template(
        "nurture/admin/messages.html",
        rows=rows[:PAGE_SIZE],
        has_next=len(rows) > PAGE_SIZE,
        page=page,
        status_filter=status,
        sequence_filter=sequence_id,
        q=email,
        statuses=MESSAGE_STATUSES,
        sequences=db.session.scalars(select(Sequence).order_by(Sequence.name)).all(),
    )


@bp.get("/messages/<int:message_id>")
@roles_required(*ROLES)
def message(message_id):
    return render_template("nurture/admin/message.html", message=db.get_or_404(Message, message_id))


@bp.get("/messages/<int:message_id>/html")
@roles_required(*ROLES)
def message_html(message_id):
    found = db.get_or_404(Message, message_id)
    return _frame(found.body_html or "<p></p>")


@bp.get("/queue")
@roles_required(*ROLES)
def queue():
    return render_template("nurture/admin/queue.html", queue=stats.queue(utcnow()))


# -- suppressions -------------------------------------------------------------------


@bp.route("/suppressions", methods=["GET", "POST"])
@roles_required(*ROLES)
def suppressions():
    form = SuppressForm()
    if form.validate_on_submit():
        services.suppress(form.email.data, "manual", now=utcnow(), detail=f"by {current_user.email}")
        send_staff_action("nurture.suppress", user=current_user, details={"manual": True})
        flash(_("The address will get no more mail."), "success")
        return redirect(url_for(".suppressions"))
    rows = db.session.scalars(select(Suppression).order_by(Suppression.id.desc()).limit(200)).all()
    return render_template("nurture/admin/suppressions.html", form=form, rows=rows)


@bp.post("/suppressions/<int:suppression_id>/remove")
@roles_required("admin")
def remove_suppression(suppression_id):
    services.unsuppress(suppression_id)
    send_staff_action("nurture.unsuppress", user=current_user, target=f"suppression:{suppression_id}")
    flash(_("Suppression removed."), "success")
    return redirect(url_for(".suppressions"))


# -- outbox (development sink) -------------------------------------------------------


def _outbox_path(name: str) -> Path:
    if not OUTBOX_NAME.match(name):
        abort(404)
    path = Path(current_app.config["OUTBOX_DIR"]) / name
    if not path.is_file():
        abort(404)
    return path


@bp.get("/outbox")
@roles_required(*ROLES)
def outbox():
    folder = Path(current_app.config["OUTBOX_DIR"])
    files = (
        sorted((p for p in folder.glob("*.eml") if OUTBOX_NAME.match(p.name)), reverse=True)[:200]
        if folder.is_dir()
        else []
    )
    parser = BytesHeaderParser(policy=policy.default)
    rows = []
    for path in files:
        with path.open("rb") as handle:
            headers = parser.parse(handle)
        rows.append(
            {
                "name": path.name,
                "to": headers.get("To", ""),
                "subject": headers.get("Subject", ""),
                "date": headers.get("Date", ""),
            }
        )
    return render_template(
        "nurture/admin/outbox.html", rows=rows, folder=folder, sink_on=current_app.config["DEV_SMTP_SINK"]
    )


def _parsed(name: str):
    return message_from_bytes(_outbox_path(name).read_bytes(), policy=policy.default)


@bp.get("/outbox/<name>")
@roles_required(*ROLES)
def outbox_mail(name):
    mail = _parsed(name)
    text = mail.get_body(("plain",))
    return render_template(
        "nurture/admin/outbox_mail.html",
        name=name,
        headers=list(mail.items()),
        text=text.get_content() if text else "",
        has_html=mail.get_body(("html",)) is not None,
    )


@bp.get("/outbox/<name>/html")
@roles_required(*ROLES)
def outbox_html(name):
    html = _parsed(name).get_body(("html",))
    return _frame(html.get_content() if html else "<p></p>")
