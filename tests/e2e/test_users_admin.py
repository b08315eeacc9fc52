"""An administrator adds a staff user on a phone (390 × 844), by typing and the keyboard
alone, and the invited user sets a password through the mailed link."""

import os

from accounts import services
from core.extensions import db
from nurture.models import Message
from tests.e2e.helpers import fits, shoot, sign_in, sized_context

NEW_PASSWORD = "copper lantern drifts eastward"


def test_an_admin_adds_a_user_on_a_phone_with_the_keyboard(live_app, live_server, browser):
    with live_app.app_context():
        services.create_user("chief@example.com", role="admin", password="long enough pw", name="王管理")
        db.session.remove()
    context = sized_context(browser, live_server, "phone")
    page = context.new_page()
    sign_in(page, "chief@example.com")
    page.goto("/admin/users/")
    assert fits(page)
    assert page.get_by_role("heading", level=1).inner_text().startswith("员工账号")

    page.get_by_role("link", name="添加用户").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/users/new")
    page.get_by_label("邮箱").focus()
    page.keyboard.type("zhao@example.com")
    page.keyboard.press("Tab")
    page.keyboard.type("赵小明")
    page.keyboard.press("Tab")
    # Sent without choosing a role: none is assumed, the form asks for one.
    assert page.get_by_label("角色").input_value() == ""
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert page.locator("#role-error").inner_text() == "请为新用户选择角色。"
    assert page.get_by_label("邮箱").input_value() == "zhao@example.com"
    page.get_by_label("角色").focus()
    page.keyboard.press("ArrowDown")  # 请选择角色 → 管理员
    page.keyboard.press("ArrowDown")  # → 编辑
    page.keyboard.press("ArrowDown")  # → 市场
    assert page.get_by_label("角色").input_value() == "marketer"
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/users/")
    assert page.get_by_text("已添加 zhao@example.com").is_visible()
    row = page.get_by_role("row").filter(has_text="赵小明")
    assert "市场" in row.inner_text() and "已邀请" in row.inner_text()
    assert fits(page)
    if os.environ.get("LODESTAR_SCREENSHOT_DIR"):
        page.screenshot(
            path=os.path.join(os.environ["LODESTAR_SCREENSHOT_DIR"], "users-phone.png"), full_page=True
        )

    with live_app.app_context():
        url = db.session.scalars(
            db.select(Message.context).where(Message.to_address == "zhao@example.com")
        ).one()["url"]
        db.session.remove()
    invited = context.browser.new_context(base_url=live_server.url, locale="zh-CN")
    other = invited.new_page()
    other.goto(url)
    other.get_by_label("新密码", exact=True).fill(NEW_PASSWORD)
    other.get_by_label("再次输入新密码").fill(NEW_PASSWORD)
    other.get_by_role("button", name="设置密码并登录").click()
    other.wait_for_url("**/admin/")
    assert other.get_by_role("heading", level=1).inner_text().startswith("欢迎")
    invited.close()
    context.close()


def test_an_admin_corrects_a_misspelt_name_and_address_on_a_phone(live_app, live_server, browser):
    with live_app.app_context():
        services.create_user("boss@example.com", role="admin", password="long enough pw", name="李管理")
        services.create_user("zhang@exmaple.com", role="sales", password="long enough pw", name="张山")
        services.create_user("taken@example.com", role="sales", password="long enough pw", name="已有")
        user_id = services.find_user("zhang@exmaple.com").id
        db.session.remove()
    for size in ("phone", "desktop"):
        context = sized_context(browser, live_server, size)
        page = context.new_page()
        sign_in(page, "boss@example.com")
        page.goto(f"/admin/users/{user_id}")
        name, email = page.get_by_label("姓名"), page.get_by_label("邮箱")
        if size == "phone":
            name.fill("")
            name.type("张珊")
            email.fill("")
            email.type("taken@example.com")
            email.press("Enter")  # Enter in a field sends its form
            page.wait_for_load_state()
            error = page.locator("#email-error")
            assert error.inner_text() == "已有员工使用这个邮箱。"
            assert page.get_by_label("姓名").input_value() == "张珊"  # what was typed stays
            assert fits(page)
            shoot(page, "user-profile-error-phone")
            page.get_by_label("邮箱").fill("zhang@example.com")
            page.get_by_role("button", name="保存姓名和邮箱").click()
            page.wait_for_url(f"**/admin/users/{user_id}")
            assert page.get_by_text("已保存 张珊 的姓名和邮箱。").is_visible()
            assert page.get_by_role("heading", level=1).inner_text().startswith("张珊")
        assert fits(page)
        shoot(page, f"user-profile-{size}")
        context.close()
    with live_app.app_context():
        corrected = services.find_user("zhang@example.com")
        assert (corrected.id, corrected.name, corrected.role) == (user_id, "张珊", "sales")
        db.session.remove()
