"""The campaign editor: marketers create and edit campaigns in the browser through the
same check as a campaign file (every mistake beside its field in Chinese, status 422,
nothing saved, nothing queued), see their audience's live count, preview the mail and
send themselves a test as for a sequence step, send now, and cannot change a campaign
whose send has started (cancel says how many went out)."""

from datetime import timedelta

import pytest
import yaml
from sqlalchemy import func, select

from accounts.models import User
from campaigns import services
from campaigns.models import Campaign, Segment
from core.extensions import db
from core.timeutil import utcnow
from nurture.models import Message
from tests.campaigns.conftest import person

pytestmark = pytest.mark.usefixtures("topics", "unpaced")

MAKERS = "all:\n  - {field: company, op: contains, value: 制造}\n"
BODY = "{{ lead.name }},您好:\n\n[阅读全文](https://example.com/renewal)\n"


@pytest.fixture
def makers(app):
    for n in range(5):
        person(f"m{n}@mfg.cn", company="华东制造")
    person("soft@soft.cn", company="软件公司")
    services_segment = Segment(slug="makers", name="制造业", rules=yaml.safe_load(MAKERS))
    software = Segment(
        slug="software",
        name="软件业",
        rules={"all": [{"field": "company", "op": "contains", "value": "软件"}]},
    )
    db.session.add_all([services_segment, software])
    db.session.commit()


