"""/admin/users: administrators list staff users, invite new ones (a signed, expiring link
by mail to set a password), correct names and addresses, change roles, deactivate and activate; only administrators,
every change CSRF-protected and audited, never leaving the site without an administrator."""

import re
from datetime import timedelta

import pytest

from accounts import invitations, services
from accounts.models import User
from core.extensions import db
from core.timeutil import utcnow
from tests.conftest import assert_staff_mail, mail_texts
from tests.factories import TEST_PASSWORD, UserFactory, audit_entries

pytestmark = pytest.mark.usefixtures("app")

GOOD_PASSWORD = "copper lantern drifts eastward"
NEW_USER = {"email": "lin@example.com", "name": "林小红", "role": "marketer"}
LINK = re.compile(r"http://localhost(/invitation/[\w.-]+)")


def pages(user_id: int) -> list[tuple[str, str]]:
    """Every route of the users page: (method, path)."""
    return [
        ("GET", "/admin/users/"),
        ("GET", "/admin/users/new"),
        ("POST", "/admin/users/new"),
        ("GET", f"/admin/users/{user_id}"),
        ("POST", f"/admin/users/{user_id}"),
        ("POST", f"/admin/users/{user_id}/profile"),
        ("GET", f"/admin/users/{user_id}/deactivate"),
        ("POST", f"/admin/users/{user_id}/deactivate"),
        ("POST", f"/admin/users/{user_id}/activate"),
        ("POST", f"/admin/users/{user_id}/invitation"),
    ]


def invite(client, **fields):
    return client.post("/admin/users/new", data={**NEW_USER, **fields})


def user(email: str) -> User:
    db.session.expire_all()
    return services.find_user(email)


