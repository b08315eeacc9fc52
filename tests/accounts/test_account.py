"""A staff member's own page: the time zone they read times in, saved and refused."""

from core.extensions import db


def test_a_chosen_zone_is_kept_and_shown_back(login_as):
    client = login_as("sales")
    page = client.get("/admin/account?lang=zh_CN").get_data(as_text=True)
    assert "站点时区（中国时间）" in page and "北美东部时间" in page
    response = client.post("/admin/account", data={"timezone": "America/New_York"})
    assert response.status_code == 302
    db.session.refresh(client.user)
    assert client.user.timezone == "America/New_York"
    page = client.get("/admin/account").get_data(as_text=True)
    assert '<option selected value="America/New_York">' in page
    client.post("/admin/account", data={"timezone": ""})
    db.session.refresh(client.user)
    assert client.user.timezone is None


def test_a_zone_not_offered_is_refused_beside_the_field(login_as):
    client = login_as("editor", timezone="Asia/Tokyo")
    response = client.post("/admin/account?lang=zh_CN", data={"timezone": "Mars/Olympus"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="timezone-error"' in page and "不是有效的选择" in page
    db.session.refresh(client.user)
    assert client.user.timezone == "Asia/Tokyo"


def test_the_header_names_the_role_and_links_to_the_account(login_as):
    page = login_as("marketer").get("/admin/?lang=zh_CN").get_data(as_text=True)
    assert 'href="/admin/account"' in page and "· 市场" in page and "marketer" not in page
