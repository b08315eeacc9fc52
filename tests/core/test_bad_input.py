"""Input no view can use is refused before any view runs, with a clear answer and
nothing stored: a NUL character anywhere a person or a script types, a JSON body sent to
a form, a redirect target with a line break; and what marketers type into a step cannot
crash the preview or fill the worker's memory."""

import pytest
from sqlalchemy import func, select

from accounts.models import User
from content.models import Article
from core.extensions import db
from gated.models import Lead
from nurture.models import Suppression
from tests.content.helpers import ARTICLE_FORM as FORM
from tests.factories import TEST_PASSWORD, UserFactory, form_data, make_whitepaper

pytestmark = pytest.mark.usefixtures("app")
# The answer names the character, in the visitor's language.
NUL_ANSWER = "提交的内容中不能包含 NUL 字符"


def leads() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Lead))


@pytest.mark.parametrize("field", ["name", "company", "utm_source", "email"])
def test_a_nul_in_a_lead_form_field_is_refused_and_stores_nothing(client, field):
    make_whitepaper()
    response = client.post("/library/saas-renewal", data=form_data(**{field: "a\x00b"}))
    assert response.status_code == 400
    assert NUL_ANSWER in response.get_data(as_text=True)
    assert leads() == 0
    # The same form without it goes through.
    assert client.post("/library/saas-renewal", data=form_data()).status_code == 303
    assert leads() == 1


def test_a_nul_in_a_header_or_the_query_string_is_refused(client, login_as):
    make_whitepaper()
    response = client.post("/library/saas-renewal", data=form_data(), headers={"User-Agent": "bot\x00"})
    assert response.status_code == 400 and leads() == 0
    admin = login_as("admin")
    for url in ("/admin/leads/?q=%00", "/admin/leads/export.csv?channel=%00", "/search?q=a%00b"):
        assert admin.get(url).status_code == 400, url


def test_a_nul_in_the_login_email_is_a_bad_request_not_an_error(client):
    response = client.post("/login", data={"email": "a\x00b@example.com", "password": "x"})
    assert response.status_code == 400


def test_a_json_body_sent_to_a_form_is_refused(client):
    UserFactory(email="ed@example.com", role="editor")
    for body in ("s", [1, 2], {"email": 5, "password": ["x"]}):
        response = client.post("/login", json=body)
        assert response.status_code == 415
        assert "不是表单" in response.get_data(as_text=True)  # "Not a form", in the site's language
    # The JSON endpoints still take JSON (the search click answers about its token).
    assert client.post("/api/search/click", json={"token": "forged"}).status_code == 400


def test_a_redirect_target_with_a_line_break_goes_to_the_fallback(client):
    UserFactory(email="ed@example.com", role="editor")
    response = client.post(
        "/login",
        data={
            "email": "ed@example.com",
            "password": TEST_PASSWORD,
            "next": "/admin/\r\nLocation: https://evil.example",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


@pytest.mark.parametrize(
    "event",
    [
        {"type": ["bounce"], "email": "a@example.com"},
        {"type": "bounce", "email": 5},
        {"type": "bounce", "email": "a\x00b@example.com"},
        {"type": "bounce", "email": "a@example.com", "detail": "x\x00"},
    ],
)
def test_mail_events_with_odd_values_are_refused_and_store_nothing(app, client, monkeypatch, event):
    monkeypatch.setitem(app.config, "MAIL_EVENTS_TOKEN", "events-token")
    response = client.post(
        "/api/mail/events", json={"events": [event]}, headers={"Authorization": "Bearer events-token"}
    )
    assert response.status_code == 400
    assert "error" in response.get_json()
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Suppression)) == 0


@pytest.mark.parametrize(
    "subject",
    [
        "{% for x in range(10**9) %}x{% endfor %}",
        "{{ 'a' * 10**8 }}",
        "{{ ['a'] * 100000000 }}",
        "{{ 10 ** 100000 }}",
        "{{ 1 / 0 }}",
        "{{ 'a' + 1 }}",
    ],
)
def test_a_step_that_would_crash_or_fill_memory_is_a_preview_error(login_as, subject):
    marketer = login_as("marketer")
    response = marketer.post(
        "/admin/nurture/preview",
        data={"steps-0-subject": subject, "steps-0-body": "正文", "locale": "zh-CN", "step": "0"},
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<li>主题：" in page and "正文" not in page  # the problem, not a rendered mail


def test_an_editor_date_near_year_one_is_a_field_error(login_as):
    editor = login_as("editor")
    form = {**FORM, "action": "save", "published_at": "0001-01-01T00:00"}
    response = editor.post("/admin/content/new", data=form)
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Article)) == 0
    assert editor.post("/admin/content/new", data={**form, "published_at": ""}).status_code == 303


def test_a_page_number_too_big_for_the_database_is_the_last_page(login_as):
    admin = login_as("admin")
    assert admin.get("/admin/assistant/?page=99999999999999999999").status_code == 200


TOKEN_ROUTES = [
    ("GET", "/download/{}", "download"),
    ("GET", "/confirm/{}", "confirm"),
    ("POST", "/confirm/{}", "confirm"),
    ("GET", "/u/{}", "unsubscribe"),
    ("GET", "/t/o/{}", "open"),
    ("GET", "/t/c/{}", "click"),
    ("GET", "/help/ask/{}", "assistant-conversation"),
    ("GET", "/library/saas-renewal/thanks?t={}", "thanks"),
    ("GET", "/help/ask?account={}", "assistant-account"),
]
ODD_PAYLOADS = [
    2**70,
    True,
    {"l": 2**70, "a": 2**70, "s": 2**70},
    {"l": True, "a": True, "s": True},
    [2**70, "https://x"],
]


@pytest.mark.parametrize(("method", "pattern", "purpose"), TOKEN_ROUTES)
def test_a_signed_token_with_an_id_no_row_can_have_is_not_found_not_an_error(
    client, method, pattern, purpose
):
    """Ids in our tokens are checked like ids in URLs: a token of another version of the
    site (or made with the key) naming 2**70 or True finds nothing, with no query error."""
    from core.tokens import sign

    make_whitepaper()
    for payload in ODD_PAYLOADS:
        response = client.open(pattern.format(sign(purpose, payload)), method=method)
        assert response.status_code < 500, (pattern, payload, response.status_code)


def test_a_signed_cookie_or_search_click_with_an_odd_id_is_ignored(client):
    from core.tokens import sign
    from gated.visitor import COOKIE, COOKIE_PURPOSE

    make_whitepaper()
    for payload in ODD_PAYLOADS:
        client.set_cookie(COOKIE, sign(COOKIE_PURPOSE, payload))
        assert client.get("/library/saas-renewal").status_code == 200
        click = sign("search-click", {"a": 2**70, "r": 1, "q": 2**70})
        assert client.post("/api/search/click", json={"token": click}).status_code == 400
