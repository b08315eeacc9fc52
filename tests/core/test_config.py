"""Settings precedence, database URLs and the SECRET_KEY refusal."""

import pytest

from app import create_app
from core.config import SettingsError, normalise_database_url

STRONG = "x" * 48


def test_environment_overrides_defaults_and_overrides_win(monkeypatch, tmp_path):
    monkeypatch.setenv("LODESTAR_SECRET_KEY", STRONG)
    monkeypatch.setenv("LODESTAR_SITE_NAME", "From env")
    monkeypatch.setenv("LODESTAR_MAIL_PORT", "2525")
    monkeypatch.setenv("LODESTAR_RATELIMIT_ENABLED", "false")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db", "MAIL_PORT": 2626})
    assert app.config["SITE_NAME"] == "From env"
    assert app.config["RATELIMIT_ENABLED"] is False  # JSON-decoded, as Flask does
    assert app.config["MAIL_PORT"] == 2626


def test_database_url_is_honoured_and_mapped_to_psycopg(monkeypatch):
    monkeypatch.setenv("LODESTAR_SECRET_KEY", STRONG)
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db.internal/lodestar")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.internal/lodestar"


def test_default_database_is_sqlite_in_instance(monkeypatch):
    monkeypatch.setenv("LODESTAR_SECRET_KEY", STRONG)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("instance/lodestar.db")
    assert app.config["INDEX_DIR"].endswith("instance/index")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://a@h/d", "postgresql+psycopg://a@h/d"),
        ("postgresql://a@h/d", "postgresql+psycopg://a@h/d"),
        ("postgresql+psycopg://a@h/d", "postgresql+psycopg://a@h/d"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_normalise_database_url(given, expected):
    assert normalise_database_url(given) == expected


def test_missing_secret_key_is_refused_outside_development(monkeypatch, tmp_path):
    import app as app_module

    monkeypatch.setattr(app_module, "ROOT", tmp_path)
    monkeypatch.delenv("LODESTAR_SECRET_KEY", raising=False)
    monkeypatch.delenv("LODESTAR_DEVELOPMENT", raising=False)
    with pytest.raises(SettingsError, match="LODESTAR_SECRET_KEY is not set"):
        create_app()


@pytest.mark.parametrize("weak", ["dev", "changeme", "short-key"])
def test_weak_secret_key_is_refused(monkeypatch, weak):
    monkeypatch.setenv("LODESTAR_SECRET_KEY", weak)
    with pytest.raises(SettingsError, match="too weak"):
        create_app()


def test_development_keeps_a_generated_key(monkeypatch, tmp_path):
    import app as app_module

    monkeypatch.setattr(app_module, "ROOT", tmp_path)
    monkeypatch.delenv("LODESTAR_SECRET_KEY", raising=False)
    monkeypatch.setenv("LODESTAR_DEVELOPMENT", "1")
    first = create_app().config["SECRET_KEY"]
    second = create_app().config["SECRET_KEY"]
    assert first == second
    assert len(first) >= 32
    assert (tmp_path / "instance" / "secret_key").read_text() == first


def test_https_site_url_makes_cookies_secure(monkeypatch):
    monkeypatch.setenv("LODESTAR_SECRET_KEY", STRONG)
    app = create_app({"SITE_URL": "https://example.com"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


def test_zero_false_and_empty_settings_are_kept(monkeypatch, tmp_path):
    monkeypatch.setenv("LODESTAR_SECRET_KEY", STRONG)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db",
            "SCORING_DECAY_DAYS": 0,  # documented as "no decay"
            "SCORING_RULES_TTL": 0,
            "INSIGHTS_RETENTION_DAYS": 0,
            "MAIL_RATE_PER_SECOND": 0,
            "ASSISTANT_ROUNDS": 0,
            "CONSENT_REQUIRED": False,
            "COMPANY_POSTAL_ADDRESS": "",
            "SCORING_ASSIGN_RULES": "",
            "PARTNER_DOMAINS": "",
        }
    )
    assert app.config["SCORING_DECAY_DAYS"] == 0
    assert app.config["SCORING_RULES_TTL"] == 0
    assert app.config["INSIGHTS_RETENTION_DAYS"] == 0
    assert app.config["MAIL_RATE_PER_SECOND"] == 0
    assert app.config["ASSISTANT_ROUNDS"] == 0
    assert app.config["CONSENT_REQUIRED"] is False
    assert app.config["COMPANY_POSTAL_ADDRESS"] == ""
    assert app.config["SCORING_ASSIGN_RULES"] == ""
    assert app.config["PARTNER_DOMAINS"] == []


def test_package_settings_given_as_text_take_the_defaults_type(monkeypatch, tmp_path):
    monkeypatch.setenv("LODESTAR_SECRET_KEY", STRONG)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db",
            "SCORING_DECAY_DAYS": "0",
            "SCORING_RULES_TTL": "0.5",
            "DOUBLE_OPT_IN": "false",
            "CONSENT_REQUIRED": "yes",
            "SITE_HOSTS": "a.example, b.example",
        }
    )
    assert app.config["SCORING_DECAY_DAYS"] == 0
    assert app.config["SCORING_RULES_TTL"] == 0.5
    assert app.config["DOUBLE_OPT_IN"] is False
    assert app.config["CONSENT_REQUIRED"] is True
    assert app.config["SITE_HOSTS"] == ["a.example", "b.example"]


