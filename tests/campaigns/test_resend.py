"""Resend to non-openers: after its wait, the campaign's follow-up goes once, through the
real worker, to the recipients who were sent the campaign and opened none of it (opens
recorded through the real tracking routes), with the follow-up's subject."""

from collections import Counter
from datetime import timedelta

import pytest
import yaml

from campaigns import sending, services
from campaigns.validation import CampaignError
from core.extensions import db
from nurture import suppression
from tests.campaigns.conftest import NOW, campaign_file, click_link, open_mail, person, tick

pytestmark = pytest.mark.usefixtures("topics", "unpaced")

RESEND = 'resend: {after: 3d, subject: "再看一眼:十二月月刊"}\nbody: |'


def test_non_openers_get_the_follow_up_exactly_once(app, runner, client, smtp_sink):
    for n in range(6):
        person(f"m{n}@mfg.cn", company="华东制造")
    campaign, _ = services.import_campaign(campaign_file(**{"body: |": RESEND}), now=NOW)
    assert sending.start(campaign.id, now=NOW) == 6
    tick(runner, NOW)
    first = {mail["To"]: mail for mail in smtp_sink.wait_for(6)}
    open_mail(client, first["m0@mfg.cn"])
    click_link(client, first["m1@mfg.cn"])  # a click is an open too
    suppression.suppress("m2@mfg.cn", "unsubscribed", now=NOW)
    db.session.commit()
    tick(runner, NOW + timedelta(days=2))  # not yet
    assert len(smtp_sink.messages) == 6
    for hours in (72, 73, 74):  # several passes after the wait: still once
        tick(runner, NOW + timedelta(hours=hours, minutes=1))
    mails = smtp_sink.wait_for(9)
    assert len(smtp_sink.messages) == 9
    follow_ups = [mail for mail in mails if "再看一眼" in mail["Subject"]]
    assert sorted(mail["To"] for mail in follow_ups) == ["m3@mfg.cn", "m4@mfg.cn", "m5@mfg.cn"]
    assert Counter(mail["To"] for mail in follow_ups).most_common(1)[0][1] == 1
    assert "阅读全文" in follow_ups[0].get_body(("plain",)).get_content()
    exported = yaml.safe_load(services.export_campaign("december"))
    assert exported["resend"] == {"after": "3d", "subject": "再看一眼:十二月月刊"}


def test_a_cancelled_campaign_sends_no_follow_up(app, runner, smtp_sink):
    person("m0@mfg.cn", company="华东制造")
    campaign, _ = services.import_campaign(campaign_file(**{"body: |": RESEND}), now=NOW)
    sending.start(campaign.id, now=NOW)
    tick(runner, NOW)
    smtp_sink.wait_for(1)
    services.cancel(campaign.id, now=NOW + timedelta(hours=1))
    tick(runner, NOW + timedelta(days=4))
    assert len(smtp_sink.messages) == 1


@pytest.mark.parametrize(
    ("resend", "field"),
    [
        ("resend: {after: 3d}", "resend.subject"),
        ("resend: {after: soon, subject: x}", "resend.after"),
        ("resend: {subject: x}", "resend.after"),
        ("resend: {after: 3d, subject: '{{ lead.nope(' }", "resend.subject"),
        ("resend: again", "resend"),
    ],
)
def test_a_bad_resend_is_named_and_nothing_saved(app, resend, field):
    person("m0@mfg.cn", company="华东制造")
    with pytest.raises(CampaignError) as caught:
        services.import_campaign(campaign_file(**{"body: |": resend + "\nbody: |"}), now=NOW)
    assert any(error.startswith(field + ":") for error in caught.value.errors), caught.value.errors
    assert services.db.session.scalar(services.select(services.Campaign.id)) is None
