"""The password policy at every place a password is set, the staff user's own password
form, and a login that hashes whether or not the address is a user's."""

import pytest

from accounts import passwords, services
from accounts.models import User
from core.extensions import db
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.usefixtures("app")

WEAK = [
    "aaaaaaaaaa",
    "abcabcabcabc",
    "1234567890",
    "qwertyuiop",
    "password123",
    "woaini1314",
    "Lodestar2026!",
]
GOOD = "violet tractor umbrella 42"


@pytest.mark.parametrize("password", [*WEAK, "short"])
def test_creating_a_user_refuses_weak_passwords(password):
    with pytest.raises(services.WeakPassword):
        services.create_user("x@example.com", role="editor", password=password)
    assert services.find_user("x@example.com") is None


def test_a_password_made_of_the_users_own_address_is_refused():
    with pytest.raises(services.WeakPassword):
        services.create_user("zhang.wei@yuanjing.cn", role="editor", password="zhang.weiyuanjing")


def test_set_password_command_refuses_weak_passwords_and_keeps_the_old_one(runner):
    UserFactory(email="ops@example.com")
    for password in ("aaaaaaaaaa", "short"):
        result = runner.invoke(args=["users", "set-password", "ops@example.com", "--password", password])
        assert result.exit_code == 1
    assert (
        "重复的字符"
        in runner.invoke(args=["users", "set-password", "ops@example.com", "--password", "aaaaaaaaaa"]).output
    )
    assert services.find_user("ops@example.com").check_password(TEST_PASSWORD)
    assert runner.invoke(args=["users", "set-password", "ops@example.com", "--password", GOOD]).exit_code == 0
    assert services.find_user("ops@example.com").check_password(GOOD)


def test_create_command_refuses_weak_passwords(runner):
    result = runner.invoke(
        args=["users", "create", "q@example.com", "--role", "sales", "--password", "abcdefghij"]
    )
    assert result.exit_code == 1 and "连续的字符" in result.output
    assert services.find_user("q@example.com") is None


def test_the_password_form_says_why_beside_the_field(login_as):
    client = login_as("editor")
    response = client.post(
        "/admin/password",
        data={"current_password": TEST_PASSWORD, "new_password": "aaaaaaaaaa", "confirm": "aaaaaaaaaa"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="new_password-error">重复的字符（如 aaaaaaaaaa 或 abcabcabc）很容易被猜到。</p>' in page
    assert client.user.check_password(TEST_PASSWORD)

    wrong = client.post(
        "/admin/password", data={"current_password": "not it at all", "new_password": GOOD, "confirm": GOOD}
    )
    assert wrong.status_code == 422 and "这不是您当前的密码。" in wrong.get_data(as_text=True)


def test_changing_the_password_keeps_this_session_and_ends_the_others(app, login_as):
    here = login_as("editor")
    elsewhere = app.test_client()
    from tests.conftest import sign_in_session

    sign_in_session(elsewhere, here.user)
    response = here.post(
        "/admin/password", data={"current_password": TEST_PASSWORD, "new_password": GOOD, "confirm": GOOD}
    )
    assert response.status_code == 302
    db.session.refresh(here.user)
    assert here.user.check_password(GOOD)
    assert here.get("/admin/").status_code == 200
    assert elsewhere.get("/admin/").status_code == 302


@pytest.fixture
def hashings(monkeypatch):
    """How often the login checked a password hash (werkzeug's check, counted, still run)."""
    calls = []
    check = passwords.check_password_hash

    def counted(password_hash, password):
        calls.append(password_hash)
        return check(password_hash, password)

    monkeypatch.setattr(passwords, "check_password_hash", counted)
    return calls


@pytest.mark.parametrize("who", ["unknown", "deactivated", "wrong password"])
def test_every_failed_login_hashes_the_password_once(client, hashings, who):
    UserFactory(email="ed@example.com", active=who != "deactivated")
    email = "nobody@example.com" if who == "unknown" else "ed@example.com"
    password = "wrong password" if who == "wrong password" else TEST_PASSWORD
    assert client.post("/login", data={"email": email, "password": password}).status_code == 401
    assert len(hashings) == 1
    if who == "unknown":
        # A hash made as set_password makes them: the same method and cost as a user's.
        probe = User()
        probe.set_password(GOOD)
        assert hashings[0].split("$")[0] == probe.password_hash.split("$")[0]
