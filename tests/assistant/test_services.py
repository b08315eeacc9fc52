"""The assistant's services on a real database and the real search index: rounds,
"solved", no article twice, escalation by tier (owner mail through a real worker tick
to the SMTP sink, ticket and acknowledgement, anonymous lead), matching, retention."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from assistant import services, tiers
from assistant.models import Conversation, Round, Ticket
from core.extensions import db
from core.timeutil import utcnow
from core.tokens import InvalidToken, sign
from gated.capture import RequestMeta
from gated.models import Consent, Lead, Submission
from nurture import worker
from nurture.models import Message
from tests.assistant.conftest import fresh, walk
from tests.conftest import assert_staff_mail

QUESTION = "单点登录怎么配置?"
VISITOR = RequestMeta(ip="203.0.113.9", user_agent="pytest")


def offered_ids(conversation):
    return [item["id"] for round_ in conversation.rounds for item in round_.offered]


def test_first_round_offers_the_three_best_help_articles(help_center):
    conversation = services.start(QUESTION, account=None, locale="zh_CN", now=utcnow())
    first = conversation.rounds[0]
    assert len(first.offered) == 3
    assert first.offered[0]["title"] == "如何配置单点登录"
    assert first.offered[0]["url"] == "/help/sso-setup"
    assert "<mark>" in first.offered[0]["passage"]  # the passage that matches
    assert help_center["invoice"].id not in offered_ids(conversation)
    assert conversation.status == "open"


def test_a_chinese_question_is_offered_chinese_articles_only(help_center, english_help):
    english = {article.id for article in english_help.values()}
    for visitor in ("zh_CN", "zh_Hans_CN", "en"):
        conversation = services.start("如何配置单点登录", account=None, locale=visitor, now=utcnow())
        assert conversation.rounds[0].offered
        assert not english & set(offered_ids(conversation)), visitor


def test_a_latin_letter_question_is_answered_in_the_visitors_language(help_center, english_help):
    english = {article.id for article in english_help.values()}
    in_english = services.start("single sign-on SSO", account=None, locale="en", now=utcnow())
    assert set(offered_ids(in_english)) <= english and offered_ids(in_english)
    in_chinese = services.start("SSO", account=None, locale="zh_CN", now=utcnow())
    assert not english & set(offered_ids(in_chinese))


def test_three_unhelpful_rounds_never_repeat_an_article_then_escalate(help_center):
    conversation = services.start(QUESTION, account=None, locale="zh_CN", now=utcnow())
    walk(conversation, ["not_yet", "not_yet"])
    conversation = fresh(conversation.id)
    assert [len(r.offered) for r in conversation.rounds] == [3, 3, 3]
    ids = offered_ids(conversation)
    assert len(ids) == len(set(ids)) == 9
    assert conversation.status == "open"
    walk(conversation, ["not_yet"])
    conversation = fresh(conversation.id)
    assert conversation.status == "escalating"
    assert len(conversation.rounds) == 3
    assert [r.answer for r in conversation.rounds] == ["not_yet"] * 3


@pytest.mark.parametrize("at_round", [1, 2, 3])
def test_solved_at_each_round_ends_the_conversation(help_center, at_round):
    conversation = services.start(QUESTION, account=None, locale="zh_CN", now=utcnow())
    walk(conversation, ["not_yet"] * (at_round - 1) + ["solved"])
    conversation = fresh(conversation.id)
    assert conversation.status == "solved"
    assert conversation.ended_at is not None
    assert len(conversation.rounds) == at_round
    assert conversation.rounds[-1].answer == "solved"
    with pytest.raises(services.AssistantError):
        services.answer(conversation, "not_yet", now=utcnow())


def test_a_rephrased_question_is_searched_and_still_excludes_what_was_shown(help_center):
    conversation = services.start(QUESTION, account=None, locale="zh_CN", now=utcnow())
    services.answer(conversation, "not_yet", rephrased="怎么下载发票", now=utcnow())
    conversation = fresh(conversation.id)
    second = conversation.rounds[1]
    assert second.question == "怎么下载发票"
    assert second.offered[0]["title"] == "如何下载发票"
    assert not set(item["id"] for item in second.offered) & set(
        i["id"] for i in conversation.rounds[0].offered
    )


def test_a_question_with_no_answer_goes_to_a_person_at_once(help_center):
    conversation = services.start("zzqx qqvv", account=None, locale="zh_CN", now=utcnow())
    assert conversation.rounds[0].offered == []
    assert conversation.status == "escalating"


@pytest.mark.parametrize("text", ["", "   ", "\x00\u200b"])
def test_an_empty_question_is_refused(help_center, text):
    with pytest.raises(services.AssistantError) as caught:
        services.start(text, account=None, locale="zh_CN", now=utcnow())
    assert "question" in caught.value.errors
    assert db.session.scalar(select(func.count()).select_from(Conversation)) == 0


def test_a_huge_question_is_refused(app, help_center):
    with pytest.raises(services.AssistantError):
        services.start(
            "单" * (app.config["ASSISTANT_MAX_QUESTION"] + 1), account=None, locale="zh_CN", now=utcnow()
        )


def escalating(account=None):
    """A conversation that reached escalation: three unhelpful rounds, or fewer when the
    help center has nothing more to offer."""
    conversation = services.start(QUESTION, account=account, locale="zh_CN", now=utcnow())
    for _ in range(3):
        if conversation.status == "escalating":
            break
        services.answer(conversation, "not_yet", now=utcnow())
    assert conversation.status == "escalating"
    return conversation


def deliver_all(smtp_sink, count):
    counts = worker.tick(utcnow() + timedelta(seconds=1))
    assert counts["sent"] == count, counts
    return smtp_sink.wait_for(count)


def test_top_tier_by_link_mails_the_owner_the_whole_conversation(help_center, customers, smtp_sink):
    account = tiers.account_from_token(tiers.account_link_token(customers["top"].id))
    conversation = escalating(account)
    ticket = services.escalate(
        conversation,
        {"email": "wang@xinghe.cn", "name": "王芳", "message": "单点登录一直报错"},
        visitor=VISITOR,
        now=utcnow(),
    )
    assert ticket.route == "owner"
    assert ticket.owner_id == customers["owner"].id
    assert fresh(conversation.id).status == "escalated"
    messages = deliver_all(smtp_sink, 2)
    by_to = {str(message["To"]): message for message in messages}
    owner_mail = by_to["owner@lodestar.example"]
    text = owner_mail.get_body(("plain",)).get_content()
    assert "wang@xinghe.cn" in text and "星河软件" in text
    assert text.count(QUESTION) >= 3  # every round
    for item in (i for r in fresh(conversation.id).rounds for i in r.offered):
        assert item["title"] in text  # every article already offered
    assert "单点登录一直报错" in text
    assert_staff_mail(owner_mail, "帮助助手把这位客户的问题转给了您")
    ack = by_to["wang@xinghe.cn"].get_body(("plain",)).get_content()
    assert "Owner Li" in ack


def test_top_tier_without_an_owner_goes_to_the_human_queue(app, help_center, customers, smtp_sink):
    conversation = escalating(customers["queue"])
    ticket = services.escalate(
        conversation, {"email": "a@yunfan.cn", "message": "help"}, visitor=VISITOR, now=utcnow()
    )
    assert ticket.route == "owner" and ticket.owner_id is None
    recipients = {str(m["To"]) for m in deliver_all(smtp_sink, 2)}
    assert recipients == {app.config["ASSISTANT_HUMAN_QUEUE"], "a@yunfan.cn"}


def test_lower_tier_by_domain_gets_a_ticket_and_an_acknowledgement(help_center, customers, smtp_sink):
    conversation = escalating()
    ticket = services.escalate(
        conversation,
        {"email": "Zhao@YuanJing.cn", "name": "赵", "message": services.default_message(conversation)},
        visitor=VISITOR,
        now=utcnow(),
    )
    assert (ticket.route, ticket.status, ticket.account_id) == ("ticket", "open", customers["low"].id)
    assert ticket.subject == QUESTION
    assert QUESTION in ticket.body
    assert fresh(conversation.id).tier_id == customers["low"].tier_id
    [ack] = deliver_all(smtp_sink, 1)
    assert str(ack["To"]).lower() == "zhao@yuanjing.cn"
    assert f"{ticket.id}" in str(ack["Subject"])
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 0  # a customer is no lead


def test_an_anonymous_visitor_becomes_a_lead_under_the_consent_rules(
    app, help_center, customers, smtp_sink, monkeypatch
):
    monkeypatch.setitem(app.config, "CONSENT_REQUIRED", True)
    conversation = escalating()
    data = {"email": "someone@gmail.com", "name": "路人", "message": "help"}
    with pytest.raises(services.AssistantError) as caught:
        services.escalate(conversation, data, visitor=VISITOR, now=utcnow())
    assert "consent" in caught.value.errors
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 0
    ticket = services.escalate(
        fresh(conversation.id), {**data, "consent": "y"}, visitor=VISITOR, now=utcnow()
    )
    lead = db.session.get(Lead, ticket.lead_id)
    assert (ticket.route, lead.email, lead.marketing_consent) == ("lead", "someone@gmail.com", True)
    consent = db.session.scalars(select(Consent).where(Consent.lead_id == lead.id)).one()
    assert consent.granted and consent.ip == "203.0.113.9"
    [ack] = deliver_all(smtp_sink, 1)
    assert str(ack["To"]) == "someone@gmail.com"
    assert db.session.scalars(select(Message)).one().lead_id == lead.id


def test_the_same_anonymous_email_matches_the_existing_lead(help_center, levels):
    first = services.escalate(
        escalating(), {"email": "x@gmail.com", "message": "a"}, visitor=VISITOR, now=utcnow()
    )
    second = services.escalate(
        escalating(), {"email": "x@GMAIL.com", "message": "b"}, visitor=VISITOR, now=utcnow()
    )
    assert first.lead_id == second.lead_id
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 1


def test_a_hand_over_with_someone_elses_address_adds_only_what_is_missing(help_center, levels):
    """Like every public form: the lead's name stays, the typed one waits on the submission."""
    first = services.escalate(
        escalating(), {"email": "x@gmail.com", "name": "李雷", "message": "a"}, visitor=VISITOR, now=utcnow()
    )
    services.escalate(
        escalating(),
        {"email": "x@gmail.com", "name": "Hacked Name", "message": "b"},
        visitor=VISITOR,
        now=utcnow(),
    )
    assert db.session.get(Lead, first.lead_id).name == "李雷"
    held = db.session.scalars(select(Submission).order_by(Submission.id.desc())).first()
    assert (held.fields["name"], held.proposed_fields) == ("Hacked Name", ["name"])


