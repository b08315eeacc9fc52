"""Staff sessions end when they should: a session or remember cookie copied before a
sign-out, a password change, a role change or a deactivation opens nothing after it; a
sign-in starts a new session and a new remember cookie of bounded life."""

import re
from datetime import timedelta
from email.utils import parsedate_to_datetime

import pytest

from accounts import services
from core.timeutil import utcnow
from tests.conftest import sign_in_session
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.usefixtures("app")

STAFF_PAGE = "/admin/leads/"


def sign_in(client, email="boss@example.com"):
    response = client.post("/login", data={"email": email, "password": TEST_PASSWORD, "remember": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)
    return {name: client.get_cookie(name).value for name in ("session", "remember_token")}


def opens_staff_page(app, cookies: dict) -> bool:
    """Whether a new browser holding only these cookies gets the staff page."""
    other = app.test_client()
    for name, value in cookies.items():
        other.set_cookie(name, value)
    return other.get(STAFF_PAGE).status_code == 200


@pytest.fixture
def boss():
    return UserFactory(email="boss@example.com", role="admin")


def replayed(app, cookies):
    """Each cookie alone, as an attacker who copied one of them would send it."""
    return [opens_staff_page(app, {name: value}) for name, value in cookies.items()]


def test_copied_cookies_open_the_staff_area_until_sign_out(app, client, boss):
    cookies = sign_in(client)
    assert replayed(app, cookies) == [True, True]
    client.post("/logout")
    assert replayed(app, cookies) == [False, False]
    assert client.get(STAFF_PAGE).status_code == 302


@pytest.mark.parametrize(
    "command",
    [
        ["users", "set-password", "boss@example.com", "--password", "another long passphrase 7"],
        ["users", "set-role", "boss@example.com", "sales"],
        ["users", "deactivate", "boss@example.com"],
        ["users", "sign-out", "boss@example.com"],
    ],
)
def test_each_change_to_the_user_ends_every_session(app, client, runner, boss, command):
    UserFactory(role="admin")  # the site keeps an active administrator whatever boss becomes
    cookies = sign_in(client)
    result = runner.invoke(args=command)
    assert result.exit_code == 0, result.output
    assert replayed(app, cookies) == [False, False]
    assert client.get(STAFF_PAGE).status_code == 302


def test_a_change_made_by_any_code_ends_sessions(app, client, boss):
    """The model bumps the version itself, so code that sets a role directly ends
    sessions as the services do."""
    from core.extensions import db

    cookies = sign_in(client)
    boss.role = "marketer"
    db.session.commit()
    assert replayed(app, cookies) == [False, False]


def test_every_sign_in_gets_its_own_remember_cookie_with_samesite_and_14_days(app, boss):
    first, second = app.test_client(), app.test_client()
    tokens = [sign_in(first)["remember_token"], sign_in(second)["remember_token"]]
    assert tokens[0] != tokens[1]
    response = app.test_client().post(
        "/login", data={"email": "boss@example.com", "password": TEST_PASSWORD, "remember": "y"}
    )
    header = next(
        value for value in response.headers.getlist("Set-Cookie") if value.startswith("remember_token=")
    )
    assert "SameSite=Lax" in header and "HttpOnly" in header
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", header).group(1))
    lasts = expires.replace(tzinfo=None) - utcnow()
    assert timedelta(days=13) < lasts <= timedelta(days=14)


def test_a_sign_in_older_than_its_lifetime_opens_nothing(app, boss):
    old = app.test_client()
    with old.session_transaction() as session:
        session["_user_id"] = services.login_key(boss, now=utcnow() - timedelta(days=15))
    assert old.get(STAFF_PAGE).status_code == 302
    fresh = app.test_client()
    sign_in_session(fresh, boss)
    assert fresh.get(STAFF_PAGE).status_code == 200


def test_a_session_with_a_bare_user_id_is_refused(app, boss):
    """What sessions held before session versions: signed, but tied to nothing."""
    old = app.test_client()
    with old.session_transaction() as session:
        session["_user_id"] = str(boss.id)
    assert old.get(STAFF_PAGE).status_code == 302


def test_sign_in_starts_a_new_session_with_a_new_csrf_secret(make_app):
    protected = make_app(WTF_CSRF_ENABLED=True)
    with protected.app_context():
        UserFactory(email="boss@example.com", role="admin")
        client = protected.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        with client.session_transaction() as session:
            before = session["csrf_token"]
            session["planted"] = "by someone who set this cookie"
        response = client.post(
            "/login", data={"email": "boss@example.com", "password": TEST_PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 302
        with client.session_transaction() as session:
            assert "planted" not in session
            assert session.get("csrf_token") != before
        # The token read before signing in no longer passes.
        assert client.post("/logout", data={"csrf_token": token}).status_code == 400
