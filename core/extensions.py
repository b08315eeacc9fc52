"""The Flask extensions, created unbound here and bound in create_app (nothing at import)."""

from babel import Locale
from flask import request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
mail = Mail()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)
babel = Babel()


# Locale objects by code: Flask-Babel parses the selector's answer on every request, and
# parsing a code string scans babel's whole list of locales (a third of a cached page's
# cost); a Locale it is handed back as is.
_PARSED_LOCALES: dict[str, Locale] = {}


def select_locale():
    """?lang= (remembered in a cookie by the after_request hook), then the cookie, then
    the browser's Accept-Language, then the default (zh_CN)."""
    from flask import current_app, g

    g.locale_code = code = _choose_locale(current_app)
    return parsed_locale(code)


def select_timezone():
    """The signed-in staff member's own zone on staff pages (/admin/), else None: the
    site's (`TIMEZONE`). Public pages never look at the user, so they stay the same bytes
    for everyone and never vary on the session cookie."""
    from flask import has_request_context
    from flask_login import current_user

    if has_request_context() and request.path.startswith("/admin/"):
        return getattr(current_user, "timezone", None) or None
    return None


def parsed_locale(code: str) -> Locale:
    """The Locale of a code (zh_CN, en), parsed once per process."""
    locale = _PARSED_LOCALES.get(code)
    if locale is None:
        locale = _PARSED_LOCALES.setdefault(code, Locale.parse(code))
    return locale


def _choose_locale(current_app):
    from flask import has_request_context

    if not has_request_context():  # commands and service calls outside a request
        return current_app.config["DEFAULT_LOCALE"]
    locales = current_app.config["LOCALES"]
    # `in` first: a missing key costs MultiDict.get an exception, on every request.
    for source in (request.args, request.cookies):
        candidate = source["lang"] if "lang" in source else None  # noqa: SIM401
        if candidate:
            candidate = candidate.replace("-", "_")
            if candidate in locales:
                return candidate
    return _locale_for_browser(current_app, request.headers.get("Accept-Language", ""))


# The locale each Accept-Language value asks for, per app: browsers send few distinct
# values, so each is parsed and matched against LOCALES once, not on every request.
# Bounded: emptied when full.
_BROWSER_LOCALES_KEY = "lodestar.browser_locales"
_BROWSER_LOCALES_MAX = 1000


def _locale_for_browser(current_app, accept_language: str) -> str:
    known = current_app.extensions.setdefault(_BROWSER_LOCALES_KEY, {})
    code = known.get(accept_language)
    if code is None:
        locales = current_app.config["LOCALES"]
        best = request.accept_languages.best_match([loc.replace("_", "-") for loc in locales])
        code = best.replace("-", "_") if best else current_app.config["DEFAULT_LOCALE"]
        if len(known) >= _BROWSER_LOCALES_MAX:
            known.clear()
        known[accept_language] = code
    return code
