"""The issue's "done": a three-step sequence, active; a white-paper download through
gated's real capture service gets the download link first, then each step once, in the
window, until the lead unsubscribes; the per-step figures show it."""

from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import current_app

from nurture import sequences, stats
from nurture.models import Message, Sequence
from tests.factories import make_whitepaper
from tests.nurture.conftest import MONDAY_10_SHANGHAI, tick

pytestmark = pytest.mark.usefixtures("app")

STEPS = [
    {
        "delay": "0h",
        "subject": "{{ lead.first_name or '您好' }},感谢下载",
        "body": "[重新下载]({{ download_url }})",
    },
    {"delay": "3d", "subject": "第二封", "body": "[案例](https://example.com/cases)"},
    {"delay": "4d", "subject": "第三封", "body": "最后一封"},
]


def test_a_whitepaper_download_gets_each_step_once_until_unsubscribe(client, smtp_sink):
    from gated.capture import RequestMeta, capture_lead

    sequences.save_sequence(
        {
            "slug": "whitepaper-followup",
            "name": "白皮书下载后培育",
            "status": "active",
            "send_window": {
                "days": ["mon", "tue", "wed", "thu", "fri"],
                "start": "09:00",
                "end": "18:00",
                "timezone": "Asia/Shanghai",
            },
            "steps": STEPS,
        },
        now=MONDAY_10_SHANGHAI,
    )
    _, asset = make_whitepaper(sequence_slug="whitepaper-followup")
    with current_app.test_request_context(base_url="http://localhost"):
        capture_lead(
            "whitepaper",
            {"email": "reader@example.com", "name": "韩梅梅", "consent": "on"},
            asset=asset,
            request_meta=RequestMeta(),
            now=MONDAY_10_SHANGHAI,
        )
    # The enrollment was made with the real clock; move the test's clock to it.
    from nurture.models import Enrollment

    start = Enrollment.query.one().next_send_at
    assert tick(start)["sent"] == 2
    first, second = smtp_sink.wait_for(2)
    assert "/download/" in first.get_body(("plain",)).get_content()  # transactional first
    assert second["Subject"] == "韩梅梅,感谢下载"
    assert "/download/" in second.get_body(("plain",)).get_content()
    # A worker every two hours for four days from day 3: step 2 goes once, in the window.
    for hours in range(0, 24 * 4, 2):
        tick(start + timedelta(days=3, hours=hours))
    mails = smtp_sink.wait_for(3)
    assert [m["Subject"] for m in mails].count("第二封") == 1
    sent_at = (
        Message.query.filter_by(subject="第二封")
        .one()
        .sent_at.replace(tzinfo=UTC)
        .astimezone(ZoneInfo("Asia/Shanghai"))
    )
    assert sent_at.weekday() < 5 and 9 <= sent_at.hour < 18
    unsubscribe = (
        str(mails[2]["List-Unsubscribe"]).split(",")[0].strip().strip("<>").removeprefix("http://localhost")
    )
    assert client.post(unsubscribe, data={"List-Unsubscribe": "One-Click"}).status_code == 204
    for days in range(7, 20):
        tick(start + timedelta(days=days))
    assert len(smtp_sink.wait_for(4, timeout=0.5)) == 3

    figures = stats.step_figures(Sequence.query.one())
    assert [(row["sent"], row["unsubscribed"]) for row in figures] == [(1, 0), (1, 1), (0, 0)]
