"""Security headers, request size limit, language switch without open redirects."""

import pytest


def test_security_headers_on_every_response(client):
    for path in ("/login", "/healthz", "/no-such-page"):
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert response.headers["X-Frame-Options"] == "DENY"


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    assert "Strict-Transport-Security" in client.get("/login", base_url="https://localhost").headers


def test_oversized_body_is_413_in_site_look(app, client):
    limit = app.config["MAX_CONTENT_LENGTH"]
    response = client.post("/login", data={"email": "a@b.c", "password": "x" * (limit + 10)})
    assert response.status_code == 413
    assert b"site-header" in response.data


@pytest.mark.parametrize(
    "target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"]
)
def test_language_switch_never_redirects_off_site(client, target):
    response = client.get("/lang/en", query_string={"next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_language_switch_sets_cookie_and_translates(client):
    response = client.get("/lang/en", query_string={"next": "/login"})
    assert response.headers["Location"] == "/login"
    assert "lang=en" in response.headers["Set-Cookie"]
    english = client.get("/login").get_data(as_text=True)
    assert "Staff sign in" in english
    client.get("/lang/zh_CN")
    chinese = client.get("/login").get_data(as_text=True)
    assert "员工登录" in chinese
    assert 'lang="zh-CN"' in chinese


def test_chinese_is_the_default_locale(app):
    fresh = app.test_client()
    assert "员工登录" in fresh.get("/login").get_data(as_text=True)
    english = fresh.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "Staff sign in" in english.get_data(as_text=True)


def test_sessions_and_csrf_tokens_are_the_libraries_own(app):
    """Flask's session interface and Flask-WTF's generate_csrf are used as shipped: an
    override of their internals breaks silently on an upgrade."""
    from flask import render_template_string
    from flask.sessions import SecureCookieSessionInterface
    from flask_wtf.csrf import generate_csrf

    assert type(app.session_interface) is SecureCookieSessionInterface
    with app.test_request_context("/"):
        assert render_template_string("{{ csrf_token() }}") == generate_csrf()


def test_tokens_are_itsdangerous_tokens_salted_by_purpose(app):
    from itsdangerous import URLSafeTimedSerializer

    from core.tokens import InvalidToken, sign, unsign

    payload = {"lead": 1, "text": "重复" * 400}
    token = sign("download", payload)
    assert URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="lodestar.download").loads(token) == payload
    with pytest.raises(InvalidToken):
        unsign("unsubscribe", token)
