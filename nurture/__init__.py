"""The nurture package: every outgoing mail (sequences and transactional), the worker
that delivers it (at most one repeat, with the same Message-ID, when a worker dies),
tracking, unsubscribe and suppression, the dev Outbox.
See docs/ARCHITECTURE.md and docs/NURTURE.md."""

from flask_babel import lazy_gettext as _l

from core.config import apply_defaults
from core.hooks import (
    add_admin_nav,
    add_demo_loader,
    add_dev_service,
    add_form_extra,
    add_health_check,
    add_home_panel,
    add_lead_list_action,
    add_lead_panel,
    add_timeline_provider,
)

SETTINGS = {
    # Where the footer of every mail says we are (anti-spam laws ask for it); English
    # mails take the _EN one, written as an English reader's post would be (empty: the
    # first one for every mail).
    "COMPANY_POSTAL_ADDRESS": "上海市浦东新区世纪大道 100 号",
    "COMPANY_POSTAL_ADDRESS_EN": "100 Century Avenue, Pudong New Area, Shanghai, China",
    "MAIL_RATE_PER_SECOND": 20.0,
    "MAIL_RATE_PER_HOUR": 0,
    # Transactional mails one address may get (nurture/caps.py); 0: no limit.
    "MAIL_PER_RECIPIENT_PER_HOUR": 5,
    "MAIL_PER_RECIPIENT_PER_DAY": 20,
    "MAIL_MAX_ATTEMPTS": 8,
    "MAIL_RETRY_SECONDS": 60,
    "MAIL_LIST_ID": "",
    "MAIL_UNSUBSCRIBE_MAILTO": "",
    "MAIL_EVENTS_TOKEN": "",
    "DKIM_PRIVATE_KEY": "",
    "DKIM_SELECTOR": "lodestar",
    "DKIM_DOMAIN": "",
    "NURTURE_BATCH_SIZE": 100,
    "NURTURE_LEASE_SECONDS": 300,
    "NURTURE_WORKER_INTERVAL": 5.0,
    "NURTURE_WORKER_STALE_SECONDS": 600,
    # PostgreSQL's synchronous_commit for the worker's per-mail outcome commits (see docs).
    "NURTURE_SYNCHRONOUS_COMMIT": "on",
    "UNSUBSCRIBE_RATE_LIMIT": "30 per minute",
}


def init_app(app):
    """Register the package's blueprints, commands, signal receivers and demo data."""
    from content.editor import add_picker
    from nurture import (
        admin,
        admin_enroll,
        delays,
        demo,
        exits,
        form_topics,
        home,
        journey,
        labels,
        personalise,
        receivers,
        scheduling,
        sequences,
        sms,
        stats,
        topic_admin,
        topic_merge,
        topics,
        tracking,
        views,
        worker,
    )
    from nurture.cli import nurture_cli
    from nurture.sms import admin as sms_admin

    apply_defaults(app, SETTINGS)
    apply_defaults(app, sms.SETTINGS)
    sms.check_settings(app.config)
    app.register_blueprint(views.bp)
    app.register_blueprint(admin.routes())
    app.register_blueprint(topic_admin.bp)
    app.register_blueprint(sms_admin.bp)
    app.cli.add_command(nurture_cli)
    receivers.connect(app)
    topic_merge.connect(app)
    add_picker(app, "sequence", sequences.sequence_choices)
    add_form_extra(app, form_topics.FIELD, form_topics.render)
    add_admin_nav(
        app, _l("Sequences"), "nurture_admin.sequences", roles=("marketer",), order=40, group="marketing"
    )
    add_admin_nav(
        app, _l("Mail queue"), "nurture_admin.queue", roles=("marketer",), order=41, group="marketing"
    )
    add_admin_nav(
        app, _l("Topics"), "topics_admin.topics_list", roles=("marketer",), order=46, group="marketing"
    )
    add_admin_nav(
        app, _l("SMS outbox"), "sms_admin.outbox", roles=sms_admin.ROLES, order=42, group="marketing"
    )
    add_admin_nav(app, _l("Outbox"), "nurture_admin.outbox", roles=("marketer",), order=42, group="marketing")
    add_demo_loader(app, "nurture", demo.load, order=30)
    add_health_check(app, "mail_queue", stats.health_check)
    add_dev_service(app, "nurture worker", worker.start_dev_worker)
    add_timeline_provider(app, tracking.lead_timeline)
    add_timeline_provider(app, exits.lead_timeline)
    add_lead_panel(app, admin_enroll.lead_panel)
    add_lead_panel(app, topic_admin.lead_panel)
    add_home_panel(app, home.mail_panel, roles=("marketer",), order=50)
    add_lead_list_action(app, admin_enroll.lead_list_action)
    app.add_template_filter(scheduling.format_delay, "nurture_delay")
    app.add_template_filter(delays.wait_words, "nurture_wait")
    app.add_template_filter(labels.day_label, "nurture_day")
    # A step's or a campaign's subject as the sample lead reads it, on every staff screen.
    app.add_template_filter(lambda source: personalise.sample_subject(source, app.config), "sample_subject")
    app.add_template_global(labels.nurture_label)
    app.add_template_global(journey.trigger_target)
    app.add_template_global(topics.topic_name)
    app.add_template_global(topics.topic_description)
    # For the admin dashboard: a sentence when mail is due and no worker runs, else None.
    app.jinja_env.globals["nurture_worker_warning"] = stats.worker_warning
