"""The campaigns package: segments (saved audiences whose members update themselves), and
the mailings that will be sent to them through nurture's queue. It sits above insights,
whose events segments read. See docs/ARCHITECTURE.md and docs/CAMPAIGNS.md."""

from flask_babel import lazy_gettext as _l

from core.config import apply_defaults
from core.hooks import add_admin_nav, set_lead_views

DEFAULTS = {
    # utm_source of a campaign's links to the site (utm_medium "email", utm_campaign its
    # slug); "" leaves them untagged.
    "CAMPAIGN_UTM_SOURCE": "lodestar",
}


def init_app(app):
    """Register the package's blueprint, commands, its kind of mail and the receiver that
    starts due sends at each delivery pass."""
    from campaigns import admin, editor_views, reports, reports_views, resend, segments, sending  # noqa: F401 (routes on admin.bp)
    from campaigns.cli import campaigns_cli, segments_cli
    from nurture.delivery import add_renderer
    from nurture.signals import mail_clicked, mail_complained, pass_started

    apply_defaults(app, DEFAULTS)
    app.register_blueprint(admin.bp)
    app.cli.add_command(segments_cli)
    app.cli.add_command(campaigns_cli)
    add_renderer(app, "campaign", resend.render_message)
    set_lead_views(app, segments.view_choices, segments.view_condition, segments.view_id)
    pass_started.connect(sending.on_pass_started, sender=app, weak=False)
    pass_started.connect(resend.on_pass_started, sender=app, weak=False)
    mail_clicked.connect(reports.on_clicked, sender=app, weak=False)
    mail_complained.connect(reports.on_complained, sender=app, weak=False)
    add_admin_nav(
        app,
        _l("Campaigns"),
        "campaigns_admin.campaigns_list",
        roles=("marketer",),
        order=44,
        group="marketing",
    )
    add_admin_nav(
        app, _l("Segments"), "campaigns_admin.segments_list", roles=("marketer",), order=45, group="marketing"
    )
