"""The help assistant: answers a question from the help center, asks whether it helped,
and after three unhelpful rounds hands the person to a human or a ticket by their tier.
It uses content's search, gated's leads and nurture's mail queue.
See docs/ARCHITECTURE.md and docs/ASSISTANT.md."""

from flask_babel import lazy_gettext as _l

SETTINGS = {
    "ASSISTANT_ROUNDS": 3,
    "ASSISTANT_MAX_QUESTION": 1000,
    "ASSISTANT_RATE_LIMIT": "10 per minute;100 per hour",
    "ASSISTANT_RETENTION_DAYS": 365,
    # Where a top tier's conversation goes when its account has no (active) owner.
    "ASSISTANT_HUMAN_QUEUE": "support@lodestar.example",
    "ASSISTANT_LINK_MAX_AGE": 90 * 86400,
    # Extra free-mail domains (comma-separated) on top of the built-in list.
    "ASSISTANT_FREE_MAIL_DOMAINS": [],
}


def init_app(app):
    """Register the package's blueprints, commands, signal receivers and demo data."""
    from assistant import admin, demo, home, services, views
    from assistant.cli import assistant_cli
    from core.config import apply_defaults
    from core.hooks import (
        add_admin_nav,
        add_article_figure,
        add_demo_loader,
        add_home_panel,
        add_robots_disallow,
        add_timeline_provider,
    )

    apply_defaults(app, SETTINGS)
    from assistant.review_signal import deflections, unhelpful_offers
    from content.freshness import add_queue_signal

    add_queue_signal(app, "assistant_unhelpful", _l("Did not help in the assistant"), unhelpful_offers)
    from assistant.stats import write_next
    from content.ideas import add_idea_source

    add_idea_source(app, "assistant_unsolved", _l("Questions the assistant could not answer"), write_next)
    add_article_figure(app, "deflections", _l("Assistant deflections"), deflections)
    app.register_blueprint(views.bp)
    app.register_blueprint(admin.bp)
    admin.register_audit_words(app)
    app.cli.add_command(assistant_cli)
    add_admin_nav(
        app,
        _l("Support tickets"),
        "assistant_admin.tickets",
        roles=admin.SUPPORT_ROLES,
        order=60,
        group="support",
    )
    add_admin_nav(
        app,
        _l("Unanswered questions"),
        "assistant_admin.unsolved",
        roles=admin.INSIGHT_ROLES,
        order=61,
        group="support",
    )
    add_admin_nav(
        app,
        _l("Help deflection"),
        "assistant_admin.figures",
        roles=admin.INSIGHT_ROLES,
        order=62,
        group="support",
    )
    add_admin_nav(
        app,
        _l("Customer accounts"),
        "assistant_admin.accounts",
        roles=admin.SUPPORT_ROLES,
        order=63,
        group="support",
    )
    add_admin_nav(
        app,
        _l("Support tiers"),
        "assistant_admin.tier_settings",
        roles=("admin",),
        order=64,
        group="settings",
    )
    add_demo_loader(app, "assistant", demo.load, order=50)
    add_home_panel(app, home.unsolved_panel, roles=("editor",), order=40)
    add_timeline_provider(app, services.lead_timeline)
    # Asking is a GET form: a crawler following it would start conversations.
    add_robots_disallow(app, "/help/ask")
