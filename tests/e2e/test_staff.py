"""Staff sign-in in a real browser."""

from accounts import services
from core.extensions import db


def test_staff_signs_in_and_sees_the_admin(live_app, page):
    with live_app.app_context():
        services.create_user("ops@example.com", role="editor", password="long enough pw")
        db.session.remove()
    page.goto("/admin/")
    assert "/login" in page.url
    page.get_by_label("邮箱").fill("ops@example.com")
    page.get_by_label("密码").fill("long enough pw")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/admin/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("欢迎")
    assert page.get_by_role("navigation", name="后台栏目").is_visible()


def test_wrong_password_shows_the_message(live_app, page):
    page.goto("/login")
    page.get_by_label("邮箱").fill("nobody@example.com")
    page.get_by_label("密码").fill("wrong password")
    page.get_by_role("button", name="登录").click()
    assert page.get_by_text("邮箱或密码错误。").is_visible()
