"""A marketer's campaign, in the browser: builds a segment (decision makers in
manufacturing who downloaded the renewal white paper), creates a campaign with a subject
test in the editor (a mistake first, named beside its field), sends it now; the worker
(`flask nurture tick --now`) delivers the sample to the SMTP sink; opens and clicks come
through the tracking routes; after the wait the winner goes to the rest, and the report
shows which subject won and what it brought, with its click map.

Screenshots of the editor and the report at 1366×900 and 390×844 are written to
LODESTAR_SHOTS_DIR when it is set (for looking at them), and the phone pages are checked
for sideways scroll."""

import os
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import expect

from accounts import services
from campaigns.models import Campaign, Topic
from core.extensions import db
from core.timeutil import utcnow
from gated.models import Lead
from gated.stages import change_stage
from tests.campaigns.conftest import asset, download
from tests.e2e.helpers import STAFF_PASSWORD, sign_in

RULES = """all:
  - {field: role, op: eq, value: decision_maker}
  - {field: company, op: contains, value: 制造}
  - {event: download, asset: renewal-paper, within: 30d}
"""


def tick(live_app, at) -> None:
    result = live_app.test_cli_runner().invoke(args=["nurture", "tick", "--now", at.isoformat()])
    assert result.exit_code == 0, result.output


def shoot(page, name: str, at: str = "") -> None:
    """The viewport, scrolled to `at` (a selector) when given."""
    folder = os.environ.get("LODESTAR_SHOTS_DIR")
    if folder:
        if at:
            page.locator(at).first.scroll_into_view_if_needed()
        size = page.viewport_size
        page.screenshot(path=str(Path(folder) / f"{name}-{size['width']}x{size['height']}.png"))


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def tracked(mail, prefix: str) -> list[str]:
    html = mail.get_body(("html",)).get_content()
    return [part.split("'")[0].split('"')[0] for part in html.split(prefix)[1:]]


