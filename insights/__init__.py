"""The insights package: first-party events (page views, searches, forms, downloads,
mail), the dashboards built on them, lead scoring and the hand-off to sales.
It listens to the signals of content, gated and nurture and is imported by none of them.
See docs/ARCHITECTURE.md and docs/INSIGHTS.md."""


def init_app(app):
    """Register the package's blueprints, commands, signal receivers and demo data."""
    from insights import events, scoring
    from insights.labels import insights_label

    app.add_template_global(insights_label)
    events.init_app(app)
    scoring.init_app(app)