def test_escalation_needs_an_email_and_a_message(help_center):
    conversation = escalating()
    with pytest.raises(services.AssistantError) as caught:
        services.escalate(conversation, {"email": "nope", "message": ""}, visitor=VISITOR, now=utcnow())
    assert set(caught.value.errors) == {"email", "message"}
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 0


def test_escalation_before_the_last_round_is_refused(help_center):
    conversation = services.start(QUESTION, account=None, locale="zh_CN", now=utcnow())
    with pytest.raises(services.AssistantError):
        services.escalate(conversation, {"email": "a@b.cn", "message": "x"}, visitor=VISITOR, now=utcnow())


def test_matching_by_contact_domain_and_never_a_free_mail_domain(customers):
    assert tiers.match_account("boss@gmail.com").id == customers["top"].id  # a listed contact
    assert tiers.match_account("anyone@XINGHE.cn").id == customers["top"].id
    assert tiers.match_account("a@yuanjing.cn").id == customers["low"].id
    assert tiers.match_account("other@gmail.com") is None
    assert tiers.match_account("a@qq.com") is None
    assert tiers.match_account("a@sub.yuanjing.cn") is None
    assert tiers.match_account("not an email") is None


def test_a_free_mail_domain_cannot_be_an_account_domain(levels):
    with pytest.raises(tiers.AccountError) as caught:
        tiers.save_account(
            None, {"company": "X", "domains": "163.com", "tier_id": levels[1].id}, now=utcnow()
        )
    assert "domains" in caught.value.errors


