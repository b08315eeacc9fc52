"""Creating users and checking passwords."""

import pytest

from accounts import services
from accounts.models import User

pytestmark = pytest.mark.usefixtures("app")


def test_create_user_hashes_password_and_normalises_email():
    user = services.create_user("  Ann@Example.COM ", role="editor", password="long enough pw")
    assert user.email == "ann@example.com"
    assert user.password_hash != "long enough pw"
    assert user.check_password("long enough pw")
    assert not user.check_password("wrong")


@pytest.mark.parametrize(
    ("email", "role", "password", "message"),
    [
        ("x@example.com", "owner", "long enough pw", "unknown role"),
        ("x@example.com", "editor", "short", "10"),
        ("not-an-email", "editor", "long enough pw", "not an email"),
    ],
)
def test_create_user_refuses_bad_input(email, role, password, message):
    with pytest.raises(services.AccountError, match=message):
        services.create_user(email, role=role, password=password)


def test_duplicate_email_refused():
    services.create_user("a@example.com", role="sales", password="long enough pw")
    with pytest.raises(services.AccountError, match="exists"):
        services.create_user("A@example.com", role="sales", password="long enough pw")


def test_authenticate_checks_active_and_records_login():
    user = services.create_user("b@example.com", role="sales", password="long enough pw")
    assert services.authenticate("B@example.com", "long enough pw").id == user.id
    assert user.last_login_at is not None
    assert services.authenticate("b@example.com", "nope nope nope") is None
    user.active = False
    from core.extensions import db

    db.session.commit()
    assert services.authenticate("b@example.com", "long enough pw") is None
    assert isinstance(user, User)
