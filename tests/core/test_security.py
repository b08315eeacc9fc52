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


def test_csrf_tokens_are_flask_wtfs_and_a_new_visitors_session_is_not_compressed(make_app):
    from flask import session
    from flask_wtf.csrf import validate_csrf

    from core.security import csrf_token

    site = make_app(WTF_CSRF_ENABLED=True)
    with site.test_request_context("/"):
        token = csrf_token()
        assert csrf_token() == token  # one per request
        validate_csrf(token)  # raises when Flask-WTF does not take it
        cookie = site.session_interface.get_signing_serializer(site).dumps(dict(session))
        assert not cookie.startswith(".")


def test_compact_tokens_compress_long_payloads_only_and_load_anywhere():
    from itsdangerous import URLSafeTimedSerializer

    from core.tokens import CompactSerializer

    compact, plain = CompactSerializer("k" * 40, salt="s"), URLSafeTimedSerializer("k" * 40, salt="s")
    short, long = {"csrf_token": "a" * 40}, {"text": "重复" * 400}
    assert not compact.dumps(short).startswith(".") and compact.dumps(long).startswith(".")
    for payload in (short, long):
        assert plain.loads(compact.dumps(payload)) == payload
        assert compact.loads(plain.dumps(payload)) == payload


def test_pooled_random_bytes_are_never_shared_with_a_forked_process():
    from core.tokens import random_hex
    from tests.forking import in_forked_child

    random_hex(16)  # the pool is filled in this process
    child = in_forked_child(lambda: random_hex(16).encode()).decode()  # what it would hand out next
    assert len(child) == 32 and child != random_hex(16)


def test_a_fork_while_the_random_pool_is_locked_leaves_the_child_working():
    from core import tokens
    from tests.forking import in_forked_child

    with tokens._RANDOM.lock:  # as if another thread were drawing bytes at the fork
        drawn = in_forked_child(lambda: tokens.random_hex(16).encode(), timeout=10)
    assert len(drawn) == 32
