"""Security headers on every response, the proxy setting, and the signed session cookie.

The Content-Security-Policy allows scripts and styles only from our own origin: no inline
script can run even if some HTML slipped through sanitising.
"""

from flask import request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions with the serializer built once per set of keys
    instead of twice per request (building one costs a trial dump)."""

    def __init__(self):
        self.serializers = {}

    def get_signing_serializer(self, app):
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if keys not in self.serializers:
            self.serializers[keys] = super().get_signing_serializer(app)
        return self.serializers[keys]


def content_security_policy(app) -> str:
    frame_hosts = " ".join(f"https://{host}" for host in app.config["CSP_FRAME_HOSTS"])
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data: https:",
            "font-src 'self' data:",
            "connect-src 'self'",
            f"frame-src 'self' {frame_hosts}".strip(),
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def security_headers(app) -> list[tuple[str, str]]:
    return [
        ("Content-Security-Policy", content_security_policy(app)),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("X-Frame-Options", "DENY"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
    ]


def init_app(app):
    trusted = int(app.config.get("PROXY_FIX_X_FOR") or 0)
    if trusted:
        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=trusted, x_proto=trusted, x_host=trusted, x_prefix=trusted
        )
    app.session_interface = SessionCookies()
    defaults = [(name.lower(), name, value) for name, value in security_headers(app)]

    @app.after_request
    def set_security_headers(response):
        """Each header unless the view set its own (the mail preview's frame policy).
        One pass over the response's few headers: Headers.setdefault looks each name up
        with an exception when it is missing, six times per request."""
        headers = response.headers
        present = {name.lower() for name, _value in headers.items()}
        headers.extend([(name, value) for key, name, value in defaults if key not in present])
        if request.is_secure and "strict-transport-security" not in present:
            headers.add("Strict-Transport-Security", "max-age=31536000")
        return response
