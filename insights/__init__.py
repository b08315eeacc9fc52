"""The insights package: first-party events (page views, searches, forms, downloads,
mail), the dashboards built on them, lead scoring and the hand-off to sales.
It listens to the signals of content, gated and nurture and is imported by none of them.
See docs/ARCHITECTURE.md and docs/INSIGHTS.md."""

# Settings of the package with their defaults; each can be set as LODESTAR_<NAME>.
SETTINGS = {
    # Raw events older than this are deleted by `flask insights rollup` once their day is
    # in the daily aggregates (the dashboards read those).
    "INSIGHTS_RETENTION_DAYS": 400,
    # Page views wait in memory at most this long (0: only when a batch is full, or on
    # demand; tests flush by hand).
    "INSIGHTS_FLUSH_SECONDS": 2.0,
    "INSIGHTS_BATCH_SIZE": 500,
    "INSIGHTS_BUFFER_MAX": 20000,
    "INSIGHTS_VISITOR_COOKIE_DAYS": 365,
}


def init_app(app):
    """Settings, page-view tracking, the dashboards, `flask insights`, demo events, the
    receivers that turn other packages' signals into events, and scoring."""
    from flask_babel import lazy_gettext as _l

    from core.config import apply_defaults
    from core.hooks import add_admin_nav, add_demo_loader, add_timeline_provider
    from insights import admin, demo, events, receivers, scoring, tracking
    from insights.cli import insights_cli
    from insights.labels import insights_label

    app.add_template_global(insights_label)
    if app.testing:
        app.config.setdefault("INSIGHTS_FLUSH_SECONDS", 0.0)
    apply_defaults(app, SETTINGS)
    tracking.init_app(app)
    app.register_blueprint(admin.bp)
    app.cli.add_command(insights_cli)
    add_admin_nav(
        app, _l("Insights"), "insights_admin.dashboard", roles=admin.ROLES, order=30, group="marketing"
    )
    add_demo_loader(app, "insights", demo.load, order=60)
    add_timeline_provider(app, events.timeline)
    receivers.connect(app)
    scoring.init_app(app)
