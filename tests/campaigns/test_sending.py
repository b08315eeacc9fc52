"""Campaign sends through nurture's queue and the real `flask nurture tick` to a real
SMTP sink: every recipient gets exactly one variant, once, however often the tick runs;
suppressed addresses are skipped at the moment of sending; a test's winner goes to the
rest after its wait (a tie to the first variant); a scheduled send starts in the pass
that reaches its time; cancel stops what is not sent."""

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from campaigns import audience, sending, services
from campaigns.models import Campaign, Recipient
from campaigns.rules import clean_rules
from core.extensions import db
from nurture import suppression, tracking
from nurture.models import Message
from tests.campaigns.conftest import NOW, campaign_file, click_link, person, tick

pytestmark = pytest.mark.usefixtures("topics", "unpaced")


def recipients(campaign) -> dict[str, int | None]:
    rows = db.session.execute(
        select(Message.to_address, Recipient.variant)
        .join(Recipient, Recipient.lead_id == Message.lead_id)
        .where(Recipient.campaign_id == campaign.id)
    )
    return dict(rows.all())


def test_each_recipient_gets_exactly_one_variant_once(app, runner, smtp_sink):
    for n in range(30):
        person(f"m{n:02d}@mfg.cn", company="华东制造")
    person("noconsent@mfg.cn", company="华东制造", consent="")
    person("soft@soft.cn", company="软件公司")
    campaign, _ = services.import_campaign(campaign_file(), now=NOW)
    assert campaign.status == "draft"
    started = runner.invoke(args=["campaigns", "send", "december"])
    assert "30 recipients" in started.output
    # A second start, or a racing worker, adds nothing.
    assert runner.invoke(args=["campaigns", "send", "december"]).exit_code == 1
    with pytest.raises(sending.NotStartable):
        sending.start(campaign.id, now=NOW)
    now = db.session.get(Campaign, campaign.id).started_at
    tick(runner, now)
    tick(runner, now + timedelta(minutes=5))
    mails = smtp_sink.wait_for(30)
    assert len(smtp_sink.messages) == 30
    assert Counter(m["To"] for m in mails).most_common(1)[0][1] == 1
    assert "noconsent@mfg.cn" not in {m["To"] for m in mails}
    given = recipients(campaign)
    assert sorted(Counter(given.values()).values()) == [15, 15]  # the variants take turns
    for mail in mails:
        subject = mail["Subject"]
        expected = "十二月月刊" if given[mail["To"]] == 0 else "续费率提升的三个办法"
        assert expected in subject
        assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_suppressed_address_is_skipped_at_sending(app, runner, smtp_sink):
    for n in range(3):
        person(f"m{n}@mfg.cn", company="华东制造")
    campaign, _ = services.import_campaign(campaign_file(), now=NOW)
    sending.start(campaign.id, now=NOW)
    # Unsubscribed after the recipients were fixed, before the worker came.
    suppression.suppress("m1@mfg.cn", "unsubscribed", now=NOW)
    db.session.commit()
    tick(runner, NOW)
    smtp_sink.wait_for(2)
    assert sorted(m["To"] for m in smtp_sink.messages) == ["m0@mfg.cn", "m2@mfg.cn"]
    statuses = dict(db.session.execute(select(Message.to_address, Message.status)).all())
    assert statuses["m1@mfg.cn"] == "suppressed"


def test_the_winner_goes_to_the_rest_after_the_wait(app, runner, smtp_sink):
    for n in range(20):
        person(f"m{n:02d}@mfg.cn", company="华东制造")
    campaign, _ = services.import_campaign(campaign_file(sample=40), now=NOW)
    assert sending.start(campaign.id, now=NOW) == 20
    tick(runner, NOW)
    sample = smtp_sink.wait_for(8)
    assert len(smtp_sink.messages) == 8  # 40% of 20, four per variant
    second = [m.id for m in db.session.scalars(select(Message).where(Message.template.endswith(":1")))]
    for message_id in second[:2]:
        tracking.record_open(message_id, now=NOW + timedelta(hours=1))
    tick(runner, NOW + timedelta(hours=3))  # still waiting
    assert db.session.get(Campaign, campaign.id).winner is None
    tick(runner, NOW + timedelta(hours=4, minutes=1))
    tick(runner, NOW + timedelta(hours=4, minutes=2))
    mails = smtp_sink.wait_for(20)
    assert len(smtp_sink.messages) == 20
    decided = db.session.get(Campaign, campaign.id)
    assert (decided.winner, decided.status) == (1, "sent")
    assert Counter(m["To"] for m in mails).most_common(1)[0][1] == 1
    rest = [m for m in mails if m not in sample]
    assert all("续费率提升的三个办法" in m["Subject"] for m in rest)
    figures = sending.figures(decided)
    assert [row["opened"] for row in figures] == [0, 2]
    assert [row["sent"] for row in figures] == [4, 16]
    # A segment can name the campaign's mail: those who opened it, those who did not.
    opened = {"all": [{"event": "mail_open", "mail": "december"}]}
    assert audience.count(clean_rules(opened), now=NOW + timedelta(days=1)) == 2
    unopened = {"all": [{"event": "mail_sent", "mail": "december"}, {"not": [opened]}]}
    assert audience.count(clean_rules(unopened), now=NOW + timedelta(days=1)) == 18


