"""Sales merges a duplicate lead on a phone (390 × 844): from the lead's page, find the
other lead by its mobile number, compare, keep the other's company, merge, then undo;
no step needs a sideways scroll."""

from accounts import services
from core.extensions import db
from core.timeutil import utcnow
from gated.models import Lead
from tests.e2e.helpers import PHONE, STAFF_PASSWORD, sign_in


def _fits(page) -> bool:
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    return width <= inner <= PHONE["width"]


def test_sales_merges_and_undoes_on_a_phone(browser, live_app, live_server):
    with live_app.app_context():
        services.create_user("merge-sales@example.com", role="sales", password=STAFF_PASSWORD)
        now = utcnow()
        a = Lead(email="zhao@example.cn", name="赵敏", company="甲公司", created_at=now, updated_at=now)
        b = Lead(
            phone="+8613900139000", name="赵敏", company="乙科技有限公司", created_at=now, updated_at=now
        )
        db.session.add_all([a, b])
        db.session.commit()
        a_id, b_id = a.id, b.id
        db.session.remove()
    context = browser.new_context(
        base_url=live_server.url, locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    try:
        sign_in(page, "merge-sales@example.com")
        page.goto(f"/admin/leads/{a_id}")
        page.get_by_role("link", name="合并重复线索").click()
        page.get_by_label("按邮箱、手机号或姓名查找另一条线索").fill("139 0013 9000")
        page.get_by_role("button", name="搜索").click()
        page.get_by_role("link", name="+86 139 0013 9000").click()
        assert _fits(page)
        page.get_by_label("乙科技有限公司").check()
        page.get_by_role("button", name="合并这两条线索").click()
        assert page.get_by_text(f"线索 #{b_id} 已合并到本线索").is_visible()
        assert _fits(page)
        with live_app.app_context():
            assert db.session.get(Lead, b_id) is None
            assert db.session.get(Lead, a_id).company == "乙科技有限公司"
            db.session.remove()
        page.get_by_role("button", name="撤销合并").click()
        assert page.get_by_text(f"线索 #{b_id} 已恢复").is_visible()
        with live_app.app_context():
            assert db.session.get(Lead, b_id).phone == "+8613900139000"
            assert db.session.get(Lead, a_id).company == "甲公司"
            db.session.remove()
    finally:
        context.close()
