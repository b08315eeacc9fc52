"""The nurture issue's "done means", in a real browser: a marketer builds a three-step
sequence (0h, 2d, 5d; weekdays 09:00-18:00 in New York), previews a step, sends a test to
themself and activates it; a prospect downloads the white paper; worker passes with
`tick --now` moving the clock send each step once, only inside the window; the prospect
unsubscribes from a mail's link and nothing more comes; the sequence page counts it all.

The clock: the prospect enrolls at the real now; the ticks run a week or more later, on
days chosen in the sequence's time zone, so every step is overdue when its tick says so.
"""

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from accounts import services as accounts
from core.extensions import db
from nurture.models import Enrollment, Message
from tests.e2e.helpers import publish_whitepaper, sign_in

pytestmark = pytest.mark.e2e
SLUG = "e2e-three-step-paper"
PASSWORD = "long enough pw"
MARKETER = "planner@example.com"
PROSPECT = "prospect@example.com"
NEW_YORK = ZoneInfo("America/New_York")
STEPS = [
    (
        "0h",
        "{{ lead.first_name or '您好' }},白皮书已送达",
        "您好 {{ lead.name }},这是您要的资料:{{ download_url }}",
    ),
    ("2d", "{{ lead.company }} 的续费案例", "两天后的第二封:{{ lead.company }} 可以参考的做法。"),
    ("5d", "最后一封:续费清单", "五天后的第三封,一份清单。"),
]
SUBJECTS = ["韩梅梅,白皮书已送达", "远航软件 的续费案例", "最后一封:续费清单"]


@pytest.fixture
def whitepaper(live_app):
    live_app.config["FORM_MIN_FILL_SECONDS"] = 0
    with live_app.app_context():
        publish_whitepaper(SLUG, "续费增长白皮书", b"%PDF-1.4\n% three steps\n%%EOF\n", filename="续费.pdf")
        accounts.create_user(MARKETER, role="marketer", password=PASSWORD)
        db.session.remove()


def new_york(day: date, hour: int, minute: int = 0) -> str:
    """A New York wall-clock time as the naive UTC ISO text `tick --now` takes."""
    local = datetime.combine(day, time(hour, minute), tzinfo=NEW_YORK)
    return local.astimezone(UTC).replace(tzinfo=None).isoformat()


def tick(live_app, *extra) -> None:
    result = live_app.test_cli_runner().invoke(args=["nurture", "tick", *extra])
    assert result.exit_code == 0, result.output


def received(smtp_sink, live_app, *extra) -> list[tuple[str, str]]:
    """One worker pass; (recipient, subject) of every mail it delivered."""
    smtp_sink.clear()
    tick(live_app, *extra)
    return [(mail["To"], mail["Subject"]) for mail in smtp_sink.messages]


def plain(mail) -> str:
    return mail.get_body(("plain",)).get_content()


def figures(page) -> dict[str, list[str]]:
    """The sequence page's per-step figures by column heading: {"已发送": ["1", "1", "0"]}."""
    table = page.locator("table.figures")
    headings = [text.strip() for text in table.locator("thead th").all_inner_texts()]
    rows = table.locator("tbody tr")
    columns = {heading: [] for heading in headings}
    for number in range(rows.count()):
        cells = rows.nth(number).locator("td").all_inner_texts()
        for heading, cell in zip(headings, cells, strict=True):
            columns[heading].append(cell.split()[0] if cell.split() else "")
    return columns


def fill_step(page, index: int) -> None:
    delay, subject, body = STEPS[index]
    page.locator(f"#steps-{index}-delay").fill(delay)
    page.locator(f"#steps-{index}-subject").fill(subject)
    page.locator(f"#steps-{index}-body").fill(body)


