"""Login, logout, the staff user's own password and the admin shell."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from accounts import invitations, services
from accounts.forms import AccountForm, LoginForm, NewPasswordForm, PasswordForm, ResetRequestForm
from accounts.guards import ANY_STAFF, roles_required
from core.extensions import limiter
from core.hooks import home_panels
from core.security import rotate_session
from core.signals import send_staff_action
from core.timeutil import utcnow
from core.views import safe_next

bp = Blueprint("accounts", __name__, template_folder="templates")
admin_bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")


def _login_limit():
    return current_app.config["LOGIN_RATE_LIMIT"]


def _login_email_key():
    return "login:" + services.normalise_email(request.form.get("email", ""))


def _sign_in(user, *, remember: bool) -> None:
    """A new session for a sign-in: the old one's contents (its CSRF secret) dropped."""
    rotate_session()
    login_user(user, remember=remember)


def _password_set(user, message: str):
    """After a user set their own password: this browser signed in anew, audited."""
    _sign_in(user, remember=False)
    send_staff_action("accounts.password_change", user=user, target=f"user:{user.id}")
    flash(message, "success")
    return redirect(url_for("admin.dashboard"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_login_email_key)
def login():
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user:
            _sign_in(user, remember=form.remember.data)
            send_staff_action("accounts.sign_in", user=user)
            return redirect(safe_next(form.next.data, url_for("admin.dashboard")))
        send_staff_action(
            "accounts.sign_in_failed", user=None, details={"email": services.normalise_email(form.email.data)}
        )
        flash(_("Wrong email or password."), "error")
        return render_template("accounts/login.html", form=form), 401
    status = 422 if request.method == "POST" else 200
    return render_template("accounts/login.html", form=form), status


@bp.post("/logout")
def logout():
    """Sign out everywhere: with sessions in signed cookies, ending this user's every
    session is the only way to make sure this one's cookie, copied or not, is dead."""
    if current_user.is_authenticated:
        services.end_sessions(current_user)
    logout_user()
    flash(_("You are signed out on every device."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def invitation(token: str):
    """An invited staff user sets their password, then is signed in."""
    site = current_app.config["SITE_NAME"]
    return _password_link_page(
        token,
        find=invitations.invited_user,
        accept=invitations.accept_invitation,
        template="accounts/invitation.html",
        done=_("Your password is set. Welcome to %(site)s.", site=site),
    )


def _password_link_page(token: str, *, find, accept, template: str, done: str):
    """The page a mailed link leads to (an invitation, a password reset): a new password
    under the policy, then signed in; a link that no longer holds says why (410 when it
    expired, 404 otherwise, also when it was used in another tab meanwhile)."""
    form = NewPasswordForm()
    try:
        user = find(token, now=utcnow())
        if form.validate_on_submit():
            return _password_set(accept(token, form.new_password.data, now=utcnow()), done)
    except services.WeakPassword as exc:
        form.new_password.errors.append(str(exc))
    except invitations.InvalidInvitation as exc:
        return render_template(template, form=None, expired=exc.expired), 410 if exc.expired else 404
    return render_template(template, form=form, user=user), 422 if form.errors else 200


@bp.route("/password-reset", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_login_email_key)
def forgot_password():
    """A staff user who forgot their password asks for a link by mail. The answer is the
    same whether the address is a staff user's or not (nobody learns who works here)."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        invitations.request_reset(form.email.data, now=utcnow())
        return render_template("accounts/password_reset.html", form=None, sent_to=form.email.data)
    status = 422 if request.method == "POST" else 200
    return render_template("accounts/password_reset.html", form=form), status


@bp.route("/password-reset/<token>", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def password_reset(token: str):
    """The link of a password reset mail: a new password, then signed in."""
    return _password_link_page(
        token,
        find=invitations.reset_user,
        accept=invitations.accept_reset,
        template="accounts/password_reset_link.html",
        done=_("Your new password is set; you are signed in."),
    )


@admin_bp.route("/password", methods=["GET", "POST"])
@roles_required(*ANY_STAFF)
@limiter.limit(_login_limit, methods=["POST"])
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            user = services.change_password(
                current_user._get_current_object(),
                form.current_password.data,
                form.new_password.data,
                now=utcnow(),
            )
        except services.WrongPassword:
            form.current_password.errors.append(_("This is not your current password."))
        except services.WeakPassword as exc:
            form.new_password.errors.append(str(exc))
        else:
            return _password_set(user, _("Password changed. You are signed out on your other devices."))
    status = 422 if request.method == "POST" else 200
    return render_template("accounts/password.html", form=form), status


@admin_bp.get("/")
@roles_required(*ANY_STAFF)
def dashboard():
    return render_template(
        "accounts/dashboard.html", user=current_user, panels=home_panels(current_app, current_user)
    )


@admin_bp.route("/account", methods=["GET", "POST"])
@roles_required(*ANY_STAFF)
def account():
    """A staff member's own settings: the time zone every admin page and staff mail uses."""
    form = AccountForm(obj=None if request.method == "POST" else current_user)
    if form.validate_on_submit():
        services.set_timezone(current_user, form.timezone.data or None)
        flash(_("Your settings are saved."), "success")
        return redirect(url_for("admin.account"))
    status = 422 if request.method == "POST" else 200
    return render_template("accounts/account.html", form=form, now=utcnow()), status
