"""A marketer in a real browser: builds a two-step sequence, previews a step, sends a test
to themself and activates it; a prospect's download enrolls the lead, a worker pass
delivers step one to the SMTP sink, the sequence page counts it, and the unsubscribe link
of that mail stops everything after it."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from accounts import services as accounts
from core.extensions import db
from core.timeutil import utcnow
from gated.models import Lead
from nurture.models import Enrollment
from tests.e2e.helpers import publish_whitepaper, sign_in

pytestmark = pytest.mark.e2e
SLUG = "e2e-nurture-paper"
PASSWORD = "long enough pw"


@pytest.fixture
def whitepaper(live_app):
    live_app.config["FORM_MIN_FILL_SECONDS"] = 0
    with live_app.app_context():
        publish_whitepaper(SLUG, "增长培育白皮书", b"%PDF-1.4\n% nurture\n%%EOF\n", filename="培育.pdf")
        accounts.create_user("marketer@example.com", role="marketer", password=PASSWORD)
        db.session.remove()


def tick(live_app, *extra):
    result = live_app.test_cli_runner().invoke(args=["nurture", "tick", *extra])
    assert result.exit_code == 0, result.output
    return result.output


def plain(mail):
    return mail.get_body(("plain",)).get_content()


def test_a_marketer_builds_a_sequence_that_nurtures_a_new_lead(
    live_app, browser, live_server, page, whitepaper, smtp_sink
):
    sign_in(page, "marketer@example.com", PASSWORD)

    # Build: the sequence and its first step, every day, all day (the worker runs now).
    page.goto("/admin/nurture/new")
    page.get_by_label("名称", exact=True).fill("白皮书培育")
    page.get_by_label("网址别名（slug）", exact=True).fill("e2e-followup")
    page.get_by_label("触发方式").select_option("asset")
    page.get_by_label("资料标识或表单名称").fill(SLUG)
    for day in page.locator("input[name=days]").all():
        day.check()
    page.get_by_label("开始", exact=True).fill("00:00")
    page.get_by_label("结束", exact=True).fill("24:00")
    page.locator("#steps-0-delay").fill("0h")
    page.locator("#steps-0-subject").fill("{{ lead.first_name or '您好' }},白皮书已送达")
    page.locator("#steps-0-body").fill("您好 {{ lead.name }},这是您要的资料:{{ download_url }}")
    page.get_by_role("button", name="保存旅程").click()
    page.wait_for_url(re.compile(r".*/admin/nurture/\d+$"))
    sequence_url = page.url

    # A second step, previewed for the sample lead and sent as a test to the marketer.
    page.get_by_role("link", name="编辑旅程").click()
    page.get_by_role("button", name="+ 添加一步").click()
    page.locator("#steps-1-delay").fill("3d")
    page.locator("#steps-1-subject").fill("{{ lead.company }} 的续费案例")
    page.locator("#steps-1-body").fill("三天后的第二封:{{ lead.company }} 可以参考的做法。")
    # The live preview (the script presses the hidden Preview button as one types).
    preview = page.frame_locator("iframe[name=preview-1]")
    expect(preview.get_by_text("示例科技有限公司 的续费案例").first).to_be_visible()
    expect(preview.get_by_text("三天后的第二封:示例科技有限公司 可以参考的做法。")).to_be_visible()
    page.locator("#journey-steps > li[data-step]").nth(1).get_by_role(
        "button", name="给我发一封测试邮件"
    ).click()
    expect(page.get_by_text("marketer@example.com").first).to_be_visible()
    tick(live_app)
    (test_mail,) = smtp_sink.wait_for(1)
    assert test_mail["To"] == "marketer@example.com"
    assert "示例科技有限公司 的续费案例" in test_mail["Subject"]
    smtp_sink.clear()

    page.get_by_role("button", name="保存旅程").click()
    page.wait_for_url(sequence_url)
    figures = page.locator("table.figures tbody tr")
    expect(figures).to_have_count(2)
    page.get_by_role("button", name="启用").click()
    expect(page.get_by_role("button", name="启用")).to_have_count(0)

    # A prospect downloads the white paper, consenting to marketing mail: enrolled.
    prospect_context = browser.new_context(base_url=live_server.url, locale="zh-CN")
    try:
        prospect = prospect_context.new_page()
        prospect.goto(f"/library/{SLUG}")
        prospect.get_by_label("工作邮箱").fill("nurtured@example.com")
        prospect.get_by_label("姓名").fill("韩梅梅")
        prospect.get_by_label("公司").fill("远航软件")
        prospect.locator("#consent").check()
        prospect.get_by_role("button", name="获取白皮书").click()
        prospect.wait_for_url(f"**/library/{SLUG}/thanks?t=*")
        with live_app.app_context():
            lead = db.session.scalar(db.select(Lead).where(Lead.email == "nurtured@example.com"))
            (enrollment,) = db.session.scalars(
                db.select(Enrollment).where(Enrollment.lead_id == lead.id)
            ).all()
            assert enrollment.status == "active"
            db.session.remove()

        # One worker pass delivers step one (and the download link the form promised).
        tick(live_app)
        mails = list(smtp_sink.wait_for(2))
        (step_one,) = [mail for mail in mails if "白皮书已送达" in mail["Subject"]]
        assert step_one["To"] == "nurtured@example.com"
        assert step_one["Subject"] == "韩梅梅,白皮书已送达"
        assert "您好 韩梅梅" in plain(step_one)
        assert not any("续费案例" in mail["Subject"] for mail in mails)

        page.goto(sequence_url)
        sent = figures.first.locator("td").nth(5)
        expect(sent).to_have_text("1")
        expect(figures.nth(1).locator("td").nth(5)).to_have_text("0")
        expect(page.get_by_text("nurtured@example.com")).to_be_visible()

        # The unsubscribe link of that mail: a confirm page, then one button.
        url = re.search(r"(http://127\.0\.0\.1:\d+/u/[^\s>]+)", plain(step_one)).group(1)
        prospect.goto(url)
        expect(prospect.get_by_role("heading", name="退订")).to_be_visible()
        prospect.get_by_role("button", name="退订").click()
        expect(prospect.get_by_role("heading", level=1)).to_have_text("您已退订")
    finally:
        prospect_context.close()

    smtp_sink.clear()
    later = (utcnow() + timedelta(days=30)).isoformat()
    tick(live_app, "--now", later)
    with live_app.app_context():
        (enrollment,) = db.session.scalars(db.select(Enrollment)).all()
        assert enrollment.status != "active"
        db.session.remove()
    assert smtp_sink.messages == []
    page.goto(sequence_url)
    expect(figures.nth(1).locator("td").nth(5)).to_have_text("0")
    expect(figures.first.locator("td").nth(8)).to_have_text("1")  # unsubscribed


@pytest.fixture
def expo_leads(live_app):
    """Leads from a trade fair, imported (not through the form): three agreed to
    marketing mail, one is already a customer, one did not agree; and a sequence."""
    from gated.models import Lead as LeadRow
    from nurture import sequences

    with live_app.app_context():
        accounts.create_user("lists@example.com", role="marketer", password=PASSWORD)
        for number, (consent, stage) in enumerate(
            [(True, "new"), (True, "new"), (True, "customer"), (False, "new")]
        ):
            db.session.add(
                LeadRow(
                    email=f"expo{number}@example.com",
                    name=f"展会{number}",
                    source="expo-2026",
                    marketing_consent=consent,
                    stage=stage,
                )
            )
        db.session.add(LeadRow(email="web@example.com", source="website", marketing_consent=True))
        db.session.commit()
        sequences.import_sequence(
            "slug: expo-followup\nname: 展会跟进\nsteps:\n  - {delay: 1d, subject: 展会之后, body: 您好}\n",
            now=utcnow(),
        )
        db.session.remove()


def test_a_marketer_enrolls_a_filtered_lead_list_and_one_lead_again(live_app, page, expo_leads):
    from nurture import exits

    sign_in(page, "lists@example.com", PASSWORD)
    page.goto("/admin/leads/")
    page.get_by_label("来源").select_option("expo-2026")
    page.get_by_role("button", name="搜索", exact=True).click()  # the search and the filters
    page.get_by_label("序列", exact=True).select_option(label="展会跟进")
    page.get_by_role("button", name="将筛选出的线索加入序列…").click()

    # The confirm step counts before anything happens.
    expect(page.get_by_text("筛选后的列表有 4 个线索，其中 3 个同意接收营销邮件。")).to_be_visible()
    page.get_by_role("button", name="将 3 个线索加入序列").click()
    expect(page.get_by_text("4 个线索中 2 个已加入序列；跳过 1 个")).to_be_visible()
    expect(page.get_by_label("来源")).to_have_value("expo-2026")  # back on the filtered list
    with live_app.app_context():
        enrolled = db.session.scalars(
            db.select(Lead.email).join(Enrollment, Enrollment.lead_id == Lead.id).order_by(Lead.email)
        ).all()
        assert "expo0@example.com" in enrolled and "expo1@example.com" in enrolled
        assert not {"expo2@example.com", "expo3@example.com", "web@example.com"} & set(enrolled)
        lead = db.session.scalar(db.select(Lead).where(Lead.email == "expo0@example.com"))
        exits.exit_lead(lead.id, "removed", now=utcnow())
        lead_id = lead.id
        db.session.remove()

    # On the lead's page: where it stands, and a deliberate second round.
    page.goto(f"/admin/leads/{lead_id}")
    sequences = page.locator("#sequences")
    expect(sequences.get_by_role("row", name=re.compile("展会跟进"))).to_contain_text("已退出")
    sequences.get_by_role("button", name="重新加入").click()
    expect(page.get_by_text("已重新加入「展会跟进」，从第一步开始。")).to_be_visible()
    expect(page.locator("#sequences").get_by_role("row", name=re.compile("展会跟进"))).to_contain_text(
        "进行中"
    )
    with live_app.app_context():
        again = db.session.scalar(db.select(Enrollment).where(Enrollment.lead_id == lead_id))
        assert (again.status, again.round) == ("active", 2)
        db.session.remove()
