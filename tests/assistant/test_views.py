"""The assistant's pages through the test client: the plain-form flow from question to
acknowledgement, the box and the panel on public pages, and hostile input."""

import re

import pytest
from sqlalchemy import func, select

from assistant import services, tiers
from assistant.models import Conversation, Ticket
from core.extensions import db
from core.timeutil import utcnow
from tests.assistant.conftest import QUESTION, ask, conversation_url


def test_the_english_site_offers_english_articles(client, help_center, english_help):
    url = conversation_url(ask(client, "SSO", headers={"Accept-Language": "en"}))
    html = client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'href="/help/sso-setup-en"' in html
    assert not [slug for slug in help_center if f'href="/help/{slug}"' in html]


def test_ask_then_not_yet_three_times_then_the_ticket_form(client, help_center, customers):
    url = conversation_url(ask(client))
    page = client.get(url)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "private, no-store"
    html = page.get_data(as_text=True)
    assert "如何配置单点登录" in html and 'href="/help/sso-setup"' in html
    assert "<mark>" in html
    for _round in range(3):
        response = client.post(f"{url}/answer", data={"answer": "not_yet"})
        assert response.status_code == 303
    html = client.get(url).get_data(as_text=True)
    assert 'id="contact"' in html
    assert QUESTION in re.search(r'<textarea id="contact-message"[^>]*>([^<]*)<', html).group(1)
    response = client.post(
        f"{url}/contact", data={"email": "li@yuanjing.cn", "name": "李", "message": QUESTION}
    )
    assert response.status_code == 303 and response.headers["Location"].endswith("#done")
    html = client.get(url).get_data(as_text=True)
    ticket = db.session.scalars(select(Ticket)).one()
    assert ticket.route == "ticket"
    assert f"工单编号是 {ticket.id}" in html or f"ticket number is {ticket.id}" in html


def test_a_person_is_one_click_away_from_the_first_round(client, help_center):
    url = conversation_url(ask(client))
    html = client.get(url).get_data(as_text=True)
    assert '<button type="submit" name="answer" value="person"' in html and "直接联系人工客服" in html
    response = client.post(f"{url}/answer", data={"answer": "person"})
    assert response.status_code == 303
    conversation = db.session.scalars(select(Conversation)).one()
    assert conversation.status == "escalating" and len(conversation.rounds) == 1
    assert conversation.rounds[0].answer == "not_yet"  # the figures count it as unhelpful
    html = client.get(url).get_data(as_text=True)
    assert 'id="contact"' in html and 'value="person"' not in html
    assert client.post(f"{url}/answer", data={"answer": "person"}).status_code == 422  # moved on


def test_solved_ends_with_a_thank_you(client, help_center):
    url = conversation_url(ask(client))
    client.post(f"{url}/answer", data={"answer": "solved"})
    assert db.session.scalars(select(Conversation)).one().status == "solved"
    again = client.post(f"{url}/answer", data={"answer": "not_yet"})
    assert again.status_code == 422  # moved on: a message, not a 500


def test_the_signed_link_identifies_the_customer(client, help_center, customers):
    token = tiers.account_link_token(customers["top"].id)
    response = client.get(f"/help/ask?account={token}")
    assert response.status_code == 303
    assert "lodestar_account=" in response.headers["Set-Cookie"]
    assert "星河软件" in client.get("/help/ask").get_data(as_text=True)
    url = conversation_url(ask(client))
    assert db.session.scalars(select(Conversation)).one().account_id == customers["top"].id
    for _round in range(3):
        client.post(f"{url}/answer", data={"answer": "not_yet"})
    assert "Owner Li" in client.get(url).get_data(as_text=True)


def test_a_forged_link_gets_a_clear_message(client, customers):
    token = tiers.account_link_token(customers["top"].id)
    response = client.get(f"/help/ask?account={token[:-3]}xyz")
    assert response.status_code == 400
    assert "lodestar_account" not in response.headers.get("Set-Cookie", "")
    html = response.get_data(as_text=True)
    assert "链接无效" in html or "not valid" in html
    forged_cookie = client.get("/help/ask", headers={"Cookie": "lodestar_account=forged"})
    assert forged_cookie.status_code == 200


@pytest.mark.parametrize("question", ["", "   ", "问" * 1001])
def test_an_empty_or_huge_question_is_a_clear_message(client, help_center, question):
    response = ask(client, question)
    assert response.status_code == 422
    assert 'class="error"' in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Conversation)) == 0


def test_markup_in_a_question_is_shown_as_text(client, help_center):
    hostile = "<script>alert(1)</script><img src=x onerror=alert(2)> 单点登录"
    url = conversation_url(ask(client, hostile))
    html = client.get(url).get_data(as_text=True)
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_stored_passage_lets_only_marks_through(app):
    from assistant.views import passage

    assert str(passage("a <mark>b</mark> &lt;i&gt; <script>x</script>")) == (
        "a <mark>b</mark> &lt;i&gt; &lt;script&gt;x&lt;/script&gt;"
    )


def test_a_forged_conversation_is_a_404(client, help_center):
    assert client.get("/help/ask/forged-token").status_code == 404
    assert client.post("/help/ask/forged-token/answer", data={"answer": "solved"}).status_code == 404


def test_bad_contact_form_shows_errors(client, help_center):
    url = conversation_url(ask(client, "zzqx qqvv"))  # nothing to offer: straight to a person
    response = client.post(f"{url}/contact", data={"email": "not-an-email", "message": ""})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="contact-email-error"' in html and 'id="contact-message-error"' in html