def test_a_tie_goes_to_the_first_variant(app, runner, smtp_sink):
    for n in range(10):
        person(f"m{n}@mfg.cn", company="华东制造")
    campaign, _ = services.import_campaign(campaign_file(sample=20), now=NOW)
    sending.start(campaign.id, now=NOW)
    tick(runner, NOW)
    tick(runner, NOW + timedelta(hours=5))
    smtp_sink.wait_for(10)
    assert db.session.get(Campaign, campaign.id).winner == 0
    assert len(smtp_sink.messages) == 10


def test_a_scheduled_send_starts_in_the_pass_that_reaches_its_time(app, runner, smtp_sink):
    person("m@mfg.cn", company="华东制造")
    text = campaign_file().replace("metric: opens", "metric: opens\nsend_at: '2026-11-23T18:00:00+08:00'")
    campaign, _ = services.import_campaign(text, now=NOW)
    assert campaign.status == "scheduled"
    tick(runner, NOW + timedelta(hours=7))
    assert db.session.get(Campaign, campaign.id).status == "scheduled"
    tick(runner, NOW + timedelta(hours=8))
    smtp_sink.wait_for(1)
    assert db.session.get(Campaign, campaign.id).status == "sent"


def test_cancel_stops_what_is_not_sent_and_says_how_many_went(app, runner, smtp_sink):
    for n in range(6):
        person(f"m{n}@mfg.cn", company="华东制造")
    campaign, _ = services.import_campaign(campaign_file(sample=50), now=NOW)
    sending.start(campaign.id, now=NOW)
    tick(runner, NOW)
    smtp_sink.wait_for(3)
    result = runner.invoke(args=["campaigns", "cancel", "december"])
    assert "3 mails had gone out" in result.output
    tick(runner, NOW + timedelta(hours=5))  # past the test's wait: no winner, no rest
    assert len(smtp_sink.messages) == 3
    cancelled = db.session.get(Campaign, campaign.id)
    assert (cancelled.status, cancelled.winner) == ("cancelled", None)
    assert db.session.scalar(select(db.func.count()).select_from(Message)) == 3


def test_cancel_before_the_worker_came_sends_nothing(app, runner, smtp_sink):
    person("m@mfg.cn", company="华东制造")
    campaign, _ = services.import_campaign(campaign_file(), now=NOW)
    sending.start(campaign.id, now=NOW)
    assert services.cancel(campaign.id, now=NOW) == 0
    tick(runner, NOW)
    assert smtp_sink.messages == []
    assert db.session.scalars(select(Message.status)).all() == ["skipped"]


def test_a_campaigns_links_to_the_site_carry_its_utm_tags_and_other_links_stay_as_written(
    app, runner, smtp_sink, client, monkeypatch
):
    person("m0@mfg.cn", company="华东制造")
    body = (
        "[白皮书](http://localhost/library/saas-renewal?from=mail) "
        "[自带标记](http://localhost/blog/?utm_campaign=mine) "
        "[外部](https://example.com/renewal)"
    )
    text = campaign_file().replace("  [阅读全文](https://example.com/renewal)", f"  {body}")
    campaign, _ = services.import_campaign(text, now=NOW)
    sending.start(campaign.id, now=NOW)
    tick(runner, NOW)
    (mail,) = smtp_sink.wait_for(1)
    own, tagged_by_editor, outside = (click_link(client, mail, index) for index in range(3))
    assert own == (
        "http://localhost/library/saas-renewal?from=mail"
        "&utm_source=lodestar&utm_medium=email&utm_campaign=december"
    )
    assert tagged_by_editor == "http://localhost/blog/?utm_campaign=mine"
    assert outside == "https://example.com/renewal"

    monkeypatch.setitem(app.config, "CAMPAIGN_UTM_SOURCE", "")
    again, _ = services.import_campaign(text.replace("slug: december", "slug: january"), now=NOW)
    sending.start(again.id, now=NOW)
    tick(runner, NOW + timedelta(minutes=5))
    second = smtp_sink.wait_for(2)[-1]
    assert click_link(client, second, 0) == "http://localhost/library/saas-renewal?from=mail"
