"""`flask campaigns import|export`: the contract's file, round trips, and each bad input
named by its field, exit 1 and nothing saved."""

from datetime import time, timedelta

import pytest
import yaml
from sqlalchemy import func, select

from campaigns import segments, services
from campaigns.models import Campaign
from campaigns.validation import CampaignError
from core.extensions import db
from core.timeutil import utcnow
from tests.campaigns.conftest import GOOD, NOW, person

pytestmark = pytest.mark.usefixtures("topics")


@pytest.fixture(autouse=True)
def _someone_in_the_audience(app):
    person("boss@mfg.cn", role="decision_maker")


def save(**changes):
    data = {**GOOD, **changes}
    for key in [key for key, value in changes.items() if value is None]:
        del data[key]
    return services.save_campaign(data, now=NOW)


def test_import_and_export_round_trip(runner, tmp_path):
    path = tmp_path / "campaign.yml"
    path.write_text(yaml.safe_dump(GOOD, allow_unicode=True), encoding="utf-8")
    result = runner.invoke(args=["campaigns", "import", str(path)])
    assert result.exit_code == 0 and "renewal-launch created (scheduled" in result.output
    campaign = db.session.scalar(select(Campaign))
    # The next 09:00 in the site's time zone (Asia/Shanghai): 01:00 UTC.
    assert campaign.send_at.time() == time(1, 0)
    assert utcnow() < campaign.send_at <= utcnow() + timedelta(days=1)
    exported = yaml.safe_load(runner.invoke(args=["campaigns", "export", "renewal-launch"]).output)
    assert {key: exported[key] for key in GOOD} == GOOD
    assert runner.invoke(args=["campaigns", "export", "nope"]).exit_code == 1


def test_local_time_is_the_next_such_hour_in_the_site_time_zone():
    campaign, _ = save()  # NOW is 10:00 in Shanghai: 09:00 has passed today
    assert campaign.send_at == NOW + timedelta(hours=23)


def test_a_segment_by_slug_and_a_plain_subject():
    segments.save_segment({"slug": "bosses", "rules": GOOD["segment"]}, now=NOW)
    campaign, outcome = save(
        segment="bosses",
        exclude=None,
        variants=None,
        subject="月刊",
        sample_percent=None,
        wait=None,
        local_time=None,
    )
    assert (outcome, campaign.status, campaign.audience) == ("created", "draft", [{"segment": "bosses"}])
    assert campaign.variants == [{"subject": "月刊"}]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"topic": None}, "topic: "),
        ({"topic": "sports"}, "topic: "),
        ({"segment": {"all": [{"field": "industry", "op": "eq", "value": "x"}]}}, "segment.all[0].field: "),
        ({"segment": {"all": [{"event": "webinar"}]}}, "segment.all[0].event: "),
        ({"segment": "no-such-segment"}, "segment: "),
        ({"segment": {"all": [{"field": "company", "op": "eq", "value": "无此公司"}]}}, "segment: "),
        ({"segment": None}, "segment: "),
        ({"variants": [{"subject": "一"}, {"body": "没有标题"}]}, "variants[1].subject: "),
        ({"variants": [{"subject": "只有一个"}]}, "variants: "),
        ({"variants": [{"subject": "一"}, {"subject": "{{ lead.compnay }}"}]}, "variants[1].subject: "),
        ({"local_time": None, "send_at": "2026-11-01T09:00:00+08:00"}, "send_at: "),
        ({"local_time": "9 am"}, "local_time: "),
        ({"send_at": "2027-01-01T09:00:00+08:00"}, "send_at: "),
        ({"sample_percent": 0}, "sample_percent: "),
        ({"wait": "soon"}, "wait: "),
        ({"metric": "replies"}, "metric: "),
        ({"slug": "坏 slug"}, "slug: "),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(changes, field):
    with pytest.raises(CampaignError) as caught:
        save(**changes)
    assert any(error.startswith(field) for error in caught.value.errors), caught.value.errors
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_the_command_exits_1_with_every_error_and_nothing_saved(runner, tmp_path):
    path = tmp_path / "bad.yml"
    path.write_text(
        yaml.safe_dump({**GOOD, "topic": "", "variants": [{"subject": "一"}, {"subject": ""}]}),
        encoding="utf-8",
    )
    result = runner.invoke(args=["campaigns", "import", str(path)])
    assert result.exit_code == 1
    assert "topic: " in result.output and "variants[1].subject: " in result.output
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_a_started_campaign_cannot_be_edited(runner):
    from campaigns import sending

    campaign, _ = save(local_time=None)
    sending.start(campaign.id, now=NOW)
    with pytest.raises(CampaignError) as caught:
        save(local_time=None, name="改名")
    assert caught.value.errors[0].startswith("status: ")