def test_a_flood_from_one_address_is_rate_limited(make_app, help_center):
    limited = make_app(RATELIMIT_ENABLED=True, ASSISTANT_RATE_LIMIT="2 per minute")
    client = limited.test_client()
    codes = [ask(client).status_code for _ in range(3)]
    assert codes == [303, 303, 429]
    assert ask(client, environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 303


def test_the_ask_forms_are_get_forms_and_a_get_question_starts_a_conversation(client, help_center):
    html = client.get("/").get_data(as_text=True)
    form = re.search(r'<form class="assistant-ask"[^>]*>.*?</form>', html, re.S).group(0)
    assert 'method="get"' in form and "csrf_token" not in form
    url = conversation_url(client.get("/help/ask", query_string={"question": QUESTION}))
    page = client.get(url).get_data(as_text=True)
    # The answer forms are POSTs, checked by Origin / Sec-Fetch-Site, not by a token.
    assert QUESTION in page and 'method="post"' in page and "csrf_token" not in page
    empty = client.get("/help/ask?question=")
    assert empty.status_code == 422 and 'aria-invalid="true"' in empty.get_data(as_text=True)


def test_a_question_linked_from_another_site_is_shown_not_asked(client, help_center):
    before = db.session.scalar(select(func.count()).select_from(Conversation))
    response = client.get(
        "/help/ask", query_string={"question": QUESTION}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert response.status_code == 200 and QUESTION in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Conversation)) == before
    ours = client.get(
        "/help/ask", query_string={"question": QUESTION}, headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert ours.status_code == 303


def test_a_conversation_answered_from_another_site_is_refused(make_app, help_center):
    protected = make_app(WTF_CSRF_ENABLED=True).test_client()
    url = conversation_url(ask(protected, headers={"Sec-Fetch-Site": "same-origin"}))
    assert ask(protected, headers={"Sec-Fetch-Site": "cross-site"}).status_code == 400
    forged = protected.post(
        f"{url}/answer", data={"answer": "solved"}, headers={"Origin": "https://evil.example"}
    )
    assert forged.status_code == 400
    assert db.session.scalar(select(Conversation.status)) != "solved"
    ours = protected.post(
        f"{url}/answer", data={"answer": "solved"}, headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert ours.status_code == 303
    db.session.expire_all()
    assert db.session.scalar(select(Conversation.status)) == "solved"


def test_crawlers_are_kept_out_of_the_ask_page(client):
    assert "Disallow: /help/ask" in client.get("/robots.txt").get_data(as_text=True)


def test_a_new_visitor_gets_no_session_cookie_for_the_panel(make_app, help_center):
    protected = make_app(WTF_CSRF_ENABLED=True)
    response = protected.test_client().get("/", headers={"User-Agent": ""})
    assert response.status_code == 200
    assert "session=" not in " ".join(response.headers.getlist("Set-Cookie"))


def test_questions_by_get_are_rate_limited_and_looking_is_not(make_app, help_center):
    limited = make_app(RATELIMIT_ENABLED=True, ASSISTANT_RATE_LIMIT="2 per minute")
    client = limited.test_client()
    codes = [client.get("/help/ask", query_string={"question": QUESTION}).status_code for _ in range(3)]
    assert codes == [303, 303, 429]
    assert client.get("/help/ask").status_code == 200


def test_the_panel_gets_the_fragment_only(client, help_center):
    for response in (
        ask(client, headers={"X-Assistant-Panel": "1"}, follow_redirects=True),
        client.get(
            "/help/ask",
            query_string={"question": QUESTION},
            headers={"X-Assistant-Panel": "1"},
            follow_redirects=True,
        ),
    ):
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "<html" not in html and "data-assistant-conversation" in html


def test_help_pages_carry_the_box_and_public_pages_the_panel(client, help_center, login_as):
    index = client.get("/help/").get_data(as_text=True)
    assert 'id="box-question"' in index and 'id="panel-question"' in index
    article = client.get("/help/sso-setup").get_data(as_text=True)
    assert 'id="box-question"' in article
    assert 'id="panel-question"' in client.get("/").get_data(as_text=True)
    admin = login_as("admin").get("/admin/assistant/").get_data(as_text=True)
    assert "assistant-panel" not in admin
    assert 'id="panel-question"' not in client.get("/help/ask").get_data(as_text=True)


def test_conversation_tokens_are_signed_ids(app, help_center):
    conversation = services.start(QUESTION, account=None, locale="zh_CN", now=utcnow())
    token = services.conversation_token(conversation.id)
    assert services.conversation_from_token(token).id == conversation.id
    assert services.conversation_from_token(str(conversation.id)) is None


def test_a_body_beyond_the_form_cap_is_a_413_page(client, help_center):
    response = ask(client, "单" * 100_000)
    assert response.status_code == 413
    assert db.session.scalar(select(func.count()).select_from(Conversation)) == 0


@pytest.mark.parametrize("mode", ["auto", "always", "off"])
def test_the_hand_over_stores_the_lead_under_every_challenge_setting(
    app, client, help_center, monkeypatch, mode
):
    """The hand-over form sits behind three rounds of a conversation: it asks for no
    proof-of-work, and a fast, autofilled hand-over is stored under every setting."""
    monkeypatch.setitem(app.config, "FORM_CHALLENGE", mode)
    url = conversation_url(ask(client))
    for _round in range(3):
        client.post(f"{url}/answer", data={"answer": "not_yet"})
    response = client.post(
        f"{url}/contact", data={"email": "zhao@example.com", "message": QUESTION, "consent": "y"}
    )
    assert response.status_code == 303 and response.headers["Location"].endswith("#done")
    ticket = db.session.scalars(select(Ticket)).one()
    assert ticket.route == "lead" and ticket.lead_id is not None
