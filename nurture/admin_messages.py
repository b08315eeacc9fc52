"""The message log, the mail queue and the suppression list."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from accounts.guards import roles_required
from core.extensions import db
from core.ids import page_number, record_id
from core.signals import send_staff_action
from core.timeutil import utcnow
from nurture import services, stats
from nurture.admin import PAGE_SIZE, ROLES, bp, frame
from nurture.forms import SuppressForm
from nurture.models import MESSAGE_STATUSES, Message, Sequence, Suppression


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
    return frame(found.body_html or "<p></p>")


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
