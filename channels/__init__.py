"""The channels package: short links (/s/<code>) with their QR codes, staff and partner
sharing (全员营销) with its leaderboard, and the advisers' 企业微信 contact QR images. It sits
above gated (whose lead_captured signal credits a lead to the link that brought it) and
content. See docs/ARCHITECTURE.md and docs/CHANNELS.md."""

from flask_babel import lazy_gettext as _l

from core.hooks import (
    add_admin_nav,
    add_advisor_card,
    add_article_panel,
    add_demo_loader,
    add_home_panel,
    add_insights_panel,
    add_lead_panel,
)

DEFAULTS = {
    # The largest 企业微信 contact QR image an adviser may upload, in bytes.
    "ADVISOR_QR_MAX_BYTES": 512 * 1024,
    # Visits to /s/<code> per IP that are counted; past it a live link still redirects
    # (uncounted) and an unknown code answers 429. Generous: a booth's Wi-Fi is one IP.
    "SHORT_LINK_RATE_LIMIT": "60 per minute;600 per hour",
}


def init_app(app):
    """Register the blueprints, the receiver that credits leads to links, and the sections
    this package adds to the article, lead and home pages and to thank-you pages."""
    from channels import admin, advisors, demo, share_admin, sharing, views
    from channels.labels import channel_words
    from core.config import apply_defaults
    from gated.signals import lead_captured

    apply_defaults(app, DEFAULTS)
    app.add_template_global(channel_words)
    app.register_blueprint(views.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(share_admin.bp)
    lead_captured.connect(sharing.credit_lead, sender=app, weak=False)
    add_article_panel(app, share_admin.article_panel)
    add_lead_panel(app, share_admin.lead_panel)
    add_home_panel(app, share_admin.home_panel, order=60)
    # Every staff member shares (sales most): the index of what may be shared.
    add_admin_nav(app, _l("Share content"), "channels_share.index", order=5)
    add_insights_panel(app, share_admin.insights_panel)
    add_advisor_card(app, advisors.render_card)
    add_demo_loader(app, "short links", demo.load, order=70)
    for order, (label, endpoint) in enumerate(
        (
            (_l("Short links"), "channels_admin.links_list"),
            (_l("Sharing leaderboard"), "channels_admin.leaderboard"),
            (_l("Partners"), "channels_admin.partners"),
            (_l("Advisers' QR codes"), "channels_admin.advisor_cards"),
        ),
        start=46,
    ):
        add_admin_nav(app, label, endpoint, roles=admin.ROLES, order=order, group="marketing")