def test_three_steps_each_once_in_the_window_until_the_lead_unsubscribes(
    live_app, browser, live_server, page, whitepaper, smtp_sink
):
    sign_in(page, MARKETER, PASSWORD)

    # Build: weekdays 09:00-18:00 New York time, step one typed, previewed and test-sent.
    page.goto("/admin/nurture/new")
    page.get_by_label("名称", exact=True).fill("三步白皮书培育")
    page.get_by_label("网址别名（slug）", exact=True).fill("e2e-three-steps")
    page.get_by_label("触发方式").select_option("asset")
    page.get_by_label("资料标识或表单名称").fill(SLUG)
    for day in page.locator("input[name=days]").all():
        if day.get_attribute("value") in ("sat", "sun"):
            day.uncheck()
        else:
            day.check()
    page.get_by_label("开始", exact=True).fill("09:00")
    page.get_by_label("结束", exact=True).fill("18:00")
    page.get_by_label("时区").select_option("America/New_York")
    fill_step(page, 0)
    step_one = page.locator("#journey-steps > li[data-step]").first
    # The live preview (the editor's script presses the hidden Preview button as one types).
    preview = page.frame_locator("iframe[name=preview-0]")
    expect(preview.get_by_text("白皮书已送达").first).to_be_visible()
    expect(preview.get_by_text(re.compile(r"这是您要的资料:https?://"))).to_be_visible()
    step_one.get_by_role("button", name="给我发一封测试邮件").click()
    expect(page.get_by_text(MARKETER).first).to_be_visible()
    smtp_sink.clear()
    tick(live_app)
    (test_mail,) = smtp_sink.wait_for(1)
    assert test_mail["To"] == MARKETER and "白皮书已送达" in test_mail["Subject"]

    page.get_by_role("button", name="保存旅程").click()
    page.wait_for_url(re.compile(r".*/admin/nurture/\d+$"))
    sequence_url = page.url
    for index in (1, 2):  # a step added on each later edit
        page.get_by_role("link", name="编辑旅程").click()
        page.get_by_role("button", name="+ 添加一步").click()
        fill_step(page, index)
        page.get_by_role("button", name="保存旅程").click()
        page.wait_for_url(sequence_url)
    expect(page.locator("table.figures tbody tr")).to_have_count(3)
    expect(page.get_by_text("北美东部时间").first).to_be_visible()  # the zone in words, not its code
    page.get_by_role("button", name="启用").click()
    expect(page.get_by_role("button", name="启用")).to_have_count(0)

    # A prospect downloads the white paper through the public form, consenting.
    prospect_context = browser.new_context(base_url=live_server.url, locale="zh-CN")
    prospect = prospect_context.new_page()
    try:
        prospect.goto(f"/library/{SLUG}")
        prospect.get_by_label("工作邮箱").fill(PROSPECT)
        prospect.get_by_label("姓名").fill("韩梅梅")
        prospect.get_by_label("公司").fill("远航软件")
        prospect.locator("#consent").check()
        prospect.get_by_role("button", name="获取白皮书").click()
        prospect.wait_for_url(f"**/library/{SLUG}/thanks?t=*")

        # The days of the ticks, in New York: a Thursday at least a week ahead.
        thursday = (datetime.now(NEW_YORK) + timedelta(days=7)).date()
        thursday += timedelta(days=(3 - thursday.weekday()) % 7)
        saturday, monday = thursday + timedelta(days=2), thursday + timedelta(days=4)

        # 07:00 is before the window: step one is overdue but waits; only the download
        # link (transactional mail knows no window) goes out.
        early = received(smtp_sink, live_app, "--now", new_york(thursday, 7))
        assert len(early) == 1 and early[0][0] == PROSPECT
        assert early[0][1] not in SUBJECTS
        # 10:00: step one, once; an hour later, nothing again.
        assert received(smtp_sink, live_app, "--now", new_york(thursday, 10)) == [(PROSPECT, SUBJECTS[0])]
        assert received(smtp_sink, live_app, "--now", new_york(thursday, 11)) == []
        # Step two is due two days later, on Saturday: no mail on a weekend...
        assert received(smtp_sink, live_app, "--now", new_york(saturday, 12)) == []
        # ...and on Monday morning in New York it goes, once.
        smtp_sink.clear()
        tick(live_app, "--now", new_york(monday, 9, 30))
        (step_two,) = smtp_sink.wait_for(1)
        assert (step_two["To"], step_two["Subject"]) == (PROSPECT, SUBJECTS[1])
        assert "两天后的第二封:远航软件 可以参考的做法。" in plain(step_two)
        assert received(smtp_sink, live_app, "--now", new_york(monday, 10)) == []

        # The unsubscribe link of that mail: a confirm page, then one button.
        url = re.search(r"(http://127\.0\.0\.1:\d+/u/[^\s>]+)", plain(step_two)).group(1)
        prospect.goto(url)
        prospect.get_by_role("button", name="退订").click()
        expect(prospect.get_by_role("heading", level=1)).to_have_text("您已退订")
    finally:
        prospect_context.close()

    # Step three would be due the next Monday (five days after step two, out of the
    # weekend); on the Tuesday after it nothing goes out.
    assert received(smtp_sink, live_app, "--now", new_york(monday + timedelta(days=8), 10)) == []

    with live_app.app_context():
        sent = db.session.scalars(
            db.select(Message).where(Message.kind == "nurture").order_by(Message.sent_at)
        ).all()
        assert [(m.to_address, m.subject, m.status) for m in sent] == [
            (PROSPECT, SUBJECTS[0], "sent"),
            (PROSPECT, SUBJECTS[1], "sent"),
        ]
        for message in sent:  # inside the window, in New York
            local = message.sent_at.replace(tzinfo=UTC).astimezone(NEW_YORK)
            assert local.weekday() < 5 and time(9) <= local.time() < time(18), local
        (enrollment,) = db.session.scalars(db.select(Enrollment)).all()
        assert (enrollment.status, enrollment.exit_reason) == ("exited", "unsubscribed")
        db.session.remove()

    # The figures, read from the sequence page's cells.
    page.goto(sequence_url)
    columns = figures(page)
    assert columns["已发送"] == ["1", "1", "0"]
    assert columns["已退订"] == ["0", "1", "0"]
    assert columns["排队中"] == ["0", "0", "0"]
    assert columns["失败"] == ["0", "0", "0"]
    expect(page.get_by_text(PROSPECT)).to_be_visible()
