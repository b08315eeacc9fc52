"""The assistant's hand-over to an account owner shows the owner's 企业微信 card."""

from assistant import services, tiers
from channels import advisors
from core.extensions import db
from core.timeutil import utcnow
from gated.capture import RequestMeta
from tests.channels.conftest import WECHAT, tiny_png


def escalated(account, contact: dict):
    conversation = services.start("如何配置单点登录？", account=account, locale="zh_CN", now=utcnow())
    for _ in range(3):
        if conversation.status == "escalating":
            break
        services.answer(conversation, "not_yet", now=utcnow())
    services.escalate(
        conversation,
        {**contact, "message": "单点登录一直报错"},
        visitor=RequestMeta(ip="203.0.113.9", user_agent="pytest"),
        now=utcnow(),
    )
    return conversation


def escalated_to_owner(account):
    return escalated(account, {"email": "wang@xinghe.cn", "name": "王芳"})


def test_the_handover_shows_the_owners_card(help_center, customers, client, smtp_sink):
    account = tiers.account_from_token(tiers.account_link_token(customers["top"].id))
    conversation = escalated_to_owner(account)
    url = f"/help/ask/{services.conversation_token(conversation.id)}"
    assert "/advisor/" not in client.get(url).text
    card = advisors.save_card(tiny_png(200, 200), now=utcnow(), user_id=customers["owner"].id)
    page = client.get(url, headers={"User-Agent": WECHAT})
    assert page.status_code == 200
    assert f"/advisor/{card.id}" in page.text and "扫码添加您的专属顾问" in page.text
    db.session.refresh(card)
    assert card.shown == 1


def test_a_visitor_who_came_through_a_colleagues_link_sees_that_colleagues_card(help_center, client):
    """A prospect who came through a sales colleague's share link and hands over with a
    mobile number gets that colleague's 企业微信 card on the hand-over."""
    from sqlalchemy import select

    from assistant.models import Ticket
    from channels import sharing
    from gated.capture import capture_lead
    from tests.factories import UserFactory, form_data

    colleague = UserFactory(role="sales", name="陈晓")
    link = sharing.share_link(help_center["sso-setup"], now=utcnow(), user_id=colleague.id)
    data = form_data(email=None, phone="13900139000", utm_source="staff", utm_campaign="share")
    data["utm_content"] = f"s-{link.code}"
    capture_lead("whitepaper", data, request_meta=RequestMeta(ip="203.0.113.9"), now=utcnow())
    card = advisors.save_card(tiny_png(200, 200), now=utcnow(), user_id=colleague.id)

    conversation = escalated(None, {"phone": "139 0013 9000", "consent": "y"})
    assert db.session.scalars(select(Ticket)).one().owner_id is None
    page = client.get(f"/help/ask/{services.conversation_token(conversation.id)}").text
    assert f"/advisor/{card.id}" in page and "扫码添加您的专属顾问" in page
