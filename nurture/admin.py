"""Marketer admin under /admin/nurture/."""

from flask import Blueprint

from accounts.guards import roles_required

bp = Blueprint("nurture_admin", __name__, url_prefix="/admin/nurture", template_folder="templates")
ROLES = ("marketer",)


@bp.get("/")
@roles_required(*ROLES)
def sequences():
    return "todo"


@bp.get("/queue")
@roles_required(*ROLES)
def queue():
    return "todo"


@bp.get("/outbox")
@roles_required(*ROLES)
def outbox():
    return "todo"
