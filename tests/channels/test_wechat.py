"""Inside WeChat: the thank-you page opens the PDF in the viewer (inline), says how to
open the page in the browser and offers the link by mail; share cards from Open Graph;
the adviser's contact QR on the thank-you page and at the assistant's hand-over."""

import re

from sqlalchemy import select

from channels import advisors, sharing
from channels.models import AdvisorCard
from core.extensions import db
from core.timeutil import utcnow
from gated.models import Lead
from nurture.models import Message
from nurture.sms.models import SmsMessage
from tests.channels.conftest import WECHAT, follow_and_submit, tiny_png
from tests.factories import PDF_BYTES, UserFactory, form_data


def thanks_in(client, headers=None):
    response = client.post(
        "/library/saas-renewal", data=form_data(email="wx@example.com"), headers=headers or {}
    )
    assert response.status_code == 303
    return client.get(response.headers["Location"], headers=headers or {})


def test_in_wechat_the_pdf_opens_inline_with_guidance_and_mail(whitepaper, client, smtp_sink):
    page = thanks_in(client, {"User-Agent": WECHAT})
    assert "wechat-guide" in page.text
    link = re.search(r'<a class="button primary" href="(/download/[^"]+)"([^>]*)>', page.text)
    assert link and "download" not in link.group(2)
    token = re.search(r'name="token" value="([^"]+)"', page.text).group(1)
    with client.get(link.group(1), headers={"User-Agent": WECHAT}) as pdf:
        assert pdf.data == PDF_BYTES and pdf.headers["Content-Disposition"].startswith("inline;")
    mails = db.session.scalar(select(db.func.count()).select_from(Message))
    assert client.post("/download/fresh", data={"token": token}).status_code == 200
    assert db.session.scalar(select(db.func.count()).select_from(Message)) == mails + 1


def test_in_wechat_a_lead_with_a_mobile_number_can_have_the_link_by_sms(whitepaper, client):
    page = thanks_in(client, {"User-Agent": WECHAT})
    form = re.search(
        r'<form method="post" action="/download/sms".*?name="token" value="([^"]+)"', page.text, re.S
    )
    assert form and "把链接发到我的手机" in page.text
    answer = client.post("/download/sms", data={"token": form.group(1)})
    assert answer.status_code == 200 and "请查看您的手机" in answer.text
    [text] = db.session.scalars(select(SmsMessage)).all()
    assert (text.to_number, text.template) == ("+8613800138000", "download_link")
    assert text.params["url"].startswith("http") and "/download/" in text.params["url"]


def test_without_a_mobile_number_there_is_no_sms_offer(whitepaper, client):
    response = client.post(
        "/library/saas-renewal",
        data=form_data(email="wx2@example.com", phone=""),
        headers={"User-Agent": WECHAT},
    )
    page = client.get(response.headers["Location"], headers={"User-Agent": WECHAT})
    assert "wechat-guide" in page.text and "/download/sms" not in page.text
    token = re.search(r'name="token" value="([^"]+)"', page.text).group(1)
    answer = client.post("/download/sms", data={"token": token})
    assert answer.status_code == 200 and db.session.scalars(select(SmsMessage)).all() == []


def test_elsewhere_the_pdf_is_a_download(whitepaper, client):
    page = thanks_in(client)
    assert "wechat-guide" not in page.text
    link = re.search(r'href="(/download/[^"]+)" download', page.text)
    with client.get(link.group(1)) as pdf:
        assert pdf.headers["Content-Disposition"].startswith("attachment;")


def test_public_pages_carry_share_cards(whitepaper, client):
    page = client.get("/library/saas-renewal").text
    assert '<meta property="og:title" content="如何提高 SaaS 续费率">' in page
    assert '<meta property="og:description" content="一句话摘要">' in page
    assert 'property="og:image" content="http://localhost/static/img/share-card.png' in page
    with client.get("/static/img/share-card.png") as image:
        assert image.data.startswith(b"\x89PNG")


def test_the_sharers_adviser_card_shows_on_the_thank_you_page(whitepaper, client):
    article, _asset = whitepaper
    owner = UserFactory(role="sales")
    advisors.save_card(tiny_png(200, 200), now=utcnow(), user_id=owner.id)
    link = sharing.share_link(article, now=utcnow(), user_id=owner.id)
    response, _tags = follow_and_submit(client, f"/s/{link.code}?qr=1", email="met@example.com")
    page = client.get(response.headers["Location"], headers={"User-Agent": WECHAT})
    card = db.session.scalar(select(AdvisorCard))
    assert f"/advisor/{card.id}" in page.text
    db.session.refresh(card)
    assert card.shown == 1
    # A lead from no link sees no card.
    plain = thanks_in(client.application.test_client())
    assert "/advisor/" not in plain.text


def test_a_campaign_card_wins_over_the_owners(whitepaper, client):
    owner = UserFactory(role="sales")
    advisors.save_card(tiny_png(200, 200), now=utcnow(), user_id=owner.id)
    campaign_card = advisors.save_card(tiny_png(300, 300), now=utcnow(), campaign="expo")
    from channels.links import save_link

    link = save_link(
        {"target": "/library/saas-renewal", "campaign": "expo", "owner_id": owner.id}, now=utcnow()
    )
    follow_and_submit(client, f"/s/{link.code}", email="expo@example.com")
    lead = db.session.scalar(select(Lead).where(Lead.email == "expo@example.com"))
    assert advisors.card_for(lead_id=lead.id).id == campaign_card.id
    assert advisors.card_for(owner_id=owner.id).user_id == owner.id
