"""Staff accounts: users with roles (admin, editor, marketer, sales), login, the admin shell."""

from flask_babel import lazy_gettext as _l

from core.config import apply_defaults
from core.extensions import login_manager
from core.hooks import add_admin_nav, add_background_job, add_demo_loader, add_home_panel, add_robots_disallow
from core.timeutil import utcnow

# Settings of this package with their defaults; each can be set as LODESTAR_<NAME>.
DEFAULTS = {
    # Days an audit log entry is kept (the worker prunes older ones); 0 keeps them for ever.
    "AUDIT_RETENTION_DAYS": 730,
    # Days the link in a new staff user's invitation works.
    "INVITATION_DAYS": 7,
    # Hours the link in a forgotten password's mail works.
    "PASSWORD_RESET_HOURS": 2,
}


def init_app(app):
    from accounts import audit, audit_views, demo, home, services, users_admin
    from accounts.cli import users_cli
    from accounts.labels import audit_action_label, audit_details, register_audit_words, role_label
    from accounts.views import admin_bp, bp

    app.register_blueprint(bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(audit_views.bp)
    app.register_blueprint(users_admin.bp)
    add_robots_disallow(app, "/invitation/")
    apply_defaults(app, DEFAULTS)
    audit.init_app(app)
    add_background_job(app, "audit retention", audit.prune)
    app.add_template_global(audit_action_label)
    app.add_template_global(audit_details)
    register_audit_words(app)
    app.cli.add_command(users_cli)
    app.add_template_global(role_label)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(key):
        """The user a session or remember cookie names, if that sign-in still holds."""
        return services.user_for_login_key(key, now=utcnow())

    add_admin_nav(app, _l("Overview"), "admin.dashboard", order=0)
    add_demo_loader(app, "staff users", demo.load, order=0)
    add_admin_nav(app, _l("Staff users"), "users_admin.index", roles=("admin",), order=90, group="settings")
    add_admin_nav(app, _l("Audit log"), "audit.log", roles=("admin",), order=95, group="settings")
    add_home_panel(app, home.health_panel, roles=("admin",), order=900)
