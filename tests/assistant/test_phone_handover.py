"""The hand-over to a person by mobile number (assistant.contact): a Chinese visitor
leaves a number instead of an email; it is validated and normalised as on the lead forms,
the ticket is keyed by the lead known by that number, the acknowledgement goes by SMS
through nurture's queue, and staff see the number formatted. With SMS codes on for the
assistant, the number is proven first."""

import altcha
import pytest
from sqlalchemy import func, select

from assistant.models import Ticket
from core.extensions import db
from core.timeutil import utcnow
from gated.capture import RequestMeta, capture_lead
from gated.models import Lead, PhoneCode
from nurture.models import Message
from nurture.sms.models import SmsMessage
from nurture.sms.queue import deliver_due
from tests.assistant.conftest import QUESTION, ask, conversation_url
from tests.factories import form_data

NUMBER = "+8613900139000"


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def escalating(client) -> str:
    url = conversation_url(ask(client))
    for _round in range(3):
        client.post(f"{url}/answer", data={"answer": "not_yet"})
    return url


def test_a_visitor_leaves_a_mobile_number_and_gets_a_text(app, client, help_center, login_as):
    assert app.config["FORM_IDENTITY"] == "email_or_phone"  # the Chinese site's default
    url = escalating(client)
    form = client.get(url).text
    assert 'name="phone"' in form and 'type="tel"' in form and 'name="email"' in form
    assert "填写其一即可" in form

    response = client.post(
        f"{url}/contact", data={"phone": "139 0013 9000", "name": "赵敏", "message": QUESTION, "consent": "y"}
    )
    assert response.status_code == 303
    ticket = db.session.scalars(select(Ticket)).one()
    lead = db.session.get(Lead, ticket.lead_id)
    assert (ticket.route, ticket.email, ticket.phone) == ("lead", "", NUMBER)
    assert (lead.phone, lead.email) == (NUMBER, "")
    # The acknowledgement is a text (the ticket number), not a mail.
    text = db.session.scalars(select(SmsMessage)).one()
    assert (text.to_number, text.template, text.params, text.lead_id) == (
        NUMBER,
        "ticket_received",
        {"number": str(ticket.id)},
        lead.id,
    )
    assert count(Message, Message.template == "assistant/email/received") == 0
    done = client.get(url).text
    assert "+86 139 0013 9000" in done and "短信" in done

    assert deliver_due(utcnow())["sms_sent"] == 1  # the sink provider: the outbox shows it

    sales = login_as("sales")
    listing = sales.get("/admin/assistant/?status=all").text
    assert "+86 139 0013 9000" in listing
    page = sales.get(f"/admin/assistant/tickets/{ticket.id}").text
    assert 'href="tel:+8613900139000"' in page and "+86 139 0013 9000" in page
    assert "&lt;&gt;" not in page  # no empty email in brackets


def test_the_ticket_is_keyed_by_the_lead_already_known_by_that_number(client, help_center):
    known = capture_lead(
        "whitepaper",
        form_data(email=None, phone="13900139000", name="赵敏"),
        request_meta=RequestMeta(ip="203.0.113.1"),
        now=utcnow(),
    ).lead
    url = escalating(client)
    client.post(f"{url}/contact", data={"phone": "+86 139-0013-9000", "message": QUESTION, "consent": "y"})
    ticket = db.session.scalars(select(Ticket)).one()
    assert ticket.lead_id == known.id and count(Lead) == 1


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"phone": "12345"}, "phone", "有效的手机号"),
        ({"phone": "010 6552 9988"}, "phone", "不是手机号"),
        ({}, "email", "邮箱地址或手机号码"),
    ],
)
def test_a_bad_number_is_refused_beside_the_field(client, help_center, fields, field, message):
    url = escalating(client)
    response = client.post(f"{url}/contact", data={**fields, "message": QUESTION, "consent": "y"})
    assert response.status_code == 422
    html = response.text
    error = html.split(f'id="contact-{field}-error">')[1].split("</p>")[0]
    assert message in error
    assert QUESTION in html  # nothing typed is lost
    assert count(Ticket) == count(Lead) == count(SmsMessage) == 0


def test_numbers_of_other_countries_are_refused_where_only_china_is_allowed(
    app, client, help_center, monkeypatch
):
    monkeypatch.setitem(app.config, "PHONE_ALLOWED_REGIONS", ["CN"])
    url = escalating(client)
    response = client.post(
        f"{url}/contact", data={"phone": "+1 650 253 0000", "message": QUESTION, "consent": "y"}
    )
    assert response.status_code == 422 and "+86" in response.text
    assert count(Ticket) == 0


@pytest.fixture
def codes_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_CODE_OVERRIDES", {"assistant": "on"})
    monkeypatch.setitem(app.config, "SMS_PROVIDER", "sink")
    monkeypatch.setitem(app.config, "FORM_CHALLENGE_COST", 1)  # solved in Python below


def solve(client) -> str:
    """What the browser's widget sends before asking for a code: a solved challenge."""
    challenge = altcha.Challenge.from_dict(client.get("/forms/challenge").get_json())
    return altcha.Payload(challenge, altcha.solve_challenge(challenge)).to_base64()


def test_with_codes_on_the_number_is_proven_first(client, help_center, codes_on):
    url = escalating(client)
    form = client.get(url).text
    assert 'name="sms_code"' in form and "js/sms-code.js" in form and "altcha-widget" in form
    data = {"phone": "139 0013 9000", "message": QUESTION, "consent": "y"}

    missing = client.post(f"{url}/contact", data=data)
    assert missing.status_code == 422 and 'id="sms_code-error"' in missing.text
    assert (
        client.post("/forms/sms-code", data={"phone": "139 0013 9000", "altcha": solve(client)}).status_code
        == 200
    )
    code = (
        db.session.scalars(select(SmsMessage).where(SmsMessage.template == "verify_code"))
        .one()
        .params["code"]
    )
    wrong = client.post(
        f"{url}/contact", data={**data, "sms_code": "000000" if code != "000000" else "111111"}
    )
    assert wrong.status_code == 422 and count(Ticket) == 0

    assert client.post(f"{url}/contact", data={**data, "sms_code": code}).status_code == 303
    ticket = db.session.scalars(select(Ticket)).one()
    assert ticket.phone == NUMBER
    assert db.session.scalars(select(PhoneCode)).one().used_at is not None  # spent, once


def test_an_account_visitor_with_a_number_only_is_called_back(client, help_center, customers, smtp_server):
    from assistant import tiers

    client.get(f"/help/ask?account={tiers.account_link_token(customers['top'].id)}")
    url = escalating(client)
    assert (
        client.post(f"{url}/contact", data={"phone": "13900139000", "message": QUESTION}).status_code == 303
    )
    ticket = db.session.scalars(select(Ticket)).one()
    assert (ticket.route, ticket.lead_id, ticket.phone) == ("owner", None, NUMBER)
    staff_mail = db.session.scalars(
        select(Message).where(Message.template == "assistant/email/escalation")
    ).one()
    assert staff_mail.to_address == "owner@lodestar.example"
    assert count(SmsMessage, SmsMessage.template == "ticket_received") == 1
