"""Settings: embedded defaults, then instance/config.py, then LODESTAR_* environment
variables, then the overrides passed to create_app (tests).

Every default runs on one machine with nothing set: SQLite in instance/, a Whoosh index
in instance/index/, gated files in instance/assets/ and a local SMTP sink on port 8025.
"""

import os
import secrets
from pathlib import Path

from core.urls import trusted_hosts

WEAK_SECRET_KEYS = {"", "dev", "secret", "changeme", "change-me", "development", "lodestar"}
MIN_SECRET_KEY_LENGTH = 32
DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 5000


class SettingsError(RuntimeError):
    """A setting that makes it unsafe or impossible to start."""


DEFAULTS = {
    "SITE_NAME": "Lodestar",
    "SITE_URL": None,  # see site_url_for_server
    "SITE_URL_FOLLOWS_SERVER": False,
    "DEFAULT_LOCALE": "zh_CN",
    "LOCALES": ["zh_CN", "en"],
    "BABEL_DEFAULT_LOCALE": "zh_CN",
    "TIMEZONE": "Asia/Shanghai",
    "DEVELOPMENT": False,
    "SQLALCHEMY_DATABASE_URI": None,
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "INDEX_DIR": None,
    "ASSET_DIR": None,
    "UPLOAD_DIR": None,
    "VIDEO_DIR": None,
    "OUTBOX_DIR": None,
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    "PROXY_FIX_X_FOR": 0,
    "WTF_CSRF_TIME_LIMIT": 4 * 3600,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    # Seconds (a number from the environment); also the longest any sign-in lasts.
    "REMEMBER_COOKIE_DURATION": 14 * 86400,
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_HEADERS_ENABLED": True,
    "LOGIN_RATE_LIMIT": "10 per minute;50 per hour",
    "PUBLIC_POST_RATE_LIMIT": "20 per minute;200 per hour",
    "MAIL_SERVER": "127.0.0.1",
    "MAIL_PORT": 8025,
    "MAIL_USE_TLS": False,
    "MAIL_USE_SSL": False,
    "MAIL_USERNAME": None,
    "MAIL_PASSWORD": None,
    "MAIL_DEFAULT_SENDER": "Lodestar <hello@lodestar.example>",
    "MAIL_SUPPRESS_SEND": False,
    "DEV_SMTP_SINK": False,
    # Hosts every page may frame (an iframe in an article's Markdown keeps its src only
    # from these). None by default: videos are the video kind, whose pages alone frame
    # the players' hosts (content.video.EMBED_HOSTS).
    "CSP_FRAME_HOSTS": [],
}


