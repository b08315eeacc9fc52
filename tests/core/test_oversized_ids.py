"""A number too large for the database's ids, in a URL or an admin filter, is "no such
page" or "no filter" — never an "integer out of range" 500 (PostgreSQL) or an
OverflowError (SQLite)."""

import re

import pytest
from werkzeug.routing import IntegerConverter

from assistant.models import ROUTES, Ticket
from core.extensions import db
from core.ids import MAX_ID
from nurture import sequences, validation
from nurture.models import Enrollment
from tests.conftest import rule_url
from tests.nurture.conftest import MONDAY_10_SHANGHAI, make_lead, make_sequence, sequence_data

pytestmark = pytest.mark.usefixtures("app")

TOO_BIG = (10**20, MAX_ID + 1)


def id_rules(app):
    """Every URL rule with an integer part, and the names of those parts."""
    for rule in app.url_map.iter_rules():
        converters = rule._converters
        numbers = [name for name, converter in converters.items() if isinstance(converter, IntegerConverter)]
        if numbers:
            yield rule, numbers


def requests_for(app, number):
    for rule, numbers in id_rules(app):
        for method in sorted({"GET", "POST"} & rule.methods):
            yield rule, method, rule_url(rule, number, numbers)


def failures(client, requests, expected=None):
    """(method, url, what went wrong) for each request that crashed or answered otherwise."""
    wrong = []
    for _rule, method, url in requests:
        try:
            status = client.open(url, method=method).status_code
        except Exception as exc:  # noqa: BLE001 -- the test client re-raises what would be a 500
            wrong.append((method, url, repr(exc)[:200]))
            continue
        if status >= 500 or (expected is not None and status != expected):
            wrong.append((method, url, status))
    return wrong


def test_every_integer_url_part_is_bounded_by_the_id_range(app):
    rules = list(id_rules(app))
    # The admin's pages for leads, sequences, articles, tickets… all take ids.
    assert len(rules) > 20
    for rule, numbers in rules:
        for name in numbers:
            assert rule._converters[name].max == MAX_ID, rule.rule


@pytest.mark.parametrize("number", TOO_BIG, ids=["10**20", "2**31"])
def test_an_id_too_big_for_the_database_is_no_such_page(app, login_as, number):
    admin = login_as("admin")
    assert failures(admin, requests_for(app, number), expected=404) == []


def test_the_largest_id_the_database_holds_reaches_the_database(app, login_as):
    admin = login_as("admin")
    # Matched by the rule and looked up: no row has it, but the database takes the number.
    assert failures(admin, requests_for(app, MAX_ID)) == []
    assert admin.get(f"/admin/leads/{MAX_ID}").status_code == 404


def test_existing_ids_still_work(login_as):
    admin = login_as("admin")
    lead = make_lead()
    sequence = make_sequence()
    page = admin.get(f"/admin/leads/{lead.id}")
    assert page.status_code == 200
    assert lead.email in page.get_data(as_text=True)
    assert admin.get(f"/admin/nurture/{sequence.id}").status_code == 200
    assert admin.get(f"/admin/leads/{lead.id}/export.json").get_json()["lead"]["email"] == lead.email


# -- ids and numbers in query strings and forms ---------------------------------------

HUGE = str(10**20)
# A digit to str.isdigit() that int() refuses.
SQUARED = "\u00b2"


@pytest.mark.parametrize("number", [HUGE, str(MAX_ID + 1), SQUARED])
@pytest.mark.parametrize(
    "path, args",
    [
        ("/admin/leads/", {"asset": "{n}", "page": "{n}"}),
        ("/admin/leads/", {"after": "2026-11-16T10:00:00_{n}"}),
        ("/admin/nurture/messages", {"sequence": "{n}"}),
        ("/admin/nurture/messages", {"page": "{n}"}),
        ("/admin/content/", {"owner": "{n}"}),
        ("/admin/content/", {"page": "{n}"}),
        ("/help/", {"page": "{n}"}),
        ("/search", {"q": "x", "page": "{n}"}),
        ("/api/search", {"q": "x", "page": "{n}", "limit": "{n}"}),
        ("/admin/search/", {"days": "{n}"}),
    ],
)
def test_a_number_no_row_can_have_in_a_filter_is_no_filter(login_as, path, args, number):
    admin = login_as("admin")
    assert admin.get(path, query_string={k: v.format(n=number) for k, v in args.items()}).status_code == 200


@pytest.mark.parametrize("number", [HUGE, str(MAX_ID + 1)])
def test_a_blog_page_past_the_last_is_not_found(client, number):
    assert client.get("/blog/", query_string={"page": number}).status_code == 404


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_a_date_at_the_end_of_the_calendar_is_no_date(login_as, day):
    admin = login_as("admin")
    lead = make_lead()
    listed = admin.get("/admin/leads/", query_string={"since": day, "until": day})
    assert listed.status_code == 200
    assert lead.email in listed.get_data(as_text=True)
    assert admin.get("/admin/insights/", query_string={"since": day, "until": day}).status_code == 200


def flashes(client, page):
    return " ".join(re.findall(r'class="flash[^"]*"[^>]*>(.*?)<', client.get(page).get_data(as_text=True)))


def test_a_pasted_lead_number_too_big_is_reported_as_not_found(login_as):
    marketer = login_as("marketer")
    marketer.set_cookie("lang", "en")
    sequence = make_sequence()
    lead = make_lead()
    pasted = f"{lead.id} {HUGE} {MAX_ID + 1} {SQUARED}"
    response = marketer.post(f"/admin/nurture/{sequence.id}/enroll", data={"leads": pasted})
    assert response.status_code == 302
    shown = flashes(marketer, f"/admin/nurture/{sequence.id}")
    assert f"No lead found for: {HUGE}, {MAX_ID + 1}, {SQUARED}" in shown
    assert [e.lead_id for e in Enrollment.query.filter_by(sequence_id=sequence.id)] == [lead.id]


@pytest.mark.parametrize("number", [HUGE, str(MAX_ID + 1)])
def test_a_test_send_names_no_sequence_when_its_number_is_too_big(login_as, number):
    marketer = login_as("marketer")
    response = marketer.post("/admin/nurture/test-send", data={"sequence_id": number, "step": "0"})
    # The empty step is refused with its reasons (422), on the editor page of no sequence.
    assert response.status_code == 422
    assert "主题：主题为空" in response.get_data(as_text=True)


def test_an_hourly_cap_too_big_for_the_column_is_refused(login_as):
    with pytest.raises(validation.SequenceError) as refused:
        sequences.save_sequence(sequence_data(hourly_cap=HUGE), now=MONDAY_10_SHANGHAI)
    assert any(error.startswith("hourly_cap:") for error in refused.value.errors)
    assert (
        sequences.save_sequence(sequence_data(hourly_cap=MAX_ID), now=MONDAY_10_SHANGHAI)[0].hourly_cap
        == MAX_ID
    )


@pytest.mark.parametrize("number", [HUGE, str(MAX_ID + 1), SQUARED])
def test_a_ticket_owner_no_user_can_be_leaves_the_ticket_unowned(login_as, number):
    sales = login_as("sales")
    ticket = Ticket(route=ROUTES[0], email="a@example.com", subject="SSO", body="help")
    db.session.add(ticket)
    db.session.commit()
    response = sales.post(
        f"/admin/assistant/tickets/{ticket.id}", data={"status": "answered", "owner_id": number}
    )
    assert response.status_code == 303
    db.session.expire_all()
    saved = db.session.get(Ticket, ticket.id)
    assert (saved.status, saved.owner_id) == ("answered", None)
