"""The staff pages' charts in the browser, on a wide screen (1366 × 900) and a phone
(390 × 844): the insights page (trends, funnel, channels, form pages' conversion), the
search report's volume, a sequence's step funnel and the assistant's deflection. Each
chart is drawn (uPlot under the CSP, no script error), its table is one click away,
and no page scrolls sideways on the phone. LODESTAR_SCREENSHOTS=folder keeps the
screenshots to look at."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from accounts import services as accounts
from core.extensions import db
from core.timeutil import utcnow
from tests.e2e.helpers import SIZES, STAFF_PASSWORD, fits, publish_whitepaper, sign_in, sized_context
from tests.factories import PDF_BYTES, form_data

pytestmark = pytest.mark.e2e
SHOTS = os.environ.get("LODESTAR_SCREENSHOTS")
ADMIN = "charts-admin@example.com"
PAGES = {
    "insights": ("/admin/insights/", ["trends", "funnel", "channels", "conversion", "conversion-rate"]),
    "search-report": ("/admin/search/?days=30", ["search-volume"]),
    "sequence": (None, ["step-funnel"]),
    "assistant-stats": ("/admin/assistant/stats", ["weeks", "tiers"]),
}


def _searches(now) -> None:
    from content.search.analytics import record_search

    for back, text, results in [(0, "续费", 3), (0, "量子纠缠", 0), (2, "续费", 3), (5, "私有化部署", 0)]:
        record_search(
            text, results=results, kind="", locale="zh-CN", source="page", now=now - timedelta(days=back)
        )


def _form_pages(now) -> None:
    from gated.capture import RequestMeta, capture_lead
    from gated.models import Asset
    from insights.events import record

    for slug, title in (("charts-renewal", "如何提高 SaaS 续费率"), ("charts-churn", "客户流失预警手册")):
        publish_whitepaper(slug, title, PDF_BYTES)
    for back in range(6):
        for slug in ("charts-renewal", "charts-churn", "charts-renewal"):
            record(
                "page_view",
                visitor_id=f"v{back}{slug}",
                path=f"/library/{slug}",
                visit_seq=1,
                landing=f"/library/{slug}",
                at=now - timedelta(days=back),
            )
    db.session.commit()
    asset = db.session.scalar(select(Asset).where(Asset.slug == "charts-renewal"))
    for back in range(3):
        data = form_data(email=f"lead{back}@example.cn")
        capture_lead(
            "whitepaper", data, asset=asset, request_meta=RequestMeta(), now=now - timedelta(days=back)
        )


def _sequence(now) -> int:
    from gated.models import Lead
    from gated.stages import set_stage
    from nurture import enrolment, sequences, tracking, worker
    from nurture.models import Message

    data = {
        "slug": "charts-follow",
        "name": "续费跟进",
        "status": "active",
        "trigger": "manual",
        "send_window": {
            "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "start": "00:00",
            "end": "24:00",
            "timezone": "Asia/Shanghai",
        },
        "steps": [
            {"delay": "0h", "subject": "您好", "body": "[看看](https://example.com/a)"},
            {"delay": "0h", "subject": "再会", "body": "[再看](https://example.com/b)"},
        ],
    }
    sequence, _outcome = sequences.save_sequence(data, now=now)
    leads = [Lead(email=f"seq{n}@example.cn", name="李雷", marketing_consent=True) for n in range(4)]
    db.session.add_all(leads)
    db.session.commit()
    enrolment.enroll([lead.id for lead in leads], sequence.id, now=now)
    worker.tick(now, worker_name="charts")
    worker.tick(now + timedelta(minutes=1), worker_name="charts")
    sent = db.session.scalars(
        select(Message).where(Message.sequence_id == sequence.id).order_by(Message.id)
    ).all()
    for message in sent[:3]:
        tracking.record_open(message.id, now=now)
    tracking.record_click(sent[0].id, now=now)
    set_stage(leads[0], "mql", now=now + timedelta(minutes=2))
    db.session.commit()
    return sequence.id


def _conversations(now) -> None:
    from assistant import tiers
    from tests.assistant.conftest import conversation

    levels = {tier.level: tier for tier in tiers.ensure_tiers()}
    for back, status in [(1, "solved"), (2, "escalated"), (9, "solved"), (10, "solved"), (16, "escalated")]:
        conversation(now - timedelta(days=back), status, tier=levels[1 + back % 4])
    db.session.commit()


@pytest.fixture(scope="module")
def charted(live_app, live_server):
    live_app.config["MAIL_RATE_PER_SECOND"] = 0
    with live_app.app_context():
        accounts.create_user(ADMIN, role="admin", password=STAFF_PASSWORD)
        now = utcnow()
        _searches(now)
        _form_pages(now)
        sequence_id = _sequence(now)
        _conversations(now)
        db.session.remove()
    return {"sequence": f"/admin/nurture/{sequence_id}"}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", PAGES)
def test_each_chart_is_drawn_and_the_page_fits(browser, live_server, charted, name, size):
    context = sized_context(browser, live_server, size)
    page = context.new_page()
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    try:
        sign_in(page, ADMIN)
        path, charts = PAGES[name]
        page.goto(path or charted[name])
        for chart_id in charts:
            chart = page.locator(f"#chart-{chart_id}")
            chart.locator("canvas").first.wait_for()
            assert chart.evaluate("box => box.querySelector('canvas').width") > 0, chart_id
            # The figures are one click away, in the table the chart closed once drawn.
            table = page.locator(f"#chart-{chart_id} + details.chart-table")
            assert table.get_attribute("open") is None
            assert table.locator("tbody tr").count() > 0
        assert fits(page), page.evaluate("document.documentElement.scrollWidth")
        if SHOTS:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(SHOTS) / f"charts-{name}-{size}.png"), full_page=True)
            for chart_id in charts:
                figure = page.locator(f"figure:has(#chart-{chart_id})")
                figure.screenshot(path=str(Path(SHOTS) / f"chart-{chart_id}-{size}.png"))
        assert errors == []
    finally:
        context.close()
