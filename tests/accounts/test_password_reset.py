"""A forgotten password: a staff user asks on the sign-in page for a link by mail (the
page says the same whoever asks), the link (signed, good once, for PASSWORD_RESET_HOURS)
sets a new password under the policy and signs in, and every other session ends."""

import re
from datetime import timedelta

import pytest

from accounts import invitations
from accounts.models import User
from core.extensions import db
from core.timeutil import utcnow
from nurture.models import Message
from tests.conftest import assert_staff_mail, mail_texts
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.usefixtures("app")

NEW_PASSWORD = "copper lantern drifts eastward"
LINK = re.compile(r"http://localhost(/password-reset/[\w.-]+)")


def queued_to(address: str) -> list[Message]:
    return db.session.scalars(db.select(Message).where(Message.to_address == address)).all()


def test_the_sign_in_page_leads_to_a_link_by_mail_that_sets_a_new_password(
    client, runner, smtp_sink, login_as
):
    staff = UserFactory(role="editor", email="li@example.com", name="李雷")
    elsewhere = login_as("editor", email="other-device@example.com")  # another sign-in of another user
    assert 'href="/password-reset"' in client.get("/login").get_data(as_text=True)
    asked = client.post("/password-reset", data={"email": " LI@example.com "})
    assert asked.status_code == 200
    assert "设置新密码的链接已发出" in asked.get_data(as_text=True)

    assert runner.invoke(args=["nurture", "tick"]).exit_code == 0
    (mail,) = smtp_sink.wait_for(1)
    text, html = mail_texts(mail)
    assert mail["To"] == "li@example.com" and "设置新密码" in mail["Subject"]
    assert_staff_mail(mail, "为您在 Lodestar 的员工账号申请了新密码")
    path = LINK.search(text).group(1)
    assert path in html and "2 小时内有效" in text

    page = client.get(path)
    assert page.status_code == 200 and "li@example.com" in page.get_data(as_text=True)
    weak = client.post(path, data={"new_password": "1234567890", "confirm": "1234567890"})
    assert weak.status_code == 422 and "常见密码" in weak.get_data(as_text=True)
    done = client.post(path, data={"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200  # signed in
    db.session.expire_all()
    assert db.session.get(User, staff.id).check_password(NEW_PASSWORD)
    # The link works once; another user's session is untouched.
    assert client.get(path).status_code == 404
    assert elsewhere.get("/admin/").status_code == 200


def test_an_unknown_or_deactivated_address_gets_the_same_answer_and_no_mail(client):
    UserFactory(role="sales", email="gone@example.com", active=False)
    answers = [
        client.post("/password-reset", data={"email": address}).get_data(as_text=True)
        for address in ("nobody@example.com", "gone@example.com")
    ]
    assert all("设置新密码的链接已发出" in answer for answer in answers)
    assert queued_to("nobody@example.com") == [] and queued_to("gone@example.com") == []
    refused = client.post("/password-reset", data={"email": ""})
    assert refused.status_code == 422 and 'id="email-error"' in refused.get_data(as_text=True)


def test_a_link_stops_at_its_deadline_a_new_password_or_a_deactivation_and_a_forged_one_never_works(client):
    staff = UserFactory(role="marketer", email="wang@example.com")
    now = utcnow()
    expired = invitations._link_token(invitations.RESET_PURPOSE, staff, now - timedelta(minutes=1))
    assert client.get(f"/password-reset/{expired}").status_code == 410
    fresh = invitations._link_token(invitations.RESET_PURPOSE, staff, now + timedelta(hours=2))
    assert client.get(f"/password-reset/{fresh}").status_code == 200
    assert client.get(f"/password-reset/{fresh[:-2]}xx").status_code == 404  # tampered
    invitation = invitations.invitation_token(staff, now=now)  # another purpose's token
    assert client.get(f"/password-reset/{invitation}").status_code == 404
    staff.set_password(TEST_PASSWORD + "x")  # a new password meanwhile
    db.session.commit()
    assert client.get(f"/password-reset/{fresh}").status_code == 404
    later = invitations._link_token(invitations.RESET_PURPOSE, staff, now + timedelta(hours=2))
    staff.active = False
    db.session.commit()
    assert (
        client.post(
            f"/password-reset/{later}", data={"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
        ).status_code
        == 404
    )


def test_an_invited_user_who_asks_gets_a_new_invitation(client):
    invited = User(email="new@example.com", role="editor", name="新人", password_hash="")
    db.session.add(invited)
    db.session.commit()
    client.post("/password-reset", data={"email": "new@example.com"})
    [message] = queued_to("new@example.com")
    assert message.template == invitations.TEMPLATE and "/invitation/" in message.context["url"]


def test_asking_is_rate_limited(make_app):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="2 per minute")
    browser = app.test_client()
    statuses = [
        browser.post("/password-reset", data={"email": "x@example.com"}).status_code for _ in range(3)
    ]
    assert statuses == [200, 200, 429]


def test_a_link_mailed_to_an_address_the_user_no_longer_has_stops_working(client, login_as):
    staff = UserFactory(role="editor", email="old-box@example.com", name="林小红")
    now = utcnow()
    mailed = invitations._link_token(invitations.RESET_PURPOSE, staff, now + timedelta(hours=2))
    invited = invitations.invitation_token(staff, now=now)
    assert client.get(f"/password-reset/{mailed}").status_code == 200
    admin = login_as("admin")
    assert "已发到旧邮箱的链接随即失效" in admin.get(f"/admin/users/{staff.id}").get_data(as_text=True)
    changed = admin.post(
        f"/admin/users/{staff.id}/profile", data={"name": "林小红", "email": "new-box@example.com"}
    )
    assert changed.status_code == 303
    assert db.session.get(User, staff.id).email == "new-box@example.com"
    assert client.get(f"/password-reset/{mailed}").status_code == 404
    assert client.get(f"/invitation/{invited}").status_code == 404
    set_anyway = client.post(
        f"/password-reset/{mailed}", data={"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert set_anyway.status_code == 404
    db.session.expire_all()
    assert not db.session.get(User, staff.id).check_password(NEW_PASSWORD)
    # A link to the new address works.
    again = invitations._link_token(
        invitations.RESET_PURPOSE, db.session.get(User, staff.id), now + timedelta(hours=2)
    )
    assert client.get(f"/password-reset/{again}").status_code == 200
