"""The gated package: gated files, lead forms, leads and their attribution, signed
downloads, consent, the lead admin and the `flask leads` commands. See docs/LEADS.md.
"""

from flask_babel import lazy_gettext as _l

# Settings of this package with their defaults; each can be set as LODESTAR_<NAME>.
DEFAULTS = {
    "DOWNLOAD_LINK_MAX_AGE": 7 * 86400,
    "CONFIRM_LINK_MAX_AGE": 30 * 86400,
    "LEAD_COOKIE_MAX_AGE": 365 * 86400,
    "PARTNER_DOMAINS": [],
    "SITE_HOSTS": [],
    "CONSENT_REQUIRED": False,
    "CONSENT_VERSION": "2026-11-01",
    # The site's privacy notice (a path such as /help/privacy, or a full URL): every lead
    # form links it; none set, the forms name no notice they cannot show.
    "PRIVACY_URL": "",
    "CONSENT_TEXT": "",
    "DOUBLE_OPT_IN": False,
    "FORM_MIN_FILL_SECONDS": 3,
    "FORM_CHALLENGE": "auto",
    # PBKDF2 rounds per try; about 256 tries on average: well under a second in a browser.
    "FORM_CHALLENGE_COST": 1000,
    "FORM_CHALLENGE_MAX_AGE": 600,
    "HELD_CONFIRM_MAX_AGE": 7 * 86400,
    "HELD_SUBMISSION_DAYS": 30,
    "PROGRESSIVE_FIELDS": 2,
    "FORM_MAX_BYTES": 64 * 1024,
    "SUBMISSION_RETENTION_DAYS": 365,
    "LEAD_WEBHOOK_URL": "",
    "LEAD_WEBHOOK_SECRET": "",
    "LEAD_WEBHOOK_TIMEOUT": 5.0,
    "LEAD_WEBHOOK_MAX_ATTEMPTS": 8,
    "LEADS_PER_PAGE": 50,
    # Origins (https://partner.example) every lead form may be embedded on; each form adds
    # its own in the admin (Leads → Embedded forms).
    "EMBED_ORIGINS": [],
    # email | phone | email_or_phone; unset: email_or_phone for a zh_CN site, else email
    # (gated.identity). Overrides per form: "demo=email,newsletter=email".
    "FORM_IDENTITY": "",
    "FORM_IDENTITY_OVERRIDES": [],
    "PHONE_REGION": "CN",
    "PHONE_ALLOWED_REGIONS": [],
    # SMS codes on forms that ask for a phone (gated.phonecodes): auto | on | off, and
    # per form "demo=off,whitepaper=on".
    "SMS_CODE_FORMS": "auto",
    "SMS_CODE_OVERRIDES": [],
    "SMS_CODE_VALID_SECONDS": 300,
    "SMS_CODE_MAX_ATTEMPTS": 5,
    "SMS_CODE_RESEND_SECONDS": 60,
    "SMS_CODE_PER_NUMBER_PER_HOUR": 5,
    "SMS_CODE_PER_IP_PER_HOUR": 20,
    "SMS_CODE_RATE_LIMIT": "5 per minute;30 per hour",
}


def _challenge_mode(value) -> str:
    """FORM_CHALLENGE, checked at start: a typo must not switch the check off."""
    from core.config import SettingsError
    from gated.holding import MODES

    mode = str(value).strip().lower()
    if mode not in MODES:
        raise SettingsError(f"LODESTAR_FORM_CHALLENGE must be one of {', '.join(MODES)}, not {value!r}.")
    return mode


