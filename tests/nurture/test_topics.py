"""Topics: who receives them, the preference page behind every unsubscribe link, the
one-click unsubscribe leaving one topic, and sending that honours both."""

import pytest
from sqlalchemy import select

from core import tokens
from core.extensions import db
from nurture import delivery, enrolment, mailqueue, sequences, topics, validation
from nurture.models import Enrollment, Message, Suppression, Topic, TopicChoice
from tests.nurture.conftest import (
    MONDAY_10_SHANGHAI,
    TEST_MAIL,
    make_lead,
    make_sequence,
    sequence_data,
    tick,
)

pytestmark = pytest.mark.usefixtures("app", "topics")

NOW = MONDAY_10_SHANGHAI


def topic(slug: str) -> Topic:
    return topics.by_slug(slug)


def receiving(lead) -> set[str]:
    return {choice.topic.slug for choice in topics.preferences(lead.id) if choice.receiving}


def topic_mail(lead, slug="newsletter") -> Message:
    """A sent marketing mail of a topic, as the worker leaves it."""
    message = Message(
        kind="campaign", lead_id=lead.id, to_address=lead.email, topic_id=topic(slug).id, status="sent"
    )
    db.session.add(message)
    db.session.commit()
    return message


def link(message) -> str:
    return f"/u/{tokens.sign('unsubscribe', message.id)}"


def test_consent_means_every_open_topic_until_left_and_opt_in_only_means_chosen():
    topic("events").opt_in_only = True
    db.session.commit()
    agreed, silent = make_lead("agreed@example.com"), make_lead("silent@example.com", consent=False)
    assert receiving(agreed) == {"newsletter", "product-news", "follow-up"}
    assert receiving(silent) == set()
    decision = topics.Decision(source="form", now=NOW)
    topics.choose(agreed.id, {topic("events").id: True, topic("newsletter").id: False}, decision)
    topics.choose(silent.id, {topic("product-news").id: True}, decision)
    db.session.commit()
    assert receiving(agreed) == {"events", "product-news", "follow-up"}
    assert receiving(silent) == {"product-news"}  # chose it, so it is theirs without general consent


def test_the_page_lists_the_topics_and_marks_the_mails_own(client):
    lead = make_lead("reader@example.com")
    html = client.get(link(topic_mail(lead, "events"))).get_data(as_text=True)
    assert "r***@example.com" in html and "reader@" not in html
    for name in ("新闻简报", "活动与直播", "产品动态", "资料跟进"):
        assert name in html
    assert html.count(" checked") == 4  # every topic: the lead gave marketing consent
    assert 'class="topic this-mail"' in html and html.index("this-mail") < html.index("活动与直播")
    assert TopicChoice.query.count() == 0  # a GET (a link scanner) changes nothing


