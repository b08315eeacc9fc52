"""/admin/api: API keys (create, with the secret shown once; revoke; last use), the
API's reference, rendered from /api/v1/openapi.json by the vendored Swagger UI, and the
CRM sync's runs and log. Keys are for admins; every change is a POST with the CSRF token."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from accounts.guards import roles_required
from api import keys
from api.crm import log
from api.forms import KeyForm
from api.models import ApiKey
from core.extensions import db
from core.ids import parse_id
from core.timeutil import utcnow

bp = Blueprint("api_admin", __name__, url_prefix="/admin/api", template_folder="templates")


def _keys_page(form: KeyForm, *, token: str | None = None, status: int = 200):
    rows = db.session.scalars(select(ApiKey).order_by(ApiKey.revoked_at.is_not(None), ApiKey.id.desc())).all()
    return render_template("api/keys.html", form=form, rows=rows, token=token, now=utcnow()), status


@bp.route("/keys", methods=["GET", "POST"])
@roles_required("admin")
def keys_page():
    form = KeyForm()
    if not form.validate_on_submit():
        return _keys_page(form, status=422 if form.errors else 200)
    key, token = keys.create_key(
        form.name.data,
        form.scopes.data,
        now=utcnow(),
        expires_in=keys.parse_expiry(form.expires.data),
        user=current_user._get_current_object(),
    )
    flash(
        _("Key %(prefix)s created. Copy the secret now: it is not shown again.", prefix=key.prefix), "success"
    )
    return _keys_page(KeyForm(formdata=None), token=token)


@bp.route("/keys/<int:key_id>/revoke", methods=["GET", "POST"])
@roles_required("admin")
def revoke(key_id: int):
    """GET asks first (what stops working, that it cannot be undone); POST revokes."""
    key = db.get_or_404(ApiKey, key_id)
    if request.method == "GET":
        return render_template("api/revoke.html", key=key)
    if keys.revoke_key(key, now=utcnow(), user=current_user._get_current_object()):
        flash(_("Key %(prefix)s revoked.", prefix=key.prefix), "success")
    return redirect(url_for("api_admin.keys_page"))


@bp.get("/reference")
@roles_required("admin", "marketer", "sales", "editor")
def reference():
    return render_template("api/reference.html")


@bp.get("/crm")
@roles_required(*log.ROLES)
def crm():
    run_id = parse_id(request.args.get("run", ""))
    return render_template(
        "api/crm.html",
        crm=current_app.config["CRM_ADAPTER"],
        runs=log.latest_runs(),
        rows=log.entries(run_id=run_id),
        run_id=run_id,
    )
