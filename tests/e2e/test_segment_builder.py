"""A marketer builds a segment in the browser: the live count and sample follow the
rules as they are typed, a mistake is named beside them, and the segment saves."""

import re

from playwright.sync_api import expect

from accounts import services
from campaigns.models import Segment
from core.extensions import db
from gated.models import Lead
from tests.e2e.helpers import STAFF_PASSWORD, sign_in


def test_the_count_and_sample_follow_the_rules(live_app, page):
    with live_app.app_context():
        services.create_user("builder@example.com", role="marketer", password=STAFF_PASSWORD)
        for n in range(12):
            db.session.add(
                Lead(email=f"boss{n:02d}@mfg.cn", name=f"王{n}", company="华东制造", role="decision_maker")
            )
        db.session.add(Lead(email="user@soft.cn", company="软件公司", role="user"))
        db.session.commit()
        db.session.remove()
    sign_in(page, "builder@example.com")
    page.get_by_role("navigation", name="后台栏目").get_by_role("link", name="受众分群").click()
    page.get_by_role("link", name="新建分群").click()
    rules = page.get_by_label("规则")
    rules.fill("all:\n  - {field: company, op: contains, value: 制造}\n")
    preview = page.get_by_role("region", name="当前成员")
    preview.get_by_text("符合条件的线索：12 位。").wait_for()
    assert preview.get_by_role("row").count() == 11  # the header and ten members
    rules.fill("all:\n  - {field: compnay, op: eq, value: x}\n")
    # The mistake is named beside the rules, by the line it is on, and tied to the field.
    problem = page.locator("#rules-error")
    expect(problem).to_have_text(re.compile(r"^第 2 行：未知字段“compnay”；可用字段：email、name、"))
    expect(rules).to_have_attribute("aria-invalid", "true")
    expect(rules).to_have_attribute("aria-describedby", re.compile(r"\brules-error\b"))
    expect(preview).to_be_hidden()
    rules.fill("any:\n  - {field: role, op: eq, value: user}\n")
    preview.get_by_text("符合条件的线索：1 位。").wait_for()
    expect(problem).to_have_count(0)
    expect(rules).to_have_attribute("aria-invalid", "false")
    page.get_by_label("名称").fill("软件用户")
    page.get_by_label("网址别名（slug）").fill("software-users")
    page.get_by_role("button", name="保存").click()
    page.get_by_text("分群已保存。").wait_for()
    with live_app.app_context():
        assert db.session.query(Segment).one().slug == "software-users"
        db.session.remove()
