"""API keys: made by the CLI or the admin, the secret shown once and stored hashed;
401 without a working key (a staff cookie is no key), 403 without the scope, 429 per key
over its limit."""

from datetime import timedelta

from sqlalchemy import select

from api.keys import revoke_key
from api.models import SCOPES, ApiKey
from core.extensions import db
from core.timeutil import utcnow
from tests.api.conftest import bearer


def test_cli_creates_a_key_whose_secret_is_shown_once_and_stored_hashed(runner, client):
    result = runner.invoke(
        args=["api-keys", "create", "CRM", "--scopes", "leads:read,leads:write", "--expires", "90d"]
    )
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    key = db.session.scalar(select(ApiKey))
    assert token.startswith(key.prefix + "_") and key.prefix in result.output.splitlines()[0]
    assert token.split("_", 2)[2] not in key.secret_hash
    assert key.scopes == ["leads:read", "leads:write"]
    assert timedelta(days=89) < key.expires_at - utcnow() <= timedelta(days=90)
    assert client.get("/api/v1/leads", headers=bearer(token)).status_code == 200
    db.session.expire_all()
    assert db.session.get(ApiKey, key.id).last_used_at is not None
    listed = runner.invoke(args=["api-keys", "list"])
    assert key.prefix in listed.output and token not in listed.output and "active" in listed.output
    assert runner.invoke(args=["api-keys", "revoke", key.prefix]).exit_code == 0
    assert client.get("/api/v1/leads", headers=bearer(token)).status_code == 401


def test_cli_refuses_unknown_scopes_and_bad_expiry(runner):
    assert runner.invoke(args=["api-keys", "create", "x", "--scopes", "leads:everything"]).exit_code == 1
    assert (
        runner.invoke(
            args=["api-keys", "create", "x", "--scopes", "leads:read", "--expires", "soon"]
        ).exit_code
        == 1
    )
    assert db.session.scalar(select(ApiKey)) is None


def test_no_key_a_wrong_key_an_expired_key_and_a_cookie_are_401(client, make_token, login_as):
    token = make_token("leads:read", expires_in=timedelta(hours=1))
    key = db.session.scalar(select(ApiKey))
    key.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    staff = login_as("admin")
    for answer in (
        client.get("/api/v1/leads"),
        client.get("/api/v1/leads", headers=bearer(token)),
        client.get("/api/v1/leads", headers=bearer(token[:-2] + "xx")),
        client.get("/api/v1/leads", headers={"Authorization": f"Basic {token}"}),
        staff.get("/api/v1/leads"),
    ):
        assert answer.status_code == 401 and answer.content_type == "application/problem+json"
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_missing_scope_is_403(client, make_token):
    token = make_token("content:read")
    answer = client.post("/api/v1/leads", json={"email": "a@example.cn"}, headers=bearer(token))
    assert answer.status_code == 403 and "leads:write" in answer.json["detail"]


def test_the_rate_limit_counts_per_key(make_app, make_token):
    limited = make_app(RATELIMIT_ENABLED=True, API_RATE_LIMIT="3/minute")
    client = limited.test_client()
    with limited.app_context():
        first, second = make_token("leads:read"), make_token("leads:read")
    answers = [client.get("/api/v1/leads", headers=bearer(first)).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    over = client.get("/api/v1/leads", headers=bearer(first))
    assert over.content_type == "application/problem+json" and over.headers["Retry-After"]
    assert client.get("/api/v1/leads", headers=bearer(second)).status_code == 200


def test_admin_creates_and_revokes_keys(login_as):
    admin = login_as("admin")
    page = admin.post(
        "/admin/api/keys", data={"name": "Data team", "scopes": ["events:write"], "expires": "30d"}
    )
    assert page.status_code == 200
    key = db.session.scalar(select(ApiKey))
    text = page.get_data(as_text=True)
    assert f"{key.prefix}_" in text and key.name in text
    again = admin.get("/admin/api/keys").get_data(as_text=True)
    assert f"{key.prefix}_" not in again and key.prefix in again
    # Revoking asks first, in words, and changes nothing until confirmed.
    asked = admin.get(f"/admin/api/keys/{key.id}/revoke?lang=zh_CN").get_data(as_text=True)
    assert "要吊销密钥“Data team”吗？" in asked and "无法撤销" in asked
    assert f'action="/admin/api/keys/{key.id}/revoke"' in asked and 'name="csrf_token"' in asked
    db.session.expire_all()
    assert db.session.get(ApiKey, key.id).revoked_at is None
    assert admin.post(f"/admin/api/keys/{key.id}/revoke").status_code == 302
    db.session.expire_all()
    assert db.session.get(ApiKey, key.id).revoked_at is not None
    refused = admin.post("/admin/api/keys", data={"name": "", "scopes": []})
    assert refused.status_code == 422


def test_scopes_are_named_by_what_they_open_with_their_codes_beside(login_as, make_token):
    make_token("leads:read", "events:write")
    page = login_as("admin").get("/admin/api/keys?lang=zh_CN").get_data(as_text=True)
    table = page[page.index("<tbody>") : page.index("</tbody>")]
    assert "读取线索、分群成员和下载记录 <code>leads:read</code>" in table
    assert "记录事件 <code>events:write</code>" in table
    form = page[page.index('class="key-form"') :]
    for scope in SCOPES:  # the checkboxes say what each opens, its code beside
        assert f'value="{scope}"' in form
    assert "将线索加入培育序列 <code>campaigns:write</code>" in form


def test_only_admins_manage_keys(login_as, make_token):
    make_token("leads:read")
    key = db.session.scalar(select(ApiKey))
    marketer = login_as("marketer")
    assert marketer.get("/admin/api/keys").status_code == 403
    assert marketer.post(f"/admin/api/keys/{key.id}/revoke").status_code == 403
    assert marketer.get(f"/admin/api/keys/{key.id}/revoke").status_code == 403
    assert marketer.get("/admin/api/reference").status_code == 200
    assert revoke_key(key, now=utcnow()) is True and revoke_key(key, now=utcnow()) is False


def test_writes_need_no_browser_csrf_token_when_csrf_is_on(make_app, make_token):
    guarded = make_app(WTF_CSRF_ENABLED=True)
    with guarded.app_context():
        token = make_token("leads:write")
    client = guarded.test_client()
    answer = client.post("/api/v1/leads", json={"email": "csrf@example.cn"}, headers=bearer(token))
    assert answer.status_code == 201
    assert client.post("/api/v1/leads", json={"email": "csrf@example.cn"}).status_code == 401


def test_the_reference_says_in_chinese_that_it_is_english_and_marks_it_so(login_as):
    page = login_as("marketer").get("/admin/api/reference?lang=zh_CN").get_data(as_text=True)
    assert "以下接口参考为英文" in page
    assert '<div lang="en">\n<div id="api-reference"' in page  # screen readers read it as English
