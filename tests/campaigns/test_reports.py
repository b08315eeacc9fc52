"""A campaign's report, from events made by the real pipeline: the mail sent by the
worker to the SMTP sink, opens and clicks through the tracking routes, an unsubscribe
through the mail's one-click link, a bounce and a complaint through the provider's
webhook, a move to MQL and a form afterwards. Per variant, per link (the click map),
across campaigns, and as CSV with formulas neutralised."""

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from campaigns import reports, sending, services
from campaigns.models import Campaign, MailEvent
from core.extensions import db
from core.localtime import iso_local
from gated.stages import change_stage
from nurture import worker
from nurture.models import Message
from tests.campaigns.conftest import NOW, campaign_file, click_link, open_mail, person

pytestmark = pytest.mark.usefixtures("topics", "unpaced")

TOKEN = "events-token"
BODY = """body: |
  {{ lead.name }},您好:

  [阅读全文](https://example.com/renewal)

  [预约演示](https://example.com/demo)
"""


@pytest.fixture
def sent(app, client, smtp_sink, monkeypatch):
    """Ten recipients, two variants at 100%: five mails each, delivered to the sink."""
    monkeypatch.setitem(app.config, "MAIL_EVENTS_TOKEN", TOKEN)
    leads = {f"m{n}@mfg.cn": person(f"m{n}@mfg.cn", company="华东制造") for n in range(10)}
    text = campaign_file(sample=100).split("body: |")[0] + BODY
    campaign, _ = services.import_campaign(text, now=NOW)
    sending.start(campaign.id, now=NOW)
    worker.tick(NOW, worker_name="test")
    mails = {mail["To"]: mail for mail in smtp_sink.wait_for(10)}
    variant = {
        message.to_address: int(message.template.rsplit(":", 1)[1])
        for message in db.session.scalars(select(Message))
    }
    return campaign, leads, mails, variant


def by_variant(variant, wanted):
    return sorted(address for address, index in variant.items() if index == wanted)


def test_the_report_counts_what_the_pipeline_recorded(app, client, sent):
    campaign, leads, mails, variant = sent
    first, second = by_variant(variant, 0), by_variant(variant, 1)
    # Variant 1: two opens, one of them clicks the demo link twice and the article once.
    open_mail(client, mails[first[0]])
    assert click_link(client, mails[first[1]], 1) == "https://example.com/demo"
    click_link(client, mails[first[1]], 1)
    click_link(client, mails[first[1]], 0)
    # Variant 2: one unsubscribes with the one-click link; a bounce and a complaint.
    unsubscribe = str(mails[second[0]]["List-Unsubscribe"]).split(",")[0].strip().strip("<>")
    path = unsubscribe.removeprefix("http://localhost")
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code in (200, 204)
    events = {
        "events": [
            {"type": "bounce", "email": second[1], "message_id": mails[second[1]]["Message-ID"]},
            {"type": "complaint", "email": second[2], "message_id": mails[second[2]]["Message-ID"]},
        ]
    }
    response = client.post("/api/mail/events", json=events, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code in (200, 202, 204)
    # What it brought: the clicker sends a demo form and becomes MQL after the send; the
    # opener became MQL too, but 40 days later (outside a 30-day window).
    person(first[1], now=NOW + timedelta(days=2), form="demo", company="华东制造")
    change_stage(leads[first[1]].id, "mql", now=NOW + timedelta(days=3))
    change_stage(leads[first[0]].id, "mql", now=NOW + timedelta(days=40))
    db.session.commit()

    rows = reports.variant_figures(db.session.get(Campaign, campaign.id), window_days=30)
    one, two = ({k: v for k, v in row.items() if k not in ("label", "subject")} for row in rows)
    assert one == {
        "queued": 5, "sent": 5, "delivered": 5, "opened": 2, "clicked": 1, "unsubscribed": 0,
        "bounced": 0, "complained": 0, "mqls": 1, "influenced": 1,
    }  # fmt: skip
    assert two == {
        "queued": 5, "sent": 5, "delivered": 3, "opened": 0, "clicked": 0, "unsubscribed": 1,
        "bounced": 1, "complained": 1, "mqls": 0, "influenced": 0,
    }  # fmt: skip
    assert reports.variant_figures(campaign, window_days=90)[0]["mqls"] == 2
    assert reports.link_clicks(campaign) == {
        "0": {"https://example.com/demo": 2, "https://example.com/renewal": 1}
    }
    assert db.session.scalar(select(db.func.count()).select_from(MailEvent)) == 4  # 3 clicks, 1 complaint


def test_the_pages_show_the_report_the_click_map_and_the_comparison(app, client, login_as, sent):
    campaign, leads, mails, variant = sent
    first = by_variant(variant, 0)
    click_link(client, mails[first[0]], 1)
    staff = login_as("marketer")
    page = staff.get(f"/admin/campaigns/{campaign.id}?lang=zh_CN").get_data(as_text=True)
    assert "成为 MQL" in page and "点击分布" in page and "退订该类别" in page
    # Each variant's subject as the sample lead reads it, not its template code.
    assert "王小明,十二月月刊" in page and "{{" not in page
    frame = staff.get(f"/admin/campaigns/{campaign.id}/click-map/0?lang=zh_CN")
    annotated = frame.get_data(as_text=True)
    assert "default-src 'none'" in frame.headers["Content-Security-Policy"]
    demo = annotated.split('href="https://example.com/demo"')[1]
    assert demo.split("</span>")[0].endswith("1 次点击")
    article = annotated.split('href="https://example.com/renewal"')[1]
    assert article.split("</span>")[0].endswith("0 次点击")
    assert staff.get(f"/admin/campaigns/{campaign.id}/click-map/7").status_code == 404
    compare = staff.get("/admin/campaigns/compare?lang=zh_CN").get_data(as_text=True)
    assert "十二月月刊" in compare and "10.0%" in compare  # one click (an open too) of ten delivered
    assert login_as("sales").get("/admin/campaigns/compare").status_code == 403


def test_csv_exports_neutralise_formulas(app, login_as, sent):
    campaign, *_ = sent
    db.session.get(Campaign, campaign.id).name = '=HYPERLINK("http://x")'
    campaign.variants = [{"subject": "+cmd"}, campaign.variants[1]]
    db.session.commit()
    staff = login_as("marketer")
    rows = list(
        csv.reader(
            io.StringIO(
                staff.get(f"/admin/campaigns/{campaign.id}/report.csv")
                .get_data(as_text=True)
                .lstrip("\ufeff")
            )
        )
    )
    assert rows[1][1] == "'+cmd" and rows[1][3] == "5"
    rows = list(
        csv.reader(
            io.StringIO(staff.get("/admin/campaigns/compare.csv").get_data(as_text=True).lstrip("\ufeff"))
        )
    )
    assert rows[1][0].startswith("'=HYPERLINK") and rows[1][5] == "10"
    # When it started, in the site's zone with its offset, to the second (as the lead export).
    started = db.session.get(Campaign, campaign.id).started_at
    assert rows[1][3] == iso_local(started) and rows[1][3].endswith("+08:00") and "." not in rows[1][3]