def test_a_forged_or_foreign_link_is_refused(customers):
    token = tiers.account_link_token(customers["low"].id)
    assert tiers.account_from_token(token).id == customers["low"].id
    with pytest.raises(InvalidToken):
        # Not the last character: its low bits are base64 padding, so changing it can
        # decode to the same signature.
        tiers.account_from_token(token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:])
    with pytest.raises(InvalidToken):
        tiers.account_from_token(sign("download", {"a": customers["top"].id}))  # another purpose
    with pytest.raises(InvalidToken):
        tiers.account_from_token(sign("assistant-account", {"a": 999}))  # no such account


def test_tiers_are_renamed_and_rerouted(levels):
    tiers.save_tiers({levels[3].id: ("金牌", "owner")})
    assert fresh_tier(levels[3].id) == ("金牌", "owner")
    with pytest.raises(tiers.AccountError):
        tiers.save_tiers({levels[3].id: ("", "nowhere")})
    assert fresh_tier(levels[3].id) == ("金牌", "owner")


def fresh_tier(tier_id):
    from assistant.models import Tier

    db.session.expire_all()
    tier = db.session.get(Tier, tier_id)
    return tier.name, tier.route


def test_purge_deletes_old_conversations_but_keeps_open_tickets(app, help_center, customers):
    now = utcnow()
    old = now - timedelta(days=app.config["ASSISTANT_RETENTION_DAYS"] + 1)
    # Conversations are held today (the help articles are published today) and then left
    # untouched past the retention period.
    solved = walk(services.start(QUESTION, account=None, locale="zh_CN", now=now), ["solved"], now=now)
    kept = escalating(customers["low"])
    services.escalate(kept, {"email": "a@yuanjing.cn", "message": "x"}, visitor=VISITOR, now=now)
    for conversation in (solved, kept):
        conversation.updated_at = old
    db.session.commit()
    recent = services.start(QUESTION, account=None, locale="zh_CN", now=now)
    ids = {"solved": solved.id, "kept": kept.id, "recent": recent.id}
    assert services.purge(now=now) == 1
    assert set(db.session.scalars(select(Conversation.id))) == {ids["kept"], ids["recent"]}
    gone = select(func.count()).select_from(Round).where(Round.conversation_id == ids["solved"])
    assert db.session.scalar(gone) == 0


