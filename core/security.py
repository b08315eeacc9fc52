"""Security headers on every response, and the proxy setting.

The Content-Security-Policy allows scripts and styles only from our own origin: no inline
script can run even if some HTML slipped through sanitising.
"""

from werkzeug.middleware.proxy_fix import ProxyFix


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


def init_app(app):
    trusted = int(app.config.get("PROXY_FIX_X_FOR") or 0)
    if trusted:
        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=trusted, x_proto=trusted, x_host=trusted, x_prefix=trusted
        )
    policy = content_security_policy(app)

    @app.after_request
    def set_security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", policy)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        from flask import request

        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
