"""Each role's staff home, the lead list and a lead's page in the browser, with the demo
data: no serious or critical axe-core violation, no sideways scroll on a phone (390 × 844),
and on a wide screen (1366 × 900) the home's sections side by side."""

import pytest

from accounts import services
from accounts.models import ROLES
from core.extensions import db
from gated.models import Lead
from tests.e2e.helpers import SIZES, STAFF_PASSWORD, fits, serious_violations, sign_in, sized_context

pytestmark = pytest.mark.e2e
# The sections each role's home shows with the demo data, by their headings.
SECTIONS = {
    "editor": {"内容", "帮助中心的缺口", "智能助手"},
    "marketer": {"序列与邮件", "线索", "销售漏斗"},
    "sales": {"销售移交"},
    "admin": {"内容", "序列与邮件", "线索", "销售漏斗", "销售移交", "系统状态"},
}


@pytest.fixture(scope="module")
def staff(live_app, live_server):
    with live_app.app_context():
        assert live_app.test_cli_runner().invoke(args=["demo", "load"]).exit_code == 0
        for role in ROLES:
            services.create_user(f"{role}-home@example.com", role=role, password=STAFF_PASSWORD)
        lead_id = db.session.query(Lead.id).order_by(Lead.score.desc()).first()[0]
        db.session.remove()
    return {"lead": lead_id, **{role: f"{role}-home@example.com" for role in ROLES}}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("role", ROLES)
def test_each_role_home_passes_axe_and_fits(browser, live_server, staff, axe_source, role, size):
    context = sized_context(browser, live_server, size)
    page = context.new_page()
    try:
        sign_in(page, staff[role])
        headings = set(page.locator(".home-panel h2").all_inner_texts())
        assert SECTIONS[role] <= headings, headings
        assert fits(page)
        problems = serious_violations(page, axe_source)
        assert not problems, "\n".join(problems)
        if size == "desktop" and role == "admin":
            # Sections side by side, not one long column.
            tops = page.locator(".home-panel").evaluate_all(
                "all => all.map(s => s.getBoundingClientRect().top)"
            )
            assert len(set(tops)) < len(tops)
    finally:
        context.close()


def test_a_figure_opens_the_list_it_counts(page, staff):
    sign_in(page, staff["marketer"])
    page.get_by_role("link", name="发送失败的邮件").click()
    page.wait_for_url("**/admin/nurture/messages?status=failed")


@pytest.mark.parametrize("size", SIZES)
def test_the_lead_list_and_page_pass_axe_and_fit(browser, live_server, staff, axe_source, size):
    context = sized_context(browser, live_server, size)
    page = context.new_page()
    try:
        sign_in(page, staff["marketer"])
        for path in ("/admin/leads/", f"/admin/leads/{staff['lead']}"):
            assert page.goto(path).ok
            assert fits(page), path
            problems = serious_violations(page, axe_source)
            assert not problems, f"{path}:\n" + "\n".join(problems)
        assert page.locator("#score").is_visible()
    finally:
        context.close()