def form(**changes) -> dict:
    data = {
        "name": "十二月月刊",
        "slug": "december",
        "topic": "newsletter",
        "segments": ["makers"],
        "test": "y",
        "variants-0": "十二月月刊",
        "variants-1": "续费率提升的三个办法",
        "variants-2": "",
        "variants-3": "",
        "sample_percent": "40",
        "wait": "4h",
        "metric": "opens",
        "when": "draft",
        "local_time": "09:00",
        "body": BODY,
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def queued() -> int:
    return db.session.scalar(select(func.count()).select_from(Message))


def test_only_marketers_and_admins(login_as, makers):
    for role in ("sales", "editor"):
        client = login_as(role)
        assert client.get("/admin/campaigns/new").status_code == 403
        assert client.post("/admin/campaigns/new", data=form()).status_code == 403
        assert client.post("/admin/campaigns/audience", json={"segments": ["makers"]}).status_code == 403
    assert db.session.scalar(select(Campaign.id)) is None


def test_a_campaign_made_in_the_browser_is_the_campaign_a_file_makes(login_as, makers):
    client = login_as("marketer")
    page = client.get("/admin/campaigns/new?lang=zh_CN").get_data(as_text=True)
    assert "收件人在发送开始时确定" in page and "制造业" in page
    response = client.post(
        "/admin/campaigns/new",
        data=form(exclude=["software"], resend_after="3d", resend_subject="再看一眼"),
    )
    assert response.status_code == 302
    campaign = db.session.scalar(select(Campaign))
    assert (campaign.status, campaign.sample_percent, campaign.wait_minutes) == ("draft", 40, 240)
    assert [v["subject"] for v in campaign.variants] == ["十二月月刊", "续费率提升的三个办法"]
    assert campaign.audience == [{"segment": "makers"}] and campaign.exclude == [{"segment": "software"}]
    assert (campaign.resend_after_minutes, campaign.resend_subject) == (3 * 1440, "再看一眼")
    exported = yaml.safe_load(services.export_campaign("december"))
    assert exported["variants"][1] == {"subject": "续费率提升的三个办法"} and exported["segment"] == "makers"
    # Edited again, the form shows what was saved.
    page = client.get(f"/admin/campaigns/{campaign.id}/edit").get_data(as_text=True)
    assert 'value="续费率提升的三个办法"' in page and 'value="3d"' in page
    assert queued() == 0


@pytest.mark.parametrize(
    ("changes", "field_id", "message"),
    [
        ({"topic": ""}, "topic", "每封营销邮件都须属于一个主题"),
        ({"segments": ["software"], "exclude": ["software"]}, "segments", "目前没有任何人符合"),
        ({"segments": ["nope"]}, "segments", "没有分群"),
        ({"variants-0": "", "variants-1": "续费率提升的三个办法"}, "variants-0", "每个版本都需要标题"),
        ({"when": "at", "send_at": "2020-01-01T09:00"}, "send_at", "该时间已过"),
        ({"when": "local", "local_time": "9点"}, "local_time", "09:00"),
        ({"wait": "soon"}, "wait", "4h"),
        ({"test": None, "subject": ""}, "subject", "标题"),
        ({"resend_after": "3d"}, "resend_subject", "补发邮件需要自己的标题"),
    ],
)
def test_a_mistake_comes_back_beside_its_field_and_nothing_is_saved(
    login_as, makers, changes, field_id, message
):
    client = login_as("marketer")
    response = client.post(
        "/admin/campaigns/new?lang=zh_CN",
        data=form(when="now", **changes) if "when" not in changes else form(**changes),
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    beside = page.split(f'id="{field_id}-error"')[1].split("</p>")[0]
    assert message in beside
    assert db.session.scalar(select(Campaign.id)) is None
    assert queued() == 0


def test_send_now_fixes_the_recipients_and_queues_their_mail(login_as, makers):
    client = login_as("marketer")
    response = client.post(
        "/admin/campaigns/new?lang=zh_CN",
        data=form(when="now", test=None, subject="十二月月刊"),
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "已确定 5 位收件人" in page
    campaign = db.session.scalar(select(Campaign))
    assert campaign.status == "sent" and queued() == 5
    # Once started it cannot be changed: the editor says so and saving is refused.
    page = client.get(f"/admin/campaigns/{campaign.id}/edit?lang=zh_CN").get_data(as_text=True)
    assert "发送已开始" in page
    refused = client.post(f"/admin/campaigns/{campaign.id}/edit", data=form(test=None, subject="改了"))
    assert refused.status_code == 422
    assert db.session.get(Campaign, campaign.id).variants == [{"subject": "十二月月刊"}]
    assert queued() == 5


def test_a_time_in_the_future_schedules_it(login_as, makers):
    client = login_as("marketer")
    later = (utcnow() + timedelta(days=2)).replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M")
    assert client.post("/admin/campaigns/new", data=form(when="at", send_at=later)).status_code == 302
    campaign = db.session.scalar(select(Campaign))
    assert campaign.status == "scheduled" and campaign.send_at > utcnow()
    assert client.post("/admin/campaigns/new", data=form(slug="other", when="local")).status_code == 302
    assert db.session.scalar(select(Campaign).where(Campaign.slug == "other")).local_time == "09:00"


def test_a_send_time_is_kept_to_the_minute_in_the_readers_zone(login_as, makers):
    # Shanghai is UTC+8; a zone taken from its first offset in history (+08:06) sent at 09:54.
    client = login_as("marketer")
    day = (utcnow() + timedelta(days=3)).date()
    local = f"{day.isoformat()}T10:00"
    assert client.post("/admin/campaigns/new", data=form(when="at", send_at=local)).status_code == 302
    campaign = db.session.scalar(select(Campaign))
    assert campaign.send_at.strftime("%Y-%m-%d %H:%M") == f"{day.isoformat()} 02:00"
    page = client.get(f"/admin/campaigns/{campaign.id}/edit").get_data(as_text=True)
    assert f'value="{local}"' in page
    # The campaign's page says it as the editor's pages do: the locale's date, the hour.
    shown = client.get(f"/admin/campaigns/{campaign.id}").get_data(as_text=True)
    assert f"{day.year}年{day.month}月{day.day}日 10:00" in shown and "/" + str(day.day) + " " not in shown


def test_the_live_count_is_the_audience_minus_exclusions_with_consent(login_as, makers):
    person("noconsent@mfg.cn", company="华东制造", consent="")
    client = login_as("marketer")
    assert client.post("/admin/campaigns/audience", json={"segments": ["makers"]}).get_json() == {"count": 5}
    both = {"segments": ["makers", "software"], "exclude": ["software"]}
    assert client.post("/admin/campaigns/audience", json=both).get_json() == {"count": 5}
    assert client.post("/admin/campaigns/audience", json={"segments": ["software"]}).get_json() == {
        "count": 1
    }
    assert client.post("/admin/campaigns/audience", json={"segments": "makers"}).get_json() == {"count": 0}


def test_preview_and_test_send_are_nurtures(login_as, makers):
    client = login_as("marketer")
    frame = client.post("/admin/campaigns/preview", data=form(which="variant-1"))
    assert frame.status_code == 200 and "续费率提升的三个办法" in frame.get_data(as_text=True)
    assert "default-src 'none'" in frame.headers["Content-Security-Policy"]
    broken = client.post("/admin/campaigns/preview?lang=zh_CN", data=form(body="{{ lead.nam }}"))
    # The problem in the page's language, named by the field's label (no "body:" code).
    assert "正文（Markdown）：未知变量 lead.nam（可用：lead.name, " in broken.get_data(as_text=True)
    assert "body:" not in broken.get_data(as_text=True)
    sent = client.post("/admin/campaigns/test-send?lang=zh_CN", data=form(which="variant-0"))
    assert sent.status_code == 200 and "测试邮件已排队" in sent.get_data(as_text=True)
    [message] = db.session.scalars(select(Message))
    staff = db.session.scalar(select(User).where(User.email == message.to_address))
    assert message.context["subject"] == "十二月月刊" and staff.role == "marketer"
    assert db.session.scalar(select(Campaign.id)) is None  # a test saves nothing
