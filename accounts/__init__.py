"""Staff accounts: users with roles (admin, editor, marketer, sales), login, the admin shell."""

from flask_babel import lazy_gettext as _l

from core.extensions import db, login_manager
from core.hooks import add_admin_nav, add_demo_loader


def init_app(app):
    from accounts import demo
    from accounts.cli import users_cli
    from accounts.labels import role_label
    from accounts.models import User
    from accounts.views import admin_bp, bp

    app.register_blueprint(bp)
    app.register_blueprint(admin_bp)
    app.cli.add_command(users_cli)
    app.add_template_global(role_label)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(user_id):
        return db.session.get(User, int(user_id))

    add_admin_nav(app, _l("Overview"), "admin.dashboard", order=0)
    add_demo_loader(app, "staff users", demo.load, order=0)
