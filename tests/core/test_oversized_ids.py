"""A number too large for the database's ids, in a URL or an admin filter, is "no such
page" or "no filter" — never an "integer out of range" 500 (PostgreSQL) or an
OverflowError (SQLite)."""

import pytest
from werkzeug.routing import IntegerConverter

from core.ids import MAX_ID
from tests.nurture.conftest import make_lead, make_sequence

pytestmark = pytest.mark.usefixtures("app")

TOO_BIG = (10**20, MAX_ID + 1)


def id_rules(app):
    """Every URL rule with an integer part, and the names of those parts."""
    for rule in app.url_map.iter_rules():
        converters = rule._converters
        numbers = [name for name, converter in converters.items() if isinstance(converter, IntegerConverter)]
        if numbers:
            yield rule, numbers


def url_with(rule, numbers, number) -> str:
    values = {name: number if name in numbers else "x" for name in rule.arguments}
    return rule.build(values, append_unknown=False)[1]


def requests_for(app, number):
    for rule, numbers in id_rules(app):
        for method in sorted({"GET", "POST"} & rule.methods):
            yield rule, method, url_with(rule, numbers, number)


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
