"""The campaigns admin: the list and a campaign's page with its test's decision and
figures, in Chinese; cancel as a role-checked POST that says how many went out."""

from datetime import timedelta

import pytest

from campaigns import sending, services
from campaigns.models import Campaign
from core.extensions import db
from nurture import tracking, worker
from nurture.models import Message
from tests.campaigns.conftest import NOW, campaign_file, person

pytestmark = pytest.mark.usefixtures("topics", "unpaced")


def test_the_page_shows_which_subject_won_and_its_figures(app, login_as, smtp_sink):
    for n in range(10):
        person(f"m{n}@mfg.cn", company="华东制造")
    campaign, _ = services.import_campaign(campaign_file(sample=40), now=NOW)
    sending.start(campaign.id, now=NOW)
    worker.tick(NOW, worker_name="test")
    smtp_sink.wait_for(4)
    [opened] = db.session.scalars(db.select(Message.id).where(Message.template.endswith(":1")).limit(1))
    tracking.record_open(opened, now=NOW + timedelta(hours=1))
    worker.tick(NOW + timedelta(hours=5), worker_name="test")
    client = login_as("marketer")
    page = client.get(f"/admin/campaigns/{campaign.id}?lang=zh_CN").get_data(as_text=True)
    assert "版本 2 胜出" in page and "续费率提升的三个办法" in page
    assert "结果相同时第一个版本胜出" in page
    listing = client.get("/admin/campaigns/?lang=zh_CN").get_data(as_text=True)
    assert "十二月月刊" in listing and "全部邮件已排队" in listing


def test_cancel_is_for_marketers_and_says_how_many_went(app, login_as):
    person("m@mfg.cn", company="华东制造")
    campaign, _ = services.import_campaign(campaign_file(), now=NOW)
    sending.start(campaign.id, now=NOW)
    assert login_as("sales").post(f"/admin/campaigns/{campaign.id}/cancel").status_code == 403
    assert db.session.get(Campaign, campaign.id).status == "sent"
    response = login_as("marketer").post(
        f"/admin/campaigns/{campaign.id}/cancel?lang=zh_CN", follow_redirects=True
    )
    assert "营销活动已取消：已发出 0 封" in response.get_data(as_text=True)
    assert db.session.get(Campaign, campaign.id).status == "cancelled"