def test_an_english_reader_reads_the_built_in_topics_in_english(client):
    lead = make_lead("reader@example.com")
    lead.locale = "en"
    db.session.commit()
    html = client.get(link(topic_mail(lead, "events")) + "?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html
    for name in ("Newsletter", "Events and live streams", "Product news", "Follow-up on what you asked for"):
        assert name in html
    assert not [
        name for name in ("新闻简报", "活动与直播", "产品动态", "资料跟进", "后续邮件") if name in html
    ]
    # A name the team typed shows as typed.
    topic("events").name = "Webinars"
    db.session.commit()
    assert "Webinars" in client.get(link(topic_mail(lead, "events")) + "?lang=en").get_data(as_text=True)


def test_one_click_leaves_only_the_topic_of_the_mail(client):
    lead = make_lead("reader@example.com")
    message = topic_mail(lead, "newsletter")
    response = client.post(link(message), data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 204
    assert receiving(lead) == {"events", "product-news", "follow-up"}
    assert Suppression.query.count() == 0
    choice = TopicChoice.query.one()
    assert (choice.subscribed, choice.source, choice.changed_at is not None) == (False, "one_click", True)
    assert db.session.get(Message, message.id).unsubscribed_at is not None


def test_one_click_on_a_mail_without_a_topic_leaves_everything(client):
    lead = make_lead("reader@example.com")
    message = mailqueue.add_mail(to=lead.email, template=TEST_MAIL, context={}, lead_id=lead.id, now=NOW)
    db.session.commit()
    assert client.post(link(message), data={"List-Unsubscribe": "One-Click"}).status_code == 204
    assert Suppression.query.one().reason == "unsubscribed"


def test_saving_the_page_keeps_the_ticked_topics_with_the_consent_record(make_app):
    csrf_app = make_app(WTF_CSRF_ENABLED=True)
    with csrf_app.app_context():
        lead = make_lead("reader@example.com")
        message = topic_mail(lead, "newsletter")
        client = csrf_app.test_client()
        html = client.get(link(message)).get_data(as_text=True)
        events = str(topic("events").id)
        refused = client.post(link(message), data={"action": "save", "topic": events})
        assert refused.status_code == 400 and TopicChoice.query.count() == 0  # no CSRF token
        csrf_token = html.split('name="csrf_token" value="')[1].split('"')[0]
        done = client.post(link(message), data={"csrf_token": csrf_token, "action": "save", "topic": events})
        assert done.status_code == 200 and "活动与直播" in done.get_data(as_text=True)
        assert receiving(lead) == {"events"}
        rows = {row.topic_id: row for row in TopicChoice.query.all()}
        assert {row.subscribed for row in rows.values()} == {True, False} and len(rows) == 4
        kept = rows[topic("events").id]
        assert (kept.source, kept.version, kept.ip) == (
            "preferences",
            topics.PREFERENCES_VERSION,
            "127.0.0.1",
        )
        assert kept.text and Suppression.query.count() == 0
        assert db.session.get(Message, message.id).unsubscribed_at is not None


def test_leaving_all_suppresses_and_choosing_a_topic_again_lifts_it(client):
    lead = make_lead("reader@example.com")
    message = topic_mail(lead)
    assert client.post(link(message), data={"action": "all"}).status_code == 200
    assert Suppression.query.one().reason == "unsubscribed"
    html = client.get(link(message)).get_data(as_text=True)
    assert " checked" not in html  # nothing reaches a suppressed address, and the page says so
    client.post(link(message), data={"action": "save", "topic": str(topic("events").id)})
    assert Suppression.query.count() == 0 and receiving(lead) == {"events"}


def test_a_forged_topic_value_is_ignored(client):
    lead = make_lead("reader@example.com")
    message = topic_mail(lead)
    response = client.post(link(message), data={"action": "save", "topic": ["x", "99999999999999", "-1"]})
    assert response.status_code == 200 and receiving(lead) == set()


def test_a_sequence_belongs_to_the_default_topic_unless_it_names_one():
    # The mails after a download: leaving the newsletter does not stop them.
    assert make_sequence(slug="plain").topic_id == topic("follow-up").id
    assert make_sequence(slug="events-followup", topic="events").topic_id == topic("events").id
    assert sequences.export_dict(make_sequence(slug="named", topic="events"))["topic"] == "events"
    with pytest.raises(validation.SequenceError) as refused:
        sequences.save_sequence(sequence_data(slug="bad", topic="webinars"), now=NOW)
    assert any(error.startswith("topic: unknown topic 'webinars'") for error in refused.value.errors)


def test_sending_skips_a_queued_mail_whose_topic_was_left_and_names_the_topic_in_list_id(smtp_sink):
    sequence = make_sequence(topic="events")
    kept, left = make_lead("kept@example.com"), make_lead("left@example.com")
    for lead in (kept, left):
        enrolment.enroll([lead.id], sequence.id, now=NOW)
    delivery.materialise(NOW, limit=10)  # both first mails wait in the queue
    topics.leave(left.id, topic("events").id, topics.Decision(source="preferences", now=NOW))
    db.session.commit()
    tick(NOW)
    [mail] = smtp_sink.wait_for(1)
    assert mail["To"] == "kept@example.com"
    assert "<events.nurture." in str(mail["List-Id"]) and "活动与直播" in str(mail["List-Id"])
    skipped = db.session.scalar(select(Message).where(Message.to_address == "left@example.com"))
    assert (skipped.status, skipped.error) == ("skipped", "left the topic: events")
    ended = db.session.get(Enrollment, skipped.enrollment_id)
    assert (ended.status, ended.exit_reason, ended.ended_at) == ("exited", "topic_left", NOW)
    assert Enrollment.query.filter_by(lead_id=kept.id).one().status == "active"  # the others go on


def test_leaving_a_topic_ends_its_sequences_and_the_admin_says_so(client, login_as):
    invites = make_sequence(slug="invites", name="直播邀请", topic="events")
    monthly = make_sequence(slug="monthly", name="每月精选", topic="newsletter")
    after_download = make_sequence(slug="after-download", name="下载之后")  # follow-up
    lead, other = make_lead("reader@example.com"), make_lead("other@example.com")
    for sequence in (invites, monthly, after_download):
        enrolment.enroll([lead.id, other.id], sequence.id, now=NOW)
    kept = [str(topic(slug).id) for slug in ("newsletter", "follow-up")]
    client.post(link(topic_mail(lead, "events")), data={"action": "save", "topic": kept})
    client.post(link(topic_mail(lead, "newsletter")), data={"List-Unsubscribe": "One-Click"})

    db.session.expire_all()
    ended = {e.sequence.slug: (e.status, e.exit_reason) for e in Enrollment.query.filter_by(lead_id=lead.id)}
    assert ended == {
        "invites": ("exited", "topic_left"),  # left on the preference page
        "monthly": ("exited", "topic_left"),  # left by one click on a newsletter
        "after-download": ("active", ""),  # a topic kept: the sequence asked for goes on
    }
    assert {e.status for e in Enrollment.query.filter_by(lead_id=other.id)} == {"active"}

    marketer = login_as("marketer")
    page = marketer.get(f"/admin/leads/{lead.id}").get_data(as_text=True)
    sequences_panel = page[
        page.index('id="sequences"') : page.index("</section>", page.index('id="sequences"'))
    ]
    assert sequences_panel.count("已退订该序列的订阅类别") == 2
    timeline = page[page.index('class="lead-timeline"') :]
    assert "退出序列" in timeline and "直播邀请（已退订该序列的订阅类别）" in timeline
    assert "每月精选（已退订该序列的订阅类别）" in timeline and "下载之后" not in timeline
    figures = marketer.get(f"/admin/nurture/{invites.id}").get_data(as_text=True)
    assert '<span class="value">1</span>已退出' in figures and '<span class="value">1</span>进行中' in figures
    assert "已退订该序列的订阅类别" in figures and "topic_left" not in figures


def test_saving_for_a_mail_without_a_lead_leaves_all_mail(client):
    message = mailqueue.add_mail(to="someone@example.com", template=TEST_MAIL, context={}, now=NOW)
    db.session.commit()
    response = client.post(link(message), data={"action": "save", "topic": str(topic("events").id)})
    assert response.status_code == 200 and "s***@example.com" in response.get_data(as_text=True)
    assert Suppression.query.one().reason == "unsubscribed" and TopicChoice.query.count() == 0


def test_support_prints_a_persons_preference_link_from_their_newest_mail(app, client):
    lead = make_lead("asks@example.com")
    topic_mail(make_lead("other@example.com"), "events")
    older, newest = topic_mail(lead, "events"), topic_mail(lead, "newsletter")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["nurture", "preference-link", "Asks@Example.com"])
    assert result.exit_code == 0, result.output
    url = result.output.strip()
    assert tokens.unsign("unsubscribe", url.rsplit("/", 1)[1]) == newest.id != older.id
    html = client.get(url[url.index("/u/") :]).get_data(as_text=True)
    assert "a***@example.com" in html and 'class="topic this-mail"' in html
    missing = runner.invoke(args=["nurture", "preference-link", "nobody@example.com"])
    assert missing.exit_code != 0 and "no mail to nobody@example.com" in missing.output
