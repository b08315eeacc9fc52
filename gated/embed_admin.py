"""The embedded forms' admin (/admin/leads/embed): for each form the snippet to copy, the
sites it may be embedded on and the sites it is seen on. Marketers and admins."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from accounts.guards import roles_required
from core.signals import send_staff_action
from core.timeutil import utcnow
from gated import embedding

ROLES = ("marketer", "admin")
bp = Blueprint("gated_embed_admin", __name__, url_prefix="/admin/leads/embed", template_folder="templates")


@bp.get("/")
@roles_required(*ROLES)
def forms(errors=None, status=200):
    return (
        render_template(
            "gated/admin/embed.html",
            forms=embedding.listing(now=utcnow()),
            site_origins=embedding.site_origins(),
            errors=errors or {},
        ),
        status,
    )


@bp.post("/origins")
@roles_required(*ROLES)
def save_origins():
    path = request.form.get("form", "")
    if embedding.form_for_path(path) is None:
        flash(_("Choose a form from the list."), "error")
        return redirect(url_for("gated_embed_admin.forms"))
    before = embedding.form_origins(path)
    try:
        origins = embedding.save_origins(path, request.form.get("origins", ""), now=utcnow())
    except ValueError as exc:
        message = _("Not a site's address: %(entries)s. Write each as https://example.com.", entries=str(exc))
        return forms(errors={path: message}, status=422)
    send_staff_action(
        "leads.embed_settings",
        user=current_user,
        target=f"form:{path}",
        details={"from": before, "to": origins},
    )
    flash(_("Saved: the sites allowed to embed this form."), "success")
    return redirect(url_for("gated_embed_admin.forms") + "#form-" + path.replace("/", "-"))
