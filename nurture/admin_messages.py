"""The message log, the mail queue and the suppression list."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from accounts.guards import roles_required
from core.extensions import db
from core.listing import chosen_sort, list_args, request_page
from core.signals import send_staff_action
from core.timeutil import utcnow
from nurture import listing, stats, suppression
from nurture.admin import ROLES, bp, frame
from nurture.forms import SuppressForm
from nurture.labels import nurture_label
from nurture.models import MESSAGE_KINDS, MESSAGE_STATUSES, Message, Sequence, Suppression


@bp.get("/messages")
@roles_required(*ROLES)
def messages():
    filters = listing.MessageFilters.from_args(request.args)
    sort = chosen_sort(listing.MESSAGE_SORTS, request.args.get("sort"))
    return render_template(
        "nurture/admin/messages.html",
        page=request_page(
            filters.query(), sort=sort, id_column=Message.id, per_page=listing.PAGE_SIZE, session=db.session
        ),
        filters=filters,
        args=list_args(filters.as_args(), sort, listing.MESSAGE_SORTS),
        sort=sort.key,
        statuses=[(status, nurture_label("status", status)) for status in MESSAGE_STATUSES],
        kinds=[(kind, nurture_label("kind", kind)) for kind in MESSAGE_KINDS],
        sequences=db.session.execute(select(Sequence.id, Sequence.name).order_by(Sequence.name)).all(),
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
        suppression.suppress(form.email.data, "manual", now=utcnow(), detail=f"by {current_user.email}")
        send_staff_action("nurture.suppress", user=current_user, details={"manual": True})
        flash(_("The address will get no more mail."), "success")
        return redirect(url_for(".suppressions"))
    rows = db.session.scalars(select(Suppression).order_by(Suppression.id.desc()).limit(200)).all()
    return render_template("nurture/admin/suppressions.html", form=form, rows=rows)


@bp.post("/suppressions/<int:suppression_id>/remove")
@roles_required("admin")
def remove_suppression(suppression_id):
    suppression.unsuppress(suppression_id)
    send_staff_action("nurture.unsuppress", user=current_user, target=f"suppression:{suppression_id}")
    flash(_("Suppression removed."), "success")
    return redirect(url_for(".suppressions"))
