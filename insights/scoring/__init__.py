"""Lead scoring, the MQL hand-off to sales and the dormant pool. See docs/INSIGHTS.md,
"Lead scoring and hand-off"."""

SETTINGS = {
    "SCORING_MQL_THRESHOLD": 50,  # a lead at this score or above becomes an MQL
    "SCORING_DECAY_POINTS": 5,  # taken off per SCORING_DECAY_DAYS without activity
    "SCORING_DECAY_DAYS": 14,
    "SCORING_DORMANT_DAYS": 60,  # no activity this long: the dormant pool
    # Owners by rule before round robin: "channel:paid_search=a@example.com; domain:acme.cn=b@example.com"
    "SCORING_ASSIGN_RULES": "",
    # Seconds a process keeps its copy of the rules: a change made by another process or
    # host counts within this time (one made through this process counts at once).
    "SCORING_RULES_TTL": 1.0,
    # Working hours sales have to accept or return an MQL (the response promise), counted
    # in TIMEZONE on these days between these times; the desk and the home count down to it.
    "SCORING_RESPONSE_HOURS": 4,
    "SCORING_WORK_DAYS": "mon,tue,wed,thu,fri",
    "SCORING_WORK_HOURS": "09:00-18:00",
    # Who is mailed a missed promise (comma-separated); empty: every active admin.
    "SCORING_ESCALATION_EMAIL": "",
}


def init_app(app) -> None:
    """Settings, the event and submission receivers, the admin pages, `flask leads rescore`,
    `flask insights dormant`, `flask insights escalate` (also the worker's job), the lead timeline's score changes and the default rules as
    demo data. The default rules come with the migrations too (6c2e9a4d1f70), so a new site
    scores leads without the demo."""
    from flask_babel import lazy_gettext as _l

    from core.config import apply_defaults
    from core.hooks import (
        add_admin_nav,
        add_background_job,
        add_demo_loader,
        add_home_panel,
        add_lead_list_column,
        add_lead_panel,
        add_timeline_provider,
    )
    from gated.signals import lead_captured
    from insights.scoring import admin, cli, demo, desk, engine, handoff, home
    from insights.scoring.promise import WorkingTime
    from insights.signals import event_recorded

    apply_defaults(app, SETTINGS)
    WorkingTime.from_config(app.config)  # a working week that cannot be read stops the start
    app.register_blueprint(admin.bp)
    admin.register_audit_words(app)
    add_admin_nav(
        app, _l("Scoring rules"), "scoring_admin.rules", roles=admin.RULE_ROLES, order=31, group="marketing"
    )
    add_admin_nav(
        app, _l("Hand-off desk"), "scoring_admin.handoffs", roles=admin.SALES_ROLES, order=32, group="sales"
    )
    add_admin_nav(
        app, _l("Weekly review"), "scoring_admin.review", roles=admin.SALES_ROLES, order=33, group="sales"
    )
    add_demo_loader(app, "scoring", demo.load, order=55)
    add_timeline_provider(app, admin.timeline)
    add_lead_panel(app, admin.lead_panel)
    add_lead_list_column(app, _l("Owner"), handoff.owner_names)
    add_home_panel(app, home.handoffs_panel, roles=("sales",), order=20)
    add_home_panel(app, home.returned_panel, roles=("marketer",), order=105)
    add_home_panel(app, home.trends_panel, roles=("marketer",), order=110)
    add_background_job(app, "hand-off promises", desk.escalation_job)
    engine.register_listeners()
    event_recorded.connect(handoff.on_event_recorded, sender=app, weak=False)
    lead_captured.connect(handoff.on_lead_captured, sender=app, weak=False)
    if "leads" in app.cli.commands:
        app.cli.commands["leads"].add_command(cli.rescore_command)
    if "insights" in app.cli.commands:
        app.cli.commands["insights"].add_command(cli.dormant_command)
        app.cli.commands["insights"].add_command(cli.escalate_command)
