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

    from content.freshness import add_queue_signal
    from core.config import apply_defaults
    from core.hooks import add_admin_nav, add_demo_loader, add_timeline_provider
    from insights import admin, demo, events, receivers, results_admin, scoring, tracking
    from insights.cli import insights_cli
    from insights.labels import insights_label, page_name
    from insights.visits import exits_after_search

    app.add_template_global(insights_label)
    app.add_template_global(page_name)
    if app.testing:
        app.config.setdefault("INSIGHTS_FLUSH_SECONDS", 0.0)
    apply_defaults(app, SETTINGS)
    tracking.init_app(app)
    app.register_blueprint(admin.bp)
    app.cli.add_command(insights_cli)
    add_admin_nav(
        app, _l("Insights"), "insights_admin.dashboard", roles=admin.ROLES, order=30, group="marketing"
    )
    app.register_blueprint(results_admin.bp)
    add_admin_nav(
        app,
        _l("Content results"),
        "insights_results.overview",
        roles=results_admin.ROLES,
        order=45,
        group="content",
    )
    add_queue_signal(app, "exits_after_search", _l("Left the site after a search"), exits_after_search)
    from content.ideas import add_idea_source
    from insights.ideas import high_exit_pages

    add_idea_source(
        app, "high_exit_pages", _l("Pages people leave after a search (last 30 days)"), high_exit_pages
    )
    add_demo_loader(app, "insights", demo.load, order=60)
    add_timeline_provider(app, events.timeline)
    receivers.connect(app)
    scoring.init_app(app)
