"""The public REST API (/api/v1) over the other packages' services, its API keys, and
the OpenAPI document flask-smorest writes from the code (/api/v1/openapi.json; staff read
it rendered at /admin/api/reference). A top layer like app.py: nothing imports it.
See docs/ARCHITECTURE.md and docs/API.md."""

from flask_babel import lazy_gettext as _l
from flask_smorest import Api

from core.hooks import add_admin_nav

DEFAULTS = {
    # Requests per key (or per address without one), in Flask-Limiter's notation.
    "API_RATE_LIMIT": "600/minute",
    "API_EVENT_BATCH_LIMIT": 500,
    # How long an Idempotency-Key's answer is kept for replays.
    "API_IDEMPOTENCY_HOURS": 24,
    # The CRM the worker syncs leads with ("hubspot"), or "" for none.
    "CRM_ADAPTER": "",
    "CRM_HUBSPOT_URL": "https://api.hubapi.com",
    "CRM_HUBSPOT_TOKEN": "",
    "CRM_TIMEOUT_SECONDS": 10.0,
    "CRM_MAX_ATTEMPTS": 8,
    "CRM_PULL_MINUTES": 5,
    # The shared secret of the inbound stage-change webhook; "" turns it off.
    "CRM_WEBHOOK_SECRET": "",
    "CRM_WEBHOOK_TOLERANCE_SECONDS": 300,
}


class PackageApi(Api):
    """flask-smorest's Api without its app-wide HTTPException handler: the site keeps its
    own error pages, and the API's blueprints answer problem+json (api.problems)."""

    def _register_error_handlers(self):
        return None


def init_app(app):
    """The API's settings, its OpenAPI document and blueprints, `flask api-keys` and the
    admin pages for keys and the reference."""
    from api import admin, cleanup, problems
    from api.cli import api_keys_cli
    from api.crm import log, sync, webhook
    from api.labels import api_label
    from api.resources import content, events, leads, marketing
    from api.schemas import ProblemSchema
    from core.config import apply_defaults
    from core.hooks import add_background_job, add_lead_panel
    from gated.signals import lead_captured, lead_stage_changed

    apply_defaults(app, DEFAULTS)
    app.config.update(
        API_TITLE="Lodestar API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
    )
    PackageApi.ERROR_SCHEMA = ProblemSchema
    api = PackageApi(
        app,
        spec_kwargs={
            "components": {
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer"},
                    "crmSignature": {"type": "apiKey", "in": "header", "name": "X-Lodestar-Signature"},
                }
            },
        },
    )
    for bp in (
        leads.bp,
        events.bp,
        content.bp,
        content.search_bp,
        marketing.segments_bp,
        marketing.campaigns_bp,
        marketing.sequences_bp,
        marketing.downloads_bp,
        webhook.bp,
    ):
        api.register_blueprint(bp)
    for code in (404, 405):
        app.register_error_handler(code, problems.outside_routes)
    app.register_blueprint(admin.bp)
    app.cli.add_command(api_keys_cli)
    add_background_job(app, "api idempotency cleanup", cleanup.forget_old_answers)
    add_background_job(app, "crm sync", sync.sync_job)
    lead_captured.connect(sync.on_lead_changed, sender=app, weak=False)
    lead_stage_changed.connect(sync.on_lead_changed, sender=app, weak=False)
    add_admin_nav(app, _l("API keys"), "api_admin.keys_page", roles=("admin",), order=92, group="settings")
    add_admin_nav(app, _l("CRM sync"), "api_admin.crm", roles=log.ROLES, order=56, group="sales")
    add_lead_panel(app, log.lead_panel)
    app.add_template_global(api_label)
