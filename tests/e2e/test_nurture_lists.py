"""The nurture lists (sequences, the message log, the Outbox) in a real browser at a
desktop's and a phone's size: searched, sorted by a header's click, paged, and never
wider than a phone's screen. Screenshots go to LODESTAR_SCREENSHOTS (a folder) when it
is set, else to the test's temporary folder."""

import os
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from accounts import services
from core.extensions import db
from core.timeutil import utcnow
from nurture.models import Message, Sequence
from tests.e2e.helpers import DESKTOP, PHONE, STAFF_PASSWORD, sign_in

pytestmark = pytest.mark.e2e
MARKETER = "lists-marketer@example.com"


def caught_mail(folder: Path, n: int) -> None:
    mail = EmailMessage()
    mail["From"] = "noreply@example.com"
    mail["To"] = f"procurement.department.{n}@a-very-long-company-name.example.com"
    mail["Subject"] = f"您要的白皮书：如何在十二个月内把续费率提高到百分之九十以上（第 {n} 封）"
    mail["Date"] = "Sat, 05 Dec 2026 08:00:00 +0000"
    mail.set_content("正文")
    stamp = 1_764_900_000 + n
    (folder / f"{stamp}.000000-{stamp:08x}.eml").write_bytes(mail.as_bytes())


@pytest.fixture(scope="module")
def marketer(live_app, live_server):
    with live_app.app_context():
        services.create_user(MARKETER, role="marketer", password=STAFF_PASSWORD)
        now = utcnow()
        made = [
            Sequence(
                slug=f"list-{n}",
                name=f"白皮书下载后的长期培育序列（华东区制造业客户 {n}）",
                status=("active", "paused", "draft")[n % 3],
                trigger_kind="manual",
                created_at=now,
                updated_at=now - timedelta(hours=n),
            )
            for n in range(8)
        ]
        db.session.add_all(made)
        db.session.flush()
        db.session.add_all(
            Message(
                kind=("nurture", "transactional")[n % 2],
                to_address=f"procurement.department.{n}@a-very-long-company-name.example.com",
                subject=f"您要的白皮书：如何在十二个月内把续费率提高到百分之九十以上（第 {n} 封）",
                status=("sent", "failed", "queued")[n % 3],
                sequence_id=made[n % 8].id,
                created_at=now - timedelta(minutes=n),
                sent_at=now - timedelta(minutes=n) if n % 3 == 0 else None,
                open_count=n % 4,
            )
            for n in range(60)
        )
        db.session.commit()
        db.session.remove()
    folder = Path(live_app.config["OUTBOX_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(12):
        caught_mail(folder, n)
    return MARKETER


def fits(page) -> bool:
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    return width <= inner


def open_list(page, path: str, count: int, shot: Path) -> None:
    """Open a list, check its count, keep a screenshot and check it fits the screen."""
    page.goto(path)
    assert f"({count})" in page.locator("h1").inner_text()
    page.screenshot(path=str(shot), full_page=True)
    assert fits(page)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_nurture_lists_search_sort_page_and_fit(browser, live_server, marketer, viewport, tmp_path):
    shots = Path(os.environ.get("LODESTAR_SCREENSHOTS") or tmp_path)
    size = "phone" if viewport == PHONE else "desktop"
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport=viewport)
    page = context.new_page()
    sign_in(page, marketer)

    open_list(page, "/admin/nurture/", 8, shots / f"nurture-sequences-{size}.png")
    page.get_by_role("link", name="名称").click()
    page.wait_for_url("**sort=name_desc**")
    assert page.locator("th[aria-sort=descending]").inner_text().startswith("名称")

    page.goto("/admin/nurture/messages?status=failed")
    assert "(20)" in page.locator("h1").inner_text()
    open_list(page, "/admin/nurture/messages", 60, shots / f"nurture-messages-{size}.png")
    page.get_by_role("link", name="下一页").click()
    page.wait_for_url("**after=**")
    assert page.locator("table tbody tr").count() == 10
    assert fits(page)

    open_list(page, "/admin/nurture/outbox", 12, shots / f"nurture-outbox-{size}.png")
    page.get_by_label("搜索", exact=True).fill("第 3 封")
    page.locator("form[role=search] button[type=submit]").click()
    page.wait_for_url("**q=**")
    assert page.locator("table tbody tr").count() == 1
    context.close()
