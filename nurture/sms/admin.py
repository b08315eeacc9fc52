"""The SMS outbox (/admin/nurture/sms): every text queued, sent or given up, newest
first, with its status, tries and error. Numbers are partly masked and codes never
shown; with SMS_PROVIDER=sink it is where a developer reads the texts."""

from flask import Blueprint, current_app, render_template, request
from sqlalchemy import select

from accounts.guards import roles_required
from core.extensions import db
from core.ids import page_number
from gated.identity import masked
from nurture.sms.models import SMS_STATUSES, SmsMessage
from nurture.sms.texts import masked_params, render

bp = Blueprint("sms_admin", __name__, url_prefix="/admin/nurture/sms")
ROLES = ("marketer",)
PER_PAGE = 50


@bp.get("/")
@roles_required(*ROLES)
def outbox():
    status = request.args.get("status", "")
    page = max(request.args.get("page", 1, type=page_number), 1)
    query = select(SmsMessage).order_by(SmsMessage.id.desc())
    if status in SMS_STATUSES:
        query = query.where(SmsMessage.status == status)
    rows = db.session.scalars(query.offset((page - 1) * PER_PAGE).limit(PER_PAGE + 1)).all()
    config = current_app.config
    shown = [
        {
            "message": row,
            "number": masked(row.to_number),
            "text": render(
                row.template,
                masked_params(row.params, row.secret_params),
                sign=config["SMS_SIGN_NAME"],
                locale=config["DEFAULT_LOCALE"],
            ),
        }
        for row in rows[:PER_PAGE]
    ]
    return render_template(
        "nurture/admin/sms_outbox.html",
        rows=shown,
        status=status,
        statuses=SMS_STATUSES,
        page=page,
        has_next=len(rows) > PER_PAGE,
        provider=config["SMS_PROVIDER"],
    )
