"""The admin sidebar: links grouped (内容 / 营销 / 销售 / 支持 / 设置) in that order, each
role seeing only the groups and links it may open."""

import re

import pytest

from core.hooks import add_admin_nav

pytestmark = pytest.mark.usefixtures("app")


def nav_html(client) -> str:
    html = client.get("/admin/?lang=zh_CN").get_data(as_text=True)
    return re.search(r'<nav class="admin-nav".*?</nav>', html, flags=re.S).group(0)


def sidebar(client) -> dict[str, list[str]]:
    """{group: [link, …]} as the sidebar shows them ("": the links above every group)."""
    groups, current = {}, ""
    for group, link in re.findall(
        r'<p class="nav-group"[^>]*>([^<]+)</p>|<a href="[^"]+"[^>]*>([^<]+)</a>', nav_html(client)
    ):
        if group:
            current = group
        else:
            groups.setdefault(current, []).append(link)
    return groups


def test_an_admin_sees_every_group_in_order(login_as):
    groups = sidebar(login_as("admin"))
    assert list(groups) == ["", "内容", "营销", "销售", "支持", "设置"]
    assert groups[""] == ["概览", "分享内容"] and "线索" in groups["销售"] and "培育序列" in groups["营销"]
    assert "同义词" in groups["设置"] and "支持等级" in groups["设置"]


def test_each_role_sees_only_what_it_may_open(login_as):
    editor = sidebar(login_as("editor"))
    assert "营销" not in editor and "销售" not in editor and "内容" in editor
    sales = sidebar(login_as("sales"))
    assert "内容" not in sales and "设置" not in sales and "线索" in sales["销售"]
    for role in ("editor", "marketer", "sales"):
        client = login_as(role)
        for href in re.findall(r'href="([^"]+)"', nav_html(client)):
            assert client.get(href).status_code == 200, (role, href)


def test_a_group_must_be_one_of_the_five(app):
    with pytest.raises(ValueError, match="marketing"):
        add_admin_nav(app, "x", "admin.dashboard", group="misc")
