"""Opt-in-only topics on the newsletter form (nurture.form_topics): one unticked box per
topic; a ticked box is the lead's choice of the topic (source "form", the form's consent
version), stored with the submission, and a campaign of that topic then reaches them."""

import pytest
from sqlalchemy import select

from campaigns import sending, services
from campaigns.models import Recipient
from core.extensions import db
from core.timeutil import utcnow
from gated import holding
from gated.consent import consent_text
from gated.models import HeldSubmission, Lead, Submission
from nurture import topics
from nurture.models import Message, TopicChoice
from tests.factories import form_data

pytestmark = pytest.mark.usefixtures("topics")

WEBINAR = """slug: webinar
name: 直播邀请
topic: events
segment: {all: [{field: company, op: contains, value: 星河}]}
subject: 直播邀请
body: 欢迎参加
"""


@pytest.fixture
def events(app):
    topic = topics.by_slug("events")
    topic.opt_in_only = True
    topic.description = "每月一次线上直播"
    db.session.commit()
    return topic


def the_lead() -> Lead:
    [lead] = db.session.scalars(select(Lead)).all()
    return lead


def test_the_newsletter_form_offers_each_opt_in_topic_unticked(client, events):
    page = client.get("/newsletter").get_data(as_text=True)
    box = f'<input type="checkbox" id="topic-{events.id}" name="topic" value="{events.id}">'
    assert box in page
    assert "活动与直播" in page and "每月一次线上直播" in page
    # An open topic needs no box: consent already brings it.
    assert "新闻简报" not in page.split('class="form-topics"')[1].split("</fieldset>")[0]
    # The demo form does not offer topics.
    assert 'name="topic"' not in client.get("/demo-request").get_data(as_text=True)


def test_without_opt_in_topics_the_form_shows_no_box(client):
    page = client.get("/newsletter").get_data(as_text=True)
    assert 'name="topic"' not in page and "form-topics" not in page


def test_the_form_with_topics_is_the_same_bytes_for_every_visitor(app, events):
    first, second = app.test_client(), app.test_client()
    one = first.get("/newsletter").get_data()
    assert f'value="{events.id}"'.encode() in one
    assert one == second.get("/newsletter").get_data()


def test_a_ticked_box_gives_the_lead_the_topic_and_its_campaign_reaches_them(client, events):
    response = client.post("/newsletter", data=form_data(consent="y", topic=str(events.id)))
    assert response.status_code == 303
    lead = the_lead()
    choice = db.session.scalar(select(TopicChoice).where(TopicChoice.lead_id == lead.id))
    version, text = consent_text()
    assert (choice.topic_id, choice.subscribed, choice.source) == (events.id, True, "form")
    assert choice.version == version and text in choice.text and "活动与直播" in choice.text
    submission = db.session.scalar(select(Submission).where(Submission.lead_id == lead.id))
    assert submission.fields["topic"] == [str(events.id)]
    assert topics.receiving(lead.id, events.id)
    campaign, _ = services.import_campaign(WEBINAR, now=submission.created_at)
    assert sending.start(campaign.id, now=submission.created_at) == 1
    assert db.session.scalar(select(Recipient.lead_id)) == lead.id


def test_an_unticked_box_gives_no_topic(client, events):
    client.post("/newsletter", data=form_data(consent="y"))
    lead = the_lead()
    assert lead.marketing_consent
    assert db.session.scalar(select(TopicChoice).where(TopicChoice.lead_id == lead.id)) is None
    assert not topics.receiving(lead.id, events.id)


@pytest.mark.parametrize("forged", ["999999", "-1", "abc", "9" * 30, "1' OR 1=1"])
def test_a_forged_topic_id_is_ignored_without_an_error(client, events, forged):
    newsletter = topics.by_slug("newsletter")
    response = client.post("/newsletter", data=form_data(consent="y", topic=[forged, str(newsletter.id)]))
    assert response.status_code == 303
    lead = the_lead()
    # Neither an unknown id nor an open topic's id (not offered on the form) is recorded.
    assert db.session.scalars(select(TopicChoice).where(TopicChoice.lead_id == lead.id)).all() == []


def test_with_double_opt_in_the_topic_is_chosen_when_the_address_is_confirmed(app, client, events):
    app.config["DOUBLE_OPT_IN"] = True
    try:
        client.post("/newsletter", data=form_data(consent="y", topic=str(events.id)))
        lead = the_lead()
        assert not topics.receiving(lead.id, events.id)
        mail = db.session.scalar(select(Message).where(Message.template == "gated/email/confirm"))
        confirm = mail.context["confirm_url"].replace("http://localhost", "")
        client.post(confirm)
    finally:
        app.config["DOUBLE_OPT_IN"] = False
    assert topics.receiving(lead.id, events.id)


def test_a_held_submission_keeps_its_ticked_topics_until_it_is_released(app, client, events, monkeypatch):
    monkeypatch.setitem(app.config, "FORM_CHALLENGE", "always")  # no proof: held
    response = client.post("/newsletter", data=form_data(consent="y", topic=str(events.id)))
    assert response.status_code == 202
    held = db.session.scalar(select(HeldSubmission))
    assert held.fields["topic"] == [str(events.id)]
    holding.release(held.id, now=utcnow())
    lead = the_lead()
    choice = db.session.scalar(select(TopicChoice).where(TopicChoice.lead_id == lead.id))
    assert (choice.topic_id, choice.subscribed, choice.source) == (events.id, True, "form")
    assert topics.receiving(lead.id, events.id)