def apply_settings(app, overrides=None):
    """Fill app.config in precedence order and derive the paths that depend on instance/."""
    app.config.update(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    if os.environ.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    app.config.from_prefixed_env("LODESTAR")
    if "DATABASE_URL" in app.config and app.config["DATABASE_URL"]:
        app.config["SQLALCHEMY_DATABASE_URI"] = app.config["DATABASE_URL"]
    if overrides:
        app.config.update(overrides)

    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    uri = app.config.get("SQLALCHEMY_DATABASE_URI") or f"sqlite:///{instance / 'lodestar.db'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(uri)
    for key, folder in (
        ("INDEX_DIR", "index"),
        ("ASSET_DIR", "assets"),
        ("UPLOAD_DIR", "uploads"),
        ("VIDEO_DIR", "videos"),
        ("OUTBOX_DIR", "outbox"),
    ):
        app.config[key] = str(Path(app.config.get(key) or instance / folder))
    if not app.config["SITE_URL"]:
        development = bool(app.config.get("DEVELOPMENT"))
        app.config["SITE_URL_FOLLOWS_SERVER"] = development
        environ = os.environ if development else {}
        app.config["SITE_URL"] = site_url_for_server(
            environ.get("FLASK_RUN_HOST", DEFAULT_HOST), environ.get("FLASK_RUN_PORT", DEFAULT_PORT)
        )
    if app.config["SITE_URL"].startswith("https://"):
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    app.config["SECRET_KEY"] = resolve_secret_key(app)
    app.config["TRUSTED_HOSTS"] = trusted_hosts(app.config)
    app.config["BABEL_DEFAULT_TIMEZONE"] = site_timezone(app.config["TIMEZONE"])


def site_timezone(name) -> str:
    """The site's time zone (an IANA name): where staff without a zone of their own read
    every time, where a day of a sequence's schedule or an article's date begins."""
    from core.localtime import is_time_zone

    if not is_time_zone(name):
        raise SettingsError(
            f"LODESTAR_TIMEZONE={name!r} is not a time zone: use an IANA name such as Asia/Shanghai"
        )
    return name


def site_url_for_server(host: str, port) -> str:
    """The address a development server on host:port answers at, for links in mails and
    feeds when no SITE_URL is set (a server on every interface answers on loopback too).

    FLASK_RUN_HOST and FLASK_RUN_PORT, Flask's own variables for the development server,
    are what `make run` passes to every command it runs, so mail queued by `flask demo
    load` links to the port that `flask serve` then opens."""
    if host in ("", "0.0.0.0", "::"):
        host = DEFAULT_HOST
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def follow_server(app, host: str, port: int) -> None:
    """In development with no SITE_URL of its own, point the site's absolute URLs at the
    server `flask serve` is about to start (its --port may differ from the environment)."""
    if app.config["SITE_URL_FOLLOWS_SERVER"]:
        app.config["SITE_URL"] = site_url_for_server(host, port)


def normalise_database_url(url: str) -> str:
    """Map plain postgresql:// (and the old postgres://) URLs to the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def is_weak_secret(value) -> bool:
    return (
        not isinstance(value, str | bytes)
        or len(value) < MIN_SECRET_KEY_LENGTH
        or str(value).lower() in WEAK_SECRET_KEYS
    )


def resolve_secret_key(app) -> str:
    """The configured key; in development and tests one kept in instance/secret_key.

    Outside development a missing or weak key stops the start: sessions, CSRF tokens and
    download links would all be forgeable with it.
    """
    key = app.config.get("SECRET_KEY")
    if key and not is_weak_secret(key):
        return key
    relaxed = app.debug or app.testing or app.config.get("DEVELOPMENT")
    key_file = Path(app.instance_path) / "secret_key"
    if not key and key_file.exists():
        # Generated by an earlier development start: commands run later by hand
        # (flask content import, flask nurture tick) share the site's key.
        return key_file.read_text().strip()
    if not key and relaxed:
        if not key_file.exists():
            key_file.write_text(secrets.token_urlsafe(48))
            key_file.chmod(0o600)
        return key_file.read_text().strip()
    if relaxed:
        return key
    if key:
        raise SettingsError(
            f"LODESTAR_SECRET_KEY is too weak: use at least {MIN_SECRET_KEY_LENGTH} random "
            'characters, e.g. python -c "import secrets; print(secrets.token_urlsafe(48))"'
        )
    raise SettingsError(
        "LODESTAR_SECRET_KEY is not set. Set it to at least "
        f"{MIN_SECRET_KEY_LENGTH} random characters "
        '(python -c "import secrets; print(secrets.token_urlsafe(48))"), '
        "or run with LODESTAR_DEVELOPMENT=1 to keep a generated key in instance/."
    )


TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"", "0", "false", "no", "off"}


def apply_defaults(app, defaults) -> None:
    """Give a package's settings their defaults, each read as the type of its default.

    Only a missing setting (or None) takes the default: zero, false and an empty string are
    settings too (SCORING_DECAY_DAYS=0 means no decay, HTTP_MAX_AGE=0 means revalidate every
    time, PARTNER_DOMAINS="" means none).
    Values from instance/config.py may arrive as text ("0", "false", "a.com,b.cn"), so text
    is parsed by the default's type; a value that does not parse stops the start.
    """
    for key, default in defaults.items():
        value = app.config.get(key)
        app.config[key] = default if value is None else setting_value(key, value, default)


def setting_value(key: str, value, default):
    """`value` read as the type of `default` (see apply_defaults)."""
    if isinstance(default, bool):
        if not isinstance(value, str):
            return bool(value)
        word = value.strip().lower()
        if word in TRUE_WORDS | FALSE_WORDS:
            return word in TRUE_WORDS
    elif isinstance(default, int | float):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                return type(default)(float(value) if isinstance(default, float) else int(value.strip()))
            except ValueError:
                pass
    elif isinstance(default, list):
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return list(value)
    else:
        return value
    raise SettingsError(f"LODESTAR_{key} must be {type(default).__name__}-like, not {value!r}.")