def test_a_question_in_other_words_finds_its_article_in_the_first_round(
    app, help_center, meaning, monkeypatch
):
    """The assistant searches like the site: by meaning too. The question shares no word
    with the invoice article; words alone offer nothing."""
    meaning()
    question = "报销用的票据去哪里拿"
    offered = [item["id"] for item in services.find_answers(question, exclude=[], now=utcnow())]
    assert offered[:1] == [help_center["invoice"].id]
    monkeypatch.setitem(app.config, "SEARCH_DENSE", False)
    assert services.find_answers(question, exclude=[], now=utcnow()) == []


def test_acknowledgements_are_capped_per_address_and_the_owner_mails_are_not(help_center, customers):
    """Seven escalations with one customer's address: the visitor's acknowledgements stop
    at MAIL_PER_RECIPIENT_PER_HOUR (5); the account owner, staff, gets all seven."""
    for _ in range(7):
        conversation = services.start(QUESTION, account=None, locale="zh_CN", now=utcnow())
        walk(conversation, ["not_yet"] * 3)
        services.escalate(
            conversation, {"email": "ceo@xinghe.cn", "message": "急"}, visitor=VISITOR, now=utcnow()
        )

    def mails(address, status):
        query = select(func.count()).select_from(Message)
        return db.session.scalar(query.where(Message.to_address == address, Message.status == status))

    assert (mails("ceo@xinghe.cn", "queued"), mails("ceo@xinghe.cn", "skipped")) == (5, 2)
    assert mails("owner@lodestar.example", "queued") == 7
