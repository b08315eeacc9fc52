"""/admin/users, for administrators: the staff users, adding one by invitation, a
corrected name or address, another role, deactivating (after a confirmation) and
activating again. Every change goes through accounts.services (the same rules as
`flask users …`) and is recorded in the audit log."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm

from accounts import invitations, services
from accounts.forms import InviteForm, ProfileForm, RoleForm
from accounts.guards import roles_required
from accounts.labels import role_label
from accounts.models import User
from core.extensions import db
from core.signals import send_staff_action
from core.timeutil import utcnow

bp = Blueprint("users_admin", __name__, url_prefix="/admin/users", template_folder="templates")

# What the services refuse, in the reader's words (their own messages are the command line's).
REFUSALS = {
    services.BadEmail: _l("Enter an email address such as name@example.com."),
    services.EmailTaken: _l("A staff user with this address exists already."),
    services.UnknownRole: _l("Choose a role from the list."),
    services.OwnAccount: _l(
        "You cannot change your own role or deactivate yourself; ask another administrator."
    ),
    services.LastAdmin: _l(
        "This is the last active administrator: make another user an administrator first."
    ),
}


def _refusal(exc: services.AccountError) -> str:
    return str(REFUSALS.get(type(exc), exc))


def _actor() -> User:
    return current_user._get_current_object()


def _audited(action: str, user: User, **details) -> None:
    send_staff_action(
        action, user=current_user, target=f"user:{user.id}", details={"email": user.email, **details}
    )


def _user_page(user: User, form: RoleForm, *, profile: ProfileForm | None = None, status: int = 200):
    # Each form on the page reads only its own POST; the other shows what is stored.
    profile = profile or ProfileForm(formdata=None, obj=user)
    page = render_template("accounts/user.html", user=user, form=form, profile=profile, confirm=FlaskForm())
    return page, status


@bp.get("/")
@roles_required("admin")
def index():
    return render_template("accounts/users.html", users=services.staff_users(), confirm=FlaskForm())


@bp.route("/new", methods=["GET", "POST"])
@roles_required("admin")
def new():
    form = InviteForm()
    if form.validate_on_submit():
        try:
            user = invitations.invite_user(
                form.email.data, role=form.role.data, name=form.name.data, inviter=_actor(), now=utcnow()
            )
        except services.AccountError as exc:
            form[exc.field or "email"].errors.append(_refusal(exc))
        else:
            _audited("accounts.user_create", user, name=user.name, role=role_label(user.role))
            flash(
                _("%(email)s is added; an invitation to set a password is on its way.", email=user.email),
                "success",
            )
            return redirect(url_for("users_admin.index"), code=303)
    status = 422 if form.errors else 200
    return render_template("accounts/user_new.html", form=form, days=invitations.invitation_days()), status


@bp.route("/<int:user_id>", methods=["GET", "POST"])
@roles_required("admin")
def edit(user_id: int):
    user = db.get_or_404(User, user_id)
    form = RoleForm(data=None if request.method == "POST" else {"role": user.role})
    if not form.validate_on_submit():
        return _user_page(user, form, status=422 if form.errors else 200)
    old = user.role
    try:
        services.set_role(user.email, form.role.data, actor=_actor())
    except services.AccountError as exc:
        db.session.rollback()
        form.role.errors.append(_refusal(exc))
        return _user_page(user, form, status=422)
    if user.role != old:
        _audited("accounts.user_change", user, role=f"{role_label(old)} → {role_label(user.role)}")
        flash(
            _(
                "%(email)s is now %(role)s; their sessions have ended.",
                email=user.email,
                role=role_label(user.role),
            ),
            "success",
        )
    return redirect(url_for("users_admin.edit", user_id=user.id), code=303)


@bp.post("/<int:user_id>/profile")
@roles_required("admin")
def profile(user_id: int):
    """A corrected name or address (the address is what the user signs in with)."""
    user = db.get_or_404(User, user_id)
    form = ProfileForm()
    role_form = RoleForm(formdata=None, data={"role": user.role})
    if not form.validate_on_submit():
        return _user_page(user, role_form, profile=form, status=422)
    try:
        changes = services.set_profile(user, name=form.name.data, email=form.email.data)
    except services.AccountError as exc:
        db.session.rollback()
        form[exc.field or "email"].errors.append(_refusal(exc))
        return _user_page(user, role_form, profile=form, status=422)
    if changes:
        db.session.commit()
        _audited(
            "accounts.user_change",
            user,
            **{field: f"{before or '—'} → {after or '—'}" for field, (before, after) in changes.items()},
        )
        flash(_("Saved the name and email of %(name)s.", name=user.display_name), "success")
    return redirect(url_for("users_admin.edit", user_id=user.id), code=303)


@bp.route("/<int:user_id>/deactivate", methods=["GET", "POST"])
@roles_required("admin")
def deactivate(user_id: int):
    """GET asks to confirm; POST deactivates."""
    user = db.get_or_404(User, user_id)
    confirm = FlaskForm()
    if not confirm.validate_on_submit():
        return render_template("accounts/user_deactivate.html", user=user, confirm=confirm)
    return _set_active(user, False)


@bp.post("/<int:user_id>/activate")
@roles_required("admin")
def activate(user_id: int):
    user = db.get_or_404(User, user_id)
    if not FlaskForm().validate_on_submit():
        return redirect(url_for("users_admin.edit", user_id=user.id), code=303)
    return _set_active(user, True)


def _set_active(user: User, active: bool):
    try:
        services.set_active(user.email, active, actor=_actor())
    except services.AccountError as exc:
        db.session.rollback()
        flash(_refusal(exc), "error")
    else:
        _audited("accounts.user_change", user, status=_("Active") if active else _("Deactivated"))
        if active:
            flash(_("%(email)s may sign in again.", email=user.email), "success")
        else:
            flash(_("%(email)s is deactivated; their sessions have ended.", email=user.email), "success")
    return redirect(url_for("users_admin.edit", user_id=user.id), code=303)


@bp.post("/<int:user_id>/invitation")
@roles_required("admin")
def invite_again(user_id: int):
    user = db.get_or_404(User, user_id)
    if FlaskForm().validate_on_submit() and not user.has_password and user.active:
        invitations.resend_invitation(user, inviter=_actor(), now=utcnow())
        _audited("accounts.user_change", user, summary=_("Sent a new invitation"))
        flash(_("A new invitation is on its way to %(email)s.", email=user.email), "success")
    return redirect(url_for("users_admin.edit", user_id=user.id), code=303)