def _identity_settings(app) -> None:
    """FORM_IDENTITY and its overrides, checked at start like FORM_CHALLENGE."""
    from core.config import SettingsError
    from gated import identity, phonecodes

    rule = str(app.config["FORM_IDENTITY"] or "").strip().lower()
    rule = rule or identity.default_identity(app.config["DEFAULT_LOCALE"])
    if rule not in identity.IDENTITIES:
        raise SettingsError(
            f"LODESTAR_FORM_IDENTITY must be one of {', '.join(identity.IDENTITIES)}, not {rule!r}."
        )
    app.config["FORM_IDENTITY"] = rule
    try:
        app.config["FORM_IDENTITY_OVERRIDES"] = identity.parse_overrides(
            app.config["FORM_IDENTITY_OVERRIDES"]
        )
    except ValueError as exc:
        raise SettingsError(
            f"LODESTAR_FORM_IDENTITY_OVERRIDES: {exc} is not form=email|phone|email_or_phone."
        ) from exc
    mode = str(app.config["SMS_CODE_FORMS"]).strip().lower()
    try:
        if mode not in phonecodes.MODES:
            raise ValueError(mode)
        app.config["SMS_CODE_OVERRIDES"] = identity.parse_overrides(
            app.config["SMS_CODE_OVERRIDES"], allowed=phonecodes.MODES
        )
    except ValueError as exc:
        raise SettingsError(f"LODESTAR_SMS_CODE_FORMS / _OVERRIDES: {exc} is not auto, on or off.") from exc
    app.config["SMS_CODE_FORMS"] = mode
    app.config["PHONE_ALLOWED_REGIONS"] = [
        str(code).strip().upper() for code in app.config["PHONE_ALLOWED_REGIONS"]
    ]
    app.config["PHONE_REGION"] = str(app.config["PHONE_REGION"] or "").strip().upper()


def init_app(app):
    """Register the package's blueprints, commands, signal receivers and demo data."""
    from content.editor import add_picker
    from content.signals import article_changed
    from core.config import apply_defaults
    from core.hooks import (
        add_admin_nav,
        add_article_gate,
        add_demo_loader,
        add_health_check,
        add_home_panel,
        add_lead_panel,
        add_timeline_provider,
    )
    from core.signals import page_seen
    from core.urls import add_campaign_parameters
    from gated import (
        admin,
        assets,
        demo,
        embed_admin,
        embed_views,
        forms_views,
        home,
        merge_admin,
        nextstep,
        timeline,
        video_gate,
        webhooks,
    )
    from gated.cli import leads_cli
    from gated.identity import lead_name, phone_number
    from gated.labels import register_audit_words
    from gated.lead_form import CAMPAIGN_PARAMETERS, remember_landing
    from gated.views import bp

    apply_defaults(app, DEFAULTS)
    add_campaign_parameters(app, CAMPAIGN_PARAMETERS)
    page_seen.connect(remember_landing, sender=app, weak=False)
    app.config["FORM_CHALLENGE"] = _challenge_mode(app.config["FORM_CHALLENGE"])
    _identity_settings(app)
    # A stored number as people write it (+86 139 0013 9000), for every staff screen.
    app.add_template_filter(phone_number, "phone_number")
    # A lead as staff screens name it: name, else address, else that number.
    app.add_template_filter(lead_name, "lead_name")

    app.register_blueprint(bp)
    app.register_blueprint(admin.bp)
    register_audit_words(app)
    app.register_blueprint(forms_views.bp)
    app.register_blueprint(embed_views.bp)
    app.register_blueprint(embed_admin.bp)
    app.register_blueprint(merge_admin.bp)
    app.register_blueprint(video_gate.bp)
    add_article_gate(app, video_gate.gate_form)
    add_lead_panel(app, merge_admin.lead_panel)
    app.context_processor(nextstep.thanks_context)
    app.cli.add_command(leads_cli)
    add_admin_nav(app, _l("Leads"), "gated_admin.leads", roles=admin.ROLES, order=40, group="sales")
    add_admin_nav(
        app, _l("Held submissions"), "gated_admin.held", roles=admin.ROLES, order=41, group="marketing"
    )
    add_admin_nav(
        app,
        _l("Embedded forms"),
        "gated_embed_admin.forms",
        roles=embed_admin.ROLES,
        order=42,
        group="marketing",
    )
    add_demo_loader(app, "leads", demo.load, order=20)
    add_home_panel(app, home.leads_panel, roles=("marketer",), order=100)
    add_timeline_provider(app, timeline.events)
    app.extensions["lodestar.asset_path"] = assets.article_asset_path
    add_picker(app, "asset", assets.library_choices, assets.library_source)
    if app.config["LEAD_WEBHOOK_URL"]:
        add_health_check(app, "lead_webhook", webhooks.health)

    @article_changed.connect_via(app, weak=False)
    def sync_asset(sender, article_id, **extra):
        timeline.sync_article(article_id)
