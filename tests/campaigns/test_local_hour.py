"""`local_time: "09:00"`: each recipient's mail is due at 09:00 in their own time zone
(the site's for a lead without one), computed when the mail is queued, across zones and
daylight-saving changes; the worker sends each only when its hour has come."""

from datetime import datetime

import pytest
from sqlalchemy import select

from campaigns import sending, services
from core.extensions import db
from gated.models import Lead
from nurture.models import Message
from tests.campaigns.conftest import person

pytestmark = pytest.mark.usefixtures("topics", "unpaced")

MORNING = """slug: morning
name: 早安
topic: newsletter
segment: {all: [{field: company, op: contains, value: 制造}]}
subject: 早安
local_time: "09:00"
body: 早上好
"""
ZONES = {
    "site@mfg.cn": "",
    "shanghai@mfg.cn": "Asia/Shanghai",
    "newyork@mfg.cn": "America/New_York",
    "london@mfg.cn": "Europe/London",
    "tokyo@mfg.cn": "Asia/Tokyo",
}


def due_times(now: datetime) -> dict[str, datetime]:
    for email, zone in ZONES.items():
        person(email, company="华东制造", now=now)
        db.session.execute(db.update(Lead).where(Lead.email == email).values(timezone=zone))
    db.session.commit()
    campaign, _ = services.import_campaign(MORNING, now=now)
    sending.start(campaign.id, now=campaign.send_at)
    return dict(db.session.execute(select(Message.to_address, Message.next_attempt_at)).all())


def test_nine_in_the_morning_in_each_zone_in_winter():
    # Monday 2026-11-23, 10:00 in Shanghai: the send starts at 09:00 Shanghai on the 24th.
    due = due_times(datetime(2026, 11, 23, 2, 0))
    assert due == {
        "site@mfg.cn": datetime(2026, 11, 24, 1, 0),  # LODESTAR_TIMEZONE: Asia/Shanghai
        "shanghai@mfg.cn": datetime(2026, 11, 24, 1, 0),
        "london@mfg.cn": datetime(2026, 11, 24, 9, 0),  # GMT
        "newyork@mfg.cn": datetime(2026, 11, 24, 14, 0),  # EST, UTC-5
        # 09:00 in Tokyo on the 24th came before the start: the next day's.
        "tokyo@mfg.cn": datetime(2026, 11, 25, 0, 0),
    }


def test_new_york_has_moved_to_summer_time_and_london_not_yet():
    # 2027-03-14 is the day the United States moves its clocks; Europe waits until the 28th.
    due = due_times(datetime(2027, 3, 13, 2, 0))
    assert due["newyork@mfg.cn"] == datetime(2027, 3, 14, 13, 0)  # EDT, UTC-4
    assert due["london@mfg.cn"] == datetime(2027, 3, 14, 9, 0)


def test_the_worker_sends_each_mail_at_its_hour(runner, smtp_sink):
    due = due_times(datetime(2026, 11, 23, 2, 0))
    for at in sorted(set(due.values())):
        result = runner.invoke(args=["nurture", "tick", "--now", at.isoformat()])
        assert result.exit_code == 0, result.output
        expected = sorted(address for address, moment in due.items() if moment <= at)
        assert sorted(m["To"] for m in smtp_sink.wait_for(len(expected))) == expected
