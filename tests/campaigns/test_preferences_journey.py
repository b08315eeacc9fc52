"""The issue's "a person leaves the newsletter and still gets the sequence they asked
for", end to end: a real white-paper download enrols the person in a sequence of its own
topic, a newsletter campaign reaches them through the real `flask nurture tick` and a
real SMTP sink, they press their mail program's one-click unsubscribe (the header's URL,
POSTed as RFC 8058 says), and then the next newsletter passes them by while the
sequence's next mail still arrives."""

from datetime import timedelta

import pytest
from flask import current_app

from campaigns import services
from campaigns.models import Campaign
from core.extensions import db
from gated.capture import RequestMeta, capture_lead
from nurture import sequences
from nurture.models import Enrollment, Suppression
from tests.campaigns.conftest import NOW, person
from tests.factories import make_whitepaper

pytestmark = pytest.mark.usefixtures("topics", "unpaced")


def tick(runner, at) -> None:
    result = runner.invoke(args=["nurture", "tick", "--now", at.isoformat()])
    assert result.exit_code == 0, result.output


def send(runner, slug: str) -> None:
    newsletter = f"""slug: {slug}
name: 月刊 {slug}
topic: newsletter
segment: {{all: [{{field: company, op: contains, value: 制造}}]}}
subject: 月刊 {slug}
body: 本月内容
"""
    campaign, _ = services.import_campaign(newsletter, now=NOW)
    assert runner.invoke(args=["campaigns", "send", slug]).exit_code == 0
    tick(runner, db.session.get(Campaign, campaign.id).started_at)


def unsubscribe_path(mail) -> str:
    url = str(mail["List-Unsubscribe"]).split(",")[0].strip().strip("<>")
    return url.removeprefix(current_app.config["SITE_URL"].rstrip("/"))


def test_a_person_leaves_the_newsletter_and_still_gets_the_sequence_they_asked_for(
    app, client, runner, smtp_sink
):
    sequences.save_sequence(
        {
            "slug": "renewal-guide",
            "name": "续费指南",
            "status": "active",
            "topic": "product-news",
            "send_window": {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]},
            "steps": [
                {"delay": "0h", "subject": "续费指南(一)", "body": "[下载]({{ download_url }})"},
                {"delay": "3d", "subject": "续费指南(二)", "body": "第二封"},
            ],
        },
        now=NOW,
    )
    _, paper = make_whitepaper(slug="renewal-paper", sequence_slug="renewal-guide")
    with current_app.test_request_context(base_url="http://localhost"):
        capture_lead(
            "whitepaper",
            {"email": "reader@mfg.cn", "name": "韩梅梅", "company": "华东制造", "consent": "on"},
            asset=paper,
            request_meta=RequestMeta(),
            now=NOW,
        )
    person("stays@mfg.cn", company="华东制造")
    enrolled = db.session.query(Enrollment).one()
    tick(runner, enrolled.next_send_at)
    first = [m["Subject"] for m in smtp_sink.wait_for(2)]
    assert len(first) == 2 and "续费指南(一)" in first  # and the download link
    smtp_sink.clear()

    send(runner, "december")
    mails = {m["To"]: m for m in smtp_sink.wait_for(2)}
    assert set(mails) == {"reader@mfg.cn", "stays@mfg.cn"}
    december = mails["reader@mfg.cn"]
    assert "<newsletter." in str(december["List-Id"])
    assert december["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    left = client.post(unsubscribe_path(december), data={"List-Unsubscribe": "One-Click"})
    assert left.status_code == 204
    assert Suppression.query.count() == 0  # a topic left, not all mail
    smtp_sink.clear()

    send(runner, "january")
    assert [m["To"] for m in smtp_sink.wait_for(1)] == ["stays@mfg.cn"]
    smtp_sink.clear()

    tick(runner, enrolled.enrolled_at + timedelta(days=3, hours=1))
    [second] = smtp_sink.wait_for(1)
    assert (second["To"], second["Subject"]) == ("reader@mfg.cn", "续费指南(二)")
    assert "<product-news." in str(second["List-Id"])
    assert len(smtp_sink.messages) == 1


def test_a_campaign_fixes_only_the_leads_who_receive_its_topic_at_the_start(app):
    from campaigns import sending
    from campaigns.models import Recipient
    from nurture import topics

    events = topics.by_slug("events")
    events.opt_in_only = True
    chose, left, silent = (
        person(f"{name}@mfg.cn", company="华东制造") for name in ("chose", "left", "silent")
    )
    decision = topics.Decision(source="form", now=NOW)
    topics.choose(chose.id, {events.id: True}, decision)
    topics.choose(left.id, {events.id: False}, decision)
    db.session.commit()
    webinar = """slug: webinar
name: 直播邀请
topic: events
segment: {all: [{field: company, op: contains, value: 制造}]}
subject: 直播邀请
body: 欢迎参加
"""
    campaign, _ = services.import_campaign(webinar, now=NOW)
    assert sending.start(campaign.id, now=NOW) == 1
    [recipient] = db.session.query(Recipient).all()
    assert recipient.lead_id == chose.id and silent.id != chose.id


def test_a_campaign_whose_topic_nobody_of_the_audience_receives_is_refused(app):
    from campaigns.validation import CampaignError
    from nurture import topics

    topics.by_slug("events").opt_in_only = True
    person("someone@mfg.cn", company="华东制造")
    db.session.commit()
    webinar = "slug: w\nname: w\ntopic: events\nsegment: {all: [{field: company, op: contains, value: 制造}]}\nsubject: s\nbody: b\n"
    with pytest.raises(CampaignError) as refused:
        services.import_campaign(webinar, now=NOW)
    assert [error.split(":")[0] for error in refused.value.errors] == ["segment"]
    assert db.session.query(Campaign).count() == 0
