"""What several browser journeys do: sign a staff user in through the login page."""

STAFF_PASSWORD = "long enough pw"


def sign_in(page, email: str, password: str = STAFF_PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/admin/")
