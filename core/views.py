"""Core routes: /healthz and the language switch."""

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, jsonify, redirect, request
from flask_babel import force_locale
from sqlalchemy import text

from core.extensions import db, limiter, parsed_locale
from core.hooks import hooks

bp = Blueprint("core", __name__)


def safe_next(target: str | None, fallback: str = "/") -> str:
    """A same-site path to go back to, never another host (no open redirect)."""
    if not target:
        return fallback
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        # A control character (CR/LF above all) cannot go into a Location header.
        or any(ord(character) < 32 or ord(character) == 127 for character in target)
    ):
        return fallback
    return target


def migration_status() -> dict:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    directory = current_app.extensions["migrate"].directory
    script = ScriptDirectory(directory)
    heads = set(script.get_heads())
    with db.engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return {"ok": current == heads, "current": sorted(current), "head": sorted(heads)}


@bp.get("/healthz")
@limiter.exempt
def healthz():
    checks = health_checks()
    healthy = all(check.get("ok") for check in checks.values())
    body = {"status": "ok" if healthy else "fail", "checks": checks}
    return jsonify(body), 200 if healthy else 503


def health_checks() -> dict[str, dict]:
    """Every check /healthz runs (the database, migrations, each package's), by name; the
    admin's home shows them too."""
    checks = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = {"ok": True, "dialect": db.engine.dialect.name}
    except Exception as exc:  # noqa: BLE001 - the point is to report it, not to fail
        db.session.rollback()
        checks["database"] = {"ok": False, "error": str(exc).splitlines()[0]}
    if checks["database"]["ok"]:
        try:
            checks["migrations"] = migration_status()
        except Exception as exc:  # noqa: BLE001
            checks["migrations"] = {"ok": False, "error": str(exc).splitlines()[0]}
    for name, check in hooks(current_app).health_checks.items():
        try:
            checks[name] = check()
        except Exception as exc:  # noqa: BLE001
            db.session.rollback()
            checks[name] = {"ok": False, "error": str(exc).splitlines()[0]}
    return checks


@bp.get("/lang/<code>")
def set_language(code):
    """The language switch: remember the choice and go back to the page, or to its
    translation when it is an article (a package's translated_path hook knows), or to a
    page in the chosen language with a notice when the article has no translation."""
    target = safe_next(request.args.get("next"))
    code = code.replace("-", "_")
    if code not in current_app.config["LOCALES"]:
        return redirect(target)
    with force_locale(parsed_locale(code)):
        for finder in hooks(current_app).translated_paths:
            found = finder(urlsplit(target).path, code)
            if found is not None:
                target, notice = found
                if notice:
                    flash(notice, "info")
                break
    response = redirect(target)
    response.set_cookie("lang", code, max_age=365 * 86400, samesite="Lax", httponly=True)
    return response
