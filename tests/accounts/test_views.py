"""Login, logout, the role guard and the login rate limit."""

import pytest
from flask import Blueprint

from accounts.guards import roles_required
from tests.factories import TEST_PASSWORD, UserFactory


def test_admin_requires_login(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/login?next=%2Fadmin%2F" in response.headers["Location"]


def test_login_then_logout(client):
    UserFactory(email="ed@example.com", role="editor")
    response = client.post(
        "/login", data={"email": "ed@example.com", "password": TEST_PASSWORD, "next": "/admin/"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    client.post("/logout")
    assert client.get("/admin/").status_code == 302


def test_wrong_password_is_401_with_message(client):
    UserFactory(email="ed@example.com")
    response = client.post(
        "/login",
        data={"email": "ed@example.com", "password": "wrong password"},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 401
    assert "Wrong email or password" in response.get_data(as_text=True)


def test_login_next_is_never_off_site(client):
    UserFactory(email="ed@example.com")
    response = client.post(
        "/login", data={"email": "ed@example.com", "password": TEST_PASSWORD, "next": "//evil.example/x"}
    )
    assert response.headers["Location"] == "/admin/"


@pytest.fixture(scope="module")
def guarded_app(make_app):
    app = make_app()
    bp = Blueprint("probe", __name__)
    for role in ("editor", "marketer", "sales"):

        def view(role=role):
            return role

        bp.add_url_rule(f"/admin/probe/{role}", f"only_{role}", roles_required(role)(view))
    app.register_blueprint(bp)
    from tests.conftest import IsolatedClient

    app.test_client_class = IsolatedClient
    return app


@pytest.mark.parametrize("role", ["editor", "marketer", "sales", "admin"])
def test_each_role_sees_only_its_views(guarded_app, login_as, role):
    client = login_as(role, client=guarded_app.test_client())
    for view_role in ("editor", "marketer", "sales"):
        status = client.get(f"/admin/probe/{view_role}").status_code
        assert status == (200 if role in (view_role, "admin") else 403), (role, view_role)


def test_admin_nav_lists_only_what_the_role_may_open(login_as):
    client = login_as("sales")
    page = client.get("/admin/").get_data(as_text=True)
    assert 'href="/admin/"' in page


def test_login_is_rate_limited(make_app):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    statuses = [
        client.post("/login", data={"email": f"x{i}@example.com", "password": "nope"}).status_code
        for i in range(4)
    ]
    assert statuses[:3] == [401, 401, 401]
    assert statuses[3] == 429
    assert 'class="error-code"' in client.post(
        "/login", data={"email": "y@example.com", "password": "n"}
    ).get_data(as_text=True)
