"""The campaigns package: segments (saved audiences whose members update themselves), and
the mailings that will be sent to them through nurture's queue. It sits above insights,
whose events segments read. See ../shared/DESIGN.md and docs/CAMPAIGNS.md."""

from flask_babel import lazy_gettext as _l

from core.hooks import add_admin_nav


def init_app(app):
    """Register the package's blueprint and commands."""
    from campaigns import admin
    from campaigns.cli import segments_cli

    app.register_blueprint(admin.bp)
    app.cli.add_command(segments_cli)
    add_admin_nav(app, _l("Segments"), "campaigns_admin.segments_list", roles=("marketer",), order=45)
