"""The audit log's admin page (/admin/audit), for admins: filter by who, action, target
and date range, and export what is shown. Reading and exporting it are audited too."""

from flask import Blueprint, Response, render_template, request
from flask_login import current_user

from accounts import audit
from accounts.guards import roles_required
from core.ids import page_number
from core.signals import send_staff_action
from core.timeutil import utcnow

bp = Blueprint("audit", __name__, url_prefix="/admin/audit", template_folder="templates")
PER_PAGE = 50


def _audited(action: str, filters: audit.AuditFilters, **details) -> None:
    send_staff_action(action, user=current_user, details={"filters": filters.as_args(), **details})


@bp.get("/")
@roles_required("admin")
def log():
    filters = audit.AuditFilters.from_args(request.args)
    page = request.args.get("page", 1, type=page_number)
    found, total = audit.entries(filters, page=page, per_page=PER_PAGE)
    _audited("audit.read", filters, page=page)
    return render_template(
        "accounts/audit.html",
        entries=found,
        total=total,
        page=page,
        pages=max(1, -(-total // PER_PAGE)),
        filters=filters,
        args=filters.as_args(),
        actions=audit.known_actions(),
        users=audit.known_users(),
        command_line=audit.COMMAND_LINE,
    )


@bp.get("/export.csv")
@roles_required("admin")
def export():
    filters = audit.AuditFilters.from_args(request.args)
    body = "\ufeff" + audit.export_csv(filters)  # the BOM makes Excel read UTF-8 Chinese
    _audited("audit.export", filters)
    name = f"audit-{utcnow():%Y%m%d-%H%M}.csv"
    return Response(
        body, mimetype="text/csv", headers={"Content-Disposition": f"attachment; filename={name}"}
    )