def test_a_subject_test_from_segment_to_report(live_app, live_server, page, browser, smtp_sink):
    with live_app.app_context():
        services.create_user("marketer@example.com", role="marketer", password=STAFF_PASSWORD)
        db.session.add(Topic(slug="newsletter", name="新闻简报"))  # the migration's (tables from create_all)
        paper = asset("renewal-paper")
        for n in range(8):
            lead = Lead(
                email=f"boss{n}@mfg.cn",
                name=f"王{n}",
                company="华东制造",
                role="decision_maker",
                marketing_consent=True,
            )
            db.session.add(lead)
            db.session.commit()
            download(lead, paper, at=utcnow() - timedelta(days=3))
        db.session.add(Lead(email="other@mfg.cn", company="华东制造", role="user", marketing_consent=True))
        db.session.commit()
        db.session.remove()
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, "marketer@example.com")

    # The segment.
    page.goto("/admin/campaigns/segments/new")
    page.get_by_label("规则").fill(RULES)
    page.get_by_role("region", name="当前成员").get_by_text("符合条件的线索：8 位。").wait_for()
    page.get_by_label("名称").fill("制造业决策者（已下载续费白皮书）")
    page.get_by_label("网址别名（slug）").fill("renewal-readers")
    page.get_by_role("button", name="保存").click()
    page.get_by_text("分群已保存。").wait_for()

    # The campaign, with a subject test; a variant left without a subject first.
    page.goto("/admin/campaigns/")
    page.get_by_role("link", name="新建营销活动").click()
    expect(page.locator(".campaign-previews")).to_be_hidden()  # nothing written, no empty frames
    page.get_by_label("名称", exact=True).fill("续费功能发布")
    page.get_by_label("网址别名（slug）").fill("renewal-launch")
    page.get_by_label("订阅类别").select_option("newsletter")
    page.get_by_label("制造业决策者（已下载续费白皮书）").first.check()
    page.get_by_text("目前有 8 位同意接收营销邮件的线索符合。").wait_for()
    page.get_by_label("测试两个或以上的主题").check()
    page.get_by_label("版本 2").fill("续费率提升的三个办法")
    page.get_by_label("样本比例（%）").fill("50")
    page.get_by_label("等待多久后发出胜出版本").fill("1h")
    page.get_by_label("正文（Markdown）").fill(
        "{{ lead.name }}，您好：\n\n[阅读白皮书](https://example.com/renewal)\n"
    )
    page.get_by_label("立即发送").check()
    page.get_by_role("button", name="保存").click()
    page.locator("#variants-0-error").get_by_text("每个版本都需要标题").wait_for()
    with live_app.app_context():
        assert db.session.query(Campaign).count() == 0
        db.session.remove()
    page.get_by_label("版本 1（对照组，结果相同时胜出）").fill("{{ lead.name }}，续费更简单了")
    page.frame_locator("iframe[name=preview-desktop]").get_by_text("王小明，续费更简单了").first.wait_for()
    page.get_by_text("收件人在发送开始时确定").wait_for()
    page.frame_locator("iframe[name=preview-phone]").get_by_text("王小明，续费更简单了").first.wait_for()
    page.frame_locator("iframe[name=preview-desktop]").get_by_text("王小明，续费更简单了").first.wait_for()
    shoot(page, "campaign-editor")
    shoot(page, "campaign-editor-previews", at=".campaign-previews")
    phone = browser.new_context(
        base_url=live_server.url, locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True
    )
    phone.add_cookies(page.context.cookies())
    small = phone.new_page()
    small.goto(page.url)
    assert no_sideways_scroll(small)
    shoot(small, "campaign-editor")
    small.get_by_label("制造业决策者（已下载续费白皮书）").first.check()
    small.get_by_text("目前有 8 位同意接收营销邮件的线索符合。").wait_for()
    small.get_by_label("测试两个或以上的主题").check()
    small.get_by_label("版本 2").fill("续费率提升的三个办法")
    assert no_sideways_scroll(small)
    shoot(small, "campaign-editor-test", at=".subject-test")
    page.get_by_label("立即发送").check()
    page.get_by_role("button", name="保存").click()
    page.get_by_text("已确定 8 位收件人").wait_for()
    campaign_url = page.url

    # The sample goes out; variant 2 is opened and clicked by two of its four.
    started = utcnow()
    tick(live_app, started)
    sample = smtp_sink.wait_for(4)
    second = [mail for mail in sample if "续费率提升" in mail["Subject"]]
    assert len(sample) == 4 and len(second) == 2
    for mail in second:
        [pixel] = tracked(mail, "url('")
        assert page.request.get(pixel).ok
        [link] = tracked(mail, 'href="' + live_server.url + "/t/c/")
        response = page.request.get(f"{live_server.url}/t/c/{link}", max_redirects=0)
        assert response.status == 302
    with live_app.app_context():
        # What it brought: one of them becomes MQL the next day.
        clicker = db.session.query(Lead).filter_by(email=second[0]["To"]).one()
        change_stage(clicker.id, "mql", now=started + timedelta(days=1))
        db.session.commit()
        db.session.remove()
    tick(live_app, started + timedelta(hours=1, minutes=1))
    tick(live_app, started + timedelta(hours=1, minutes=2))
    mails = smtp_sink.wait_for(8)
    assert len(mails) == 8 and len({mail["To"] for mail in mails}) == 8
    assert sum("续费率提升" in mail["Subject"] for mail in mails) == 6

    page.goto(campaign_url)
    page.get_by_text("版本 2 胜出").wait_for()
    row = page.get_by_role("row", name="版本 2 ★")
    assert row.get_by_role("cell").nth(4).inner_text() == "2"  # opened
    assert row.get_by_role("cell").nth(9).inner_text() == "1"  # became MQL
    page.frame_locator("iframe[name=click-map]").get_by_text("2 次点击").wait_for()
    shoot(page, "campaign-report")
    shoot(page, "campaign-click-map", at="iframe[name=click-map]")
    small.goto(campaign_url)
    assert no_sideways_scroll(small)
    shoot(small, "campaign-report", at=".report-table")
    phone.close()
