"""A sequence's page charts each step's funnel (sent → opened → clicked → became MQL)
through the shared chart partial, with its table, from mails really sent by the worker
to the SMTP sink and opened and clicked through their tracking links."""

from datetime import timedelta

import pytest

from core.extensions import db
from gated.stages import set_stage
from nurture import enrolment
from tests.factories import chart_on
from tests.nurture.conftest import MONDAY_10_SHANGHAI, mail_to, make_lead, make_sequence, tick, tracking_path

pytestmark = pytest.mark.usefixtures("app")
NOW = MONDAY_10_SHANGHAI
STEPS = [
    {"delay": "0h", "subject": "一", "body": "[看看](https://example.com/a)"},
    {"delay": "1d", "subject": "二", "body": "[再看](https://example.com/b)"},
]


def test_the_sequence_page_charts_each_steps_funnel(client, login_as, smtp_sink):
    sequence = make_sequence(steps=STEPS)
    leads = {name: make_lead(f"{name}@example.com") for name in ("wang", "li", "zhao")}
    enrolment.enroll([lead.id for lead in leads.values()], sequence.id, now=NOW)
    tick(NOW)
    # Step 1: three sent; wang and li open it, wang clicks; wang becomes an MQL after it.
    for name, kind in (("wang", "o"), ("li", "o"), ("wang", "c")):
        assert client.get(tracking_path(mail_to(smtp_sink, f"{name}@example.com"), kind)).status_code < 400
    set_stage(leads["wang"], "mql", now=NOW + timedelta(hours=1))
    db.session.commit()
    smtp_sink.clear()
    tick(NOW + timedelta(days=1))
    # Step 2: sent to whoever is still in the sequence; li clicks without loading images.
    second = {mail["To"] for mail in smtp_sink.messages}
    assert "li@example.com" in second
    assert client.get(tracking_path(mail_to(smtp_sink, "li@example.com"), "c")).status_code == 302

    page = login_as("marketer").get(f"/admin/nurture/{sequence.id}").get_data(as_text=True)
    chart = chart_on(page, "chart-step-funnel")
    assert chart["kind"] == "bars" and chart["labels"] == ["第 1 步", "第 2 步"]
    sent_second = len(second)
    assert chart["series"] == [
        ["已发送", [3, sent_second]],
        ["已打开", [2, 1]],  # a click is an open too (the mail was read)
        ["已点击", [1, 1]],
        ["之后成为 MQL", [1, 0]],
    ]
    assert chart["table"] == [["第 1 步", "3", "2", "1", "1"], ["第 2 步", str(sent_second), "1", "1", "0"]]
    assert "各步骤漏斗：已发送、已打开、已点击、成为 MQL" in page


def test_a_sequence_that_sent_nothing_has_no_funnel(login_as):
    sequence = make_sequence(steps=STEPS)
    page = login_as("marketer").get(f"/admin/nurture/{sequence.id}").get_data(as_text=True)
    assert 'id="chart-step-funnel"' not in page and "第 1 步" not in page