def test_a_missing_package_setting_takes_its_default(monkeypatch, tmp_path):
    monkeypatch.setenv("LODESTAR_SECRET_KEY", STRONG)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db", "SCORING_DECAY_DAYS": None})
    assert app.config["SCORING_DECAY_DAYS"] == 14
    assert app.config["MAIL_RATE_PER_SECOND"] == 20.0


def test_a_package_setting_that_does_not_parse_stops_the_start(monkeypatch, tmp_path):
    monkeypatch.setenv("LODESTAR_SECRET_KEY", STRONG)
    with pytest.raises(SettingsError, match="LODESTAR_SCORING_DECAY_DAYS"):
        create_app(
            {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db", "SCORING_DECAY_DAYS": "two weeks"}
        )


# Every package's settings with a default (read through core.config.apply_defaults).
PACKAGE_SETTINGS = (
    "accounts",
    "content",
    "gated",
    "nurture",
    "nurture.sms",
    "insights.scoring",
    "insights",
    "campaigns",
    "assistant",
    "api",
    "channels",
    "core.pagecache",
)
# Settings that name one of a few modes: an empty one is refused at start, with the modes.
MODES = {"FORM_CHALLENGE", "SMS_CODE_FORMS", "SMS_PROVIDER"}
# Working days and hours: empty is refused at start too (tests/insights/test_desk.py).
SHAPED = {"SCORING_WORK_DAYS", "SCORING_WORK_HOURS"}
# Settings whose empty default is documented as "derive it": the identity a form asks for
# follows the site's language (docs/LEADS.md).
DERIVED = {"FORM_IDENTITY"}
# Lists of form=mode read into a mapping: empty is none.
MAPPINGS = {"FORM_IDENTITY_OVERRIDES", "SMS_CODE_OVERRIDES"}


def _zero_of(default):
    """(the environment's text, the value it must become) for a default's type."""
    if isinstance(default, bool):
        return "false", False
    if isinstance(default, int | float):
        return "0", 0
    if isinstance(default, str):
        return "", ""
    if isinstance(default, list):
        return "", []
    return None


def test_every_package_setting_keeps_zero_false_and_empty_from_the_environment(monkeypatch, tmp_path):
    """A zero means zero everywhere: no package reads a setting as `value or default`."""
    import importlib

    expected = {}
    for name in PACKAGE_SETTINGS:
        module = importlib.import_module(name)
        defaults = getattr(module, "DEFAULTS", None) or module.SETTINGS
        for key, default in defaults.items():
            zero = _zero_of(default)
            if zero is None or key in MODES | DERIVED | SHAPED:
                continue
            monkeypatch.setenv(f"LODESTAR_{key}", zero[0])
            expected[key] = {} if key in MAPPINGS else zero[1]
    assert len(expected) > 80
    monkeypatch.setenv("LODESTAR_SECRET_KEY", STRONG)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})
    kept = {key: app.config[key] for key in expected}
    assert kept == expected
    with app.test_request_context():
        from core.pagecache import public_cache_control

        assert public_cache_control() == "public, max-age=0, s-maxage=0, stale-while-revalidate=0"


@pytest.mark.parametrize("setting", sorted(MODES))
def test_an_empty_mode_is_refused_with_the_modes(monkeypatch, tmp_path, setting):
    monkeypatch.setenv("LODESTAR_SECRET_KEY", STRONG)
    monkeypatch.setenv(f"LODESTAR_{setting}", "")
    with pytest.raises(SettingsError, match=f"LODESTAR_{setting}"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})