def text_of(response) -> str:
    """A page's visible words: tags, scripts and styles left out."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.mark.parametrize("role", ["editor", "marketer", "sales"])
def test_only_administrators_reach_any_route(login_as, client, role):
    target = UserFactory()
    staff = login_as(role)
    for method, path in pages(target.id):
        assert staff.open(path, method=method, data={"role": "admin"}).status_code == 403, (method, path)
        assert client.open(path, method=method).status_code == 302, (method, path)  # to the login page
    assert user(target.email).role == "editor" and user(target.email).active
    assert "/admin/users/" not in staff.get("/admin/").get_data(as_text=True)


def test_the_list_shows_users_in_words_and_the_menu_links_to_it(login_as):
    admin = login_as("admin", name="王管理")
    UserFactory(email="old@example.com", name="离职员工", active=False)
    UserFactory(email="sales@example.com", name="销售甲", role="sales", last_login_at=utcnow())
    page = admin.get("/admin/users/")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert 'href="/admin/users/"' in admin.get("/admin/").get_data(as_text=True)
    for words in (
        "王管理",
        "管理员",
        "销售甲",
        "sales@example.com",
        "销售",
        "离职员工",
        "已停用",
        "启用",
        "从不",
    ):
        assert words in body
    # Active users first.
    assert body.index("销售甲") < body.index("离职员工")


def test_chinese_pages_have_no_english(login_as, client):
    admin = login_as("admin", email="boss@example.com", name="王管理")
    invite(admin)
    invited = user(NEW_USER["email"])
    shown = [
        admin.get("/admin/users/"),
        admin.get("/admin/users/new"),
        admin.get(f"/admin/users/{invited.id}"),
        admin.get(f"/admin/users/{invited.id}/deactivate"),
        invite(admin, email="not-an-address", role="owner"),
        client.get(LINK.search(_mailed_link(invited)).group(1)),
        client.get("/invitation/forged"),
    ]
    for response in shown:
        words = text_of(response)
        words = re.sub(r"[\w.+-]+@[\w.-]+|not-an-address|Lodestar|English|name@example\.com", " ", words)
        # Acronyms (the menu's CRM, API) and the language switch's "English" are names.
        assert re.findall(r"[A-Za-z]*[a-z]{2,}[A-Za-z]*", words) == [], response.request.path


def _mailed_link(invited: User) -> str:
    """The invitation link as queued for `invited` (the mail's context)."""
    from nurture.models import Message

    message = db.session.scalars(db.select(Message).where(Message.to_address == invited.email)).first()
    return message.context["url"]


def test_an_invited_user_gets_a_link_by_mail_and_sets_their_password(login_as, client, runner, smtp_sink):
    admin = login_as("admin", email="boss@example.com", name="王管理")
    response = invite(admin)
    assert response.status_code == 303
    invited = user(NEW_USER["email"])
    assert (invited.name, invited.role, invited.active, invited.has_password) == (
        "林小红",
        "marketer",
        True,
        False,
    )
    # No password signs an invited user in, not even an empty one.
    assert services.authenticate(invited.email, "") is None
    [entry] = audit_entries("accounts.user_create")
    assert entry.user_id == admin.user.id and entry.target == f"user:{invited.id}"
    assert entry.details == {"email": "lin@example.com", "name": "林小红", "role": "市场"}
    assert "已邀请" in admin.get("/admin/users/").get_data(as_text=True)

    assert runner.invoke(args=["nurture", "tick"]).exit_code == 0
    (mail,) = smtp_sink.wait_for(1)
    text, html = mail_texts(mail)
    assert mail["To"] == "lin@example.com" and "员工账号" in mail["Subject"]
    assert "王管理 已将您添加为 Lodestar 的市场" in text
    assert_staff_mail(mail, "的管理员将您添加为员工")
    path = LINK.search(text).group(1)
    assert path in html

    weak = client.post(path, data={"new_password": "1234567890", "confirm": "1234567890"})
    assert weak.status_code == 422
    assert re.search(r'class="error" id="new_password-error">[^<]*常见密码', weak.get_data(as_text=True))
    assert not user(invited.email).has_password

    done = client.post(path, data={"new_password": GOOD_PASSWORD, "confirm": GOOD_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200  # signed in
    assert user(invited.email).check_password(GOOD_PASSWORD)
    # The link works once.
    assert client.get(path).status_code == 404
    again = client.post(path, data={"new_password": "another long passphrase 7", "confirm": "x"})
    assert again.status_code == 404 and user(invited.email).check_password(GOOD_PASSWORD)


def test_an_invitation_link_expires_and_a_tampered_one_is_refused(login_as, client):
    admin = login_as("admin")
    invite(admin)
    invited = user(NEW_USER["email"])
    now = utcnow()
    token = invitations.invitation_token(invited, now=now)
    assert invitations.invited_user(token, now=now + timedelta(days=6)).id == invited.id
    with pytest.raises(invitations.InvalidInvitation) as expired:
        invitations.invited_user(token, now=now + timedelta(days=7, minutes=1))
    assert expired.value.expired

    old = invitations.invitation_token(invited, now=now - timedelta(days=8))
    page = client.get(f"/invitation/{old}")
    assert page.status_code == 410 and "邀请已过期" in page.get_data(as_text=True)
    refused = client.post(
        f"/invitation/{old}", data={"new_password": GOOD_PASSWORD, "confirm": GOOD_PASSWORD}
    )
    assert refused.status_code == 410 and not user(invited.email).has_password

    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.get(f"/invitation/{tampered}").status_code == 404
    # A token signed for another purpose (a download's) is not an invitation.
    from core.tokens import sign

    other = sign("download", {"user": invited.id, "version": invited.session_version, "until": "2999-01-01"})
    assert client.get(f"/invitation/{other}").status_code == 404
    # Deactivating the user withdraws the invitation.
    login_as("admin")
    admin.post(f"/admin/users/{invited.id}/deactivate")
    assert client.get(f"/invitation/{token}").status_code == 404


def test_bad_input_is_explained_beside_its_field_and_keeps_what_was_typed(login_as):
    admin = login_as("admin")
    UserFactory(email="taken@example.com")
    cases = [
        ({"email": "not-an-address"}, "email", "请填写有效的邮箱地址"),
        ({"email": "Taken@Example.com"}, "email", "已有员工使用这个邮箱"),
        ({"role": "owner"}, "role", "请从列表中选择角色"),
        # Left as the page shows it: no role is assumed, least of all an administrator's.
        ({"role": ""}, "role", "请为新用户选择角色。"),
    ]
    for fields, field, message in cases:
        response = invite(admin, **fields)
        body = response.get_data(as_text=True)
        assert response.status_code == 422, fields
        assert re.search(rf'id="{field}-error">{message}', body), fields
        assert 'value="林小红"' in body  # the name typed stays
        if field == "email":
            assert f'value="{fields["email"]}"' in body
    assert services.find_user("not-an-address") is None
    assert audit_entries("accounts.user_create") == []


def test_the_new_user_form_asks_for_a_role_and_assumes_none(login_as):
    admin = login_as("admin")
    page = admin.get("/admin/users/new").get_data(as_text=True)
    select = re.search(r'<select[^>]*name="role"[^>]*>(.*?)</select>', page, re.S).group(1)
    assert select.startswith('<option value="">请选择角色</option>') and "selected" not in select


def test_invitation_page_refuses_mismatched_passwords_beside_the_field(login_as, client):
    admin = login_as("admin")
    invite(admin)
    path = LINK.search(_mailed_link(user(NEW_USER["email"]))).group(1)
    response = client.post(path, data={"new_password": GOOD_PASSWORD, "confirm": "something else"})
    assert response.status_code == 422 and 'id="confirm-error"' in response.get_data(as_text=True)


def test_changing_a_role_ends_the_users_sessions_and_is_audited(login_as):
    admin = login_as("admin")
    editor = login_as("editor", email="ed@example.com")
    assert editor.get("/admin/").status_code == 200
    response = admin.post(f"/admin/users/{editor.user.id}", data={"role": "sales"})
    assert response.status_code == 303
    assert user("ed@example.com").role == "sales"
    assert editor.get("/admin/").status_code == 302  # signed out
    [entry] = audit_entries("accounts.user_change")
    assert entry.details == {"email": "ed@example.com", "role": "编辑 → 销售"}
    assert "角色：编辑 → 销售" in admin.get("/admin/audit/").get_data(as_text=True)

    unknown = admin.post(f"/admin/users/{editor.user.id}", data={"role": "owner"})
    assert unknown.status_code == 422 and "请从列表中选择角色" in unknown.get_data(as_text=True)
    assert user("ed@example.com").role == "sales"


def test_deactivating_asks_first_then_ends_sessions_and_sign_in(login_as, client):
    admin = login_as("admin")
    editor = login_as("editor", email="ed@example.com")
    confirm = admin.get(f"/admin/users/{editor.user.id}/deactivate")
    assert confirm.status_code == 200 and "停用 Staff" in confirm.get_data(as_text=True)
    assert user("ed@example.com").active  # asking changes nothing

    assert admin.post(f"/admin/users/{editor.user.id}/deactivate").status_code == 303
    assert not user("ed@example.com").active
    assert editor.get("/admin/").status_code == 302
    refused = client.post("/login", data={"email": "ed@example.com", "password": TEST_PASSWORD})
    assert refused.status_code == 401
    assert [entry.details for entry in audit_entries("accounts.user_change")] == [
        {"email": "ed@example.com", "status": "已停用"}
    ]

    assert admin.post(f"/admin/users/{editor.user.id}/activate").status_code == 303
    assert user("ed@example.com").active
    assert (
        client.post("/login", data={"email": "ed@example.com", "password": TEST_PASSWORD}).status_code == 302
    )
    assert audit_entries("accounts.user_change")[-1].details == {"email": "ed@example.com", "status": "启用"}


def test_an_admin_cannot_deactivate_or_demote_themselves(login_as):
    admin = login_as("admin")
    UserFactory(role="admin")
    response = admin.post(f"/admin/users/{admin.user.id}/deactivate", follow_redirects=True)
    assert "您不能更改自己的角色或停用自己" in response.get_data(as_text=True)
    demoted = admin.post(f"/admin/users/{admin.user.id}", data={"role": "editor"})
    assert demoted.status_code == 422 and "您不能更改自己的角色或停用自己" in demoted.get_data(as_text=True)
    db.session.expire_all()
    assert (admin.user.role, admin.user.active) == ("admin", True)
    assert audit_entries("accounts.user_change") == []


def test_the_last_active_administrator_stays(runner):
    last = UserFactory(email="boss@example.com", role="admin")
    UserFactory(email="gone@example.com", role="admin", active=False)
    with pytest.raises(services.LastAdmin):
        services.set_active(last.email, False)
    with pytest.raises(services.LastAdmin):
        services.set_role(last.email, "editor")
    result = runner.invoke(args=["users", "deactivate", "boss@example.com"])
    assert result.exit_code == 1 and "last active administrator" in result.output
    assert user("boss@example.com").active and user("boss@example.com").role == "admin"
    # With a second active administrator, either may go.
    UserFactory(role="admin")
    services.set_role(last.email, "editor")
    assert user("boss@example.com").role == "editor"


def test_a_new_invitation_can_be_sent_until_the_password_is_set(login_as):
    admin = login_as("admin")
    invite(admin)
    invited = user(NEW_USER["email"])
    assert admin.post(f"/admin/users/{invited.id}/invitation").status_code == 303
    from nurture.models import Message

    assert db.session.scalar(db.select(db.func.count()).select_from(Message)) == 2
    [entry] = audit_entries("accounts.user_change")
    assert entry.details == {"email": invited.email, "summary": "重新发送了邀请"}


def test_every_change_needs_the_csrf_token(make_app, login_as):
    app = make_app(WTF_CSRF_ENABLED=True)
    target = UserFactory(email="ed@example.com")
    admin = login_as("admin", client=app.test_client())
    for method, path in pages(target.id):
        if method == "POST":
            assert admin.post(path, data={**NEW_USER, "role": "sales"}).status_code == 400, path
    assert user("ed@example.com").role == "editor" and user("ed@example.com").active
    assert services.find_user(NEW_USER["email"]) is None
    # With the page's token the same change goes through.
    page = admin.get(f"/admin/users/{target.id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert (
        admin.post(f"/admin/users/{target.id}", data={"role": "sales", "csrf_token": token}).status_code
        == 303
    )
    assert user("ed@example.com").role == "sales"


def test_an_administrator_corrects_a_name_and_address_and_the_user_signs_in_with_the_new_one(
    login_as, client
):
    admin = login_as("admin")
    editor = UserFactory(email="old@example.com", name="林小红")
    page = admin.get(f"/admin/users/{editor.id}").get_data(as_text=True)
    assert "姓名和邮箱" in page and 'value="old@example.com"' in page and 'value="林小红"' in page

    response = admin.post(
        f"/admin/users/{editor.id}/profile", data={"name": " 林晓红 ", "email": "Lin.XH@Example.com"}
    )
    assert response.status_code == 303
    changed = user("lin.xh@example.com")
    assert (changed.id, changed.name, changed.role) == (editor.id, "林晓红", "editor")
    assert user("old@example.com") is None
    [entry] = audit_entries("accounts.user_change")
    assert entry.details == {"email": "old@example.com → lin.xh@example.com", "name": "林小红 → 林晓红"}
    shown = admin.get(f"/admin/users/{editor.id}").get_data(as_text=True)
    assert "已保存 林晓红 的姓名和邮箱。" in shown
    # The address is the one to sign in with now.
    signed_in = client.post("/login", data={"email": "lin.xh@example.com", "password": TEST_PASSWORD})
    assert signed_in.status_code == 302 and "/login" not in signed_in.headers["Location"]

    # Saving what is stored changes nothing and records nothing.
    admin.post(f"/admin/users/{editor.id}/profile", data={"name": "林晓红", "email": "Lin.XH@example.com"})
    assert len(audit_entries("accounts.user_change")) == 1


def test_a_bad_or_taken_address_is_explained_beside_the_field_and_nothing_changes(login_as):
    admin = login_as("admin")
    editor = UserFactory(email="ed@example.com", name="编辑甲")
    UserFactory(email="taken@example.com", name="其他员工")
    cases = [
        ({"email": "not-an-address"}, "请填写有效的邮箱地址"),
        ({"email": "Taken@Example.com"}, "已有员工使用这个邮箱"),
        ({"email": ""}, "请填写用户的邮箱。"),
        ({"name": "长" * 121}, ""),
    ]
    for fields, message in cases:
        data = {"name": "编辑乙", "email": "ed@example.com", **fields}
        response = admin.post(f"/admin/users/{editor.id}/profile", data=data)
        body = response.get_data(as_text=True)
        assert response.status_code == 422, fields
        field = next(iter(fields))
        assert re.search(rf'id="{field}-error">{message}', body), fields
        assert f'value="{data["email"]}"' in body  # what was typed stays
        assert 'id="role"' in body or "这是您" in body  # the rest of the page is still there
    assert (user("ed@example.com").name, user("taken@example.com").name) == ("编辑甲", "其他员工")
    assert audit_entries("accounts.user_change") == []
