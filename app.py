"""The application factory: settings, extensions, then each feature package in the order
of their dependencies (core <- accounts <- content <- gated <- nurture <- insights, assistant <- campaigns <- api, channels).

This is the only module that knows every package.
"""

from pathlib import Path

from flask import Flask, g, request
from flask_babel import get_locale

import accounts
import api
import assistant
import campaigns
import channels
import content
import gated
import insights
import nurture
from core import config, errors, i18n, localtime, pagecache, repeathits, security, urls
from core.beacon import bp as beacon_bp
from core.cli import demo_cli, serve
from core.extensions import (
    babel,
    csrf,
    db,
    limiter,
    login_manager,
    mail,
    migrate,
    select_locale,
    select_timezone,
)
from core.hooks import add_dev_service, advisor_card, grouped_nav, hooks
from core.ids import IdConverter
from core.mailsink import sink_address, start_sink
from core.views import bp as core_bp

ROOT = Path(__file__).resolve().parent
PACKAGES = (accounts, content, gated, nurture, insights, assistant, campaigns, api, channels)


def create_app(overrides: dict | None = None) -> Flask:
    """Create the Lodestar application. `overrides` win over every other setting (tests)."""
    app = Flask(__name__, instance_path=str(ROOT / "instance"), instance_relative_config=True)
    # Before any route is added: every <int:…> in a URL is an id, so one too large for the
    # database is a 404 rather than an "integer out of range" 500.
    app.url_map.converters["int"] = IdConverter
    if overrides and overrides.get("TESTING"):
        app.testing = True
    config.apply_settings(app, overrides)

    translation_dirs = i18n.translation_directories(ROOT, [p.__name__ for p in PACKAGES])
    i18n.compile_catalogs(translation_dirs)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(translation_dirs)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    mail.init_app(app)
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    i18n.share_form_translations(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():
            _tune_sqlite(db.engine)

    # Cached pages' repeat hits are answered in front of Flask, behind the proxy fix.
    repeathits.serve_repeats(app)
    security.init_app(app)
    errors.init_app(app)
    localtime.init_app(app)
    app.add_template_filter(i18n.word_list)
    app.add_template_filter(i18n.language_name)
    app.add_template_global(i18n.colon)
    pagecache.init_app(app)
    app.register_blueprint(core_bp)
    app.register_blueprint(beacon_bp)
    app.cli.add_command(demo_cli)
    app.cli.add_command(serve)
    if app.config["DEV_SMTP_SINK"]:
        add_dev_service(app, "SMTP sink", start_sink, listens_on=sink_address)
    _template_globals(app)

    for package in PACKAGES:
        package.init_app(app)
    return app


def _tune_sqlite(engine) -> None:
    """WAL so readers never wait for the writer; foreign keys on; a busy timeout so two
    processes (web and worker) wait for each other instead of failing."""
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def _template_globals(app: Flask) -> None:
    # Every absolute URL a page or mail shows is on SITE_URL, never on the Host header.
    app.jinja_env.globals["absolute_url"] = urls.absolute_url
    app.jinja_env.globals["page_path_for_links"] = urls.page_path_for_links
    # A person to talk to (an adviser's contact QR), offered by whichever package keeps them.
    app.jinja_env.globals["advisor_card"] = lambda **where: advisor_card(app, **where)

    @app.context_processor
    def lodestar_globals():
        return {
            "site_name": app.config["SITE_NAME"],
            "current_locale": _current_locale(),
            "admin_nav": _admin_nav_for_current_user,
        }

    @app.after_request
    def remember_language(response):
        lang = request.args.get("lang", "").replace("-", "_")
        if lang in app.config["LOCALES"] and request.cookies.get("lang") != lang:
            response.set_cookie("lang", lang, max_age=365 * 86400, samesite="Lax", httponly=True)
        if "locale_code" in g and not _varies_on_language(response.headers.get("Vary", "")):
            # The language came from the browser's Accept-Language or the lang cookie: a
            # shared cache must keep each language's copy of the page apart.
            response.vary.update(("Accept-Language", "Cookie"))
        return response

    def _varies_on_language(vary: str) -> bool:
        """Whether a Vary header already names both (a cached page's does): then there is
        nothing to add, and no reason to parse and rewrite it."""
        names = {name.strip().lower() for name in vary.split(",")}
        return "accept-language" in names and "cookie" in names

    def _current_locale():
        get_locale()  # runs the selector once per request, which records g.locale_code
        return g.get("locale_code", app.config["DEFAULT_LOCALE"])

    def _admin_nav_for_current_user():
        from flask_login import current_user

        if "admin_nav" not in g:
            role = getattr(current_user, "role", None)
            g.admin_nav = grouped_nav(
                [item for item in hooks(app).nav if role == "admin" or not item.roles or role in item.roles]
            )
        return g.admin_nav
