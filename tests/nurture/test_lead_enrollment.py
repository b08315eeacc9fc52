"""Enrolling from the lead admin: one lead from its page, again on purpose, and every
lead of the filtered lead list after a confirm step; roles and CSRF."""

import re

import pytest

from core.extensions import db
from nurture import enrolling, enrolment, exits, suppression
from nurture.models import Enrollment
from tests.nurture.conftest import MONDAY_10_SHANGHAI, make_lead, make_sequence, tick

pytestmark = pytest.mark.usefixtures("app")


@pytest.fixture
def login_as(login_as):
    """Staff reading the admin in English, so the tests can read its messages."""

    def sign_in(role, **kwargs):
        client = login_as(role, **kwargs)
        client.set_cookie("lang", "en")
        return client

    return sign_in


def enrollments(sequence):
    return {e.lead.email: e for e in Enrollment.query.filter_by(sequence_id=sequence.id)}


def flashes(client, page):
    """The page's messages (after the redirect), as text."""
    return " ".join(re.findall(r'class="flash[^"]*"[^>]*>(.*?)<', client.get(page).get_data(as_text=True)))


def test_lead_page_enrolls_and_enrolls_again_only_on_purpose(login_as, smtp_sink):
    marketer = login_as("marketer")
    sequence = make_sequence()
    make_sequence(slug="drafted", status="draft")
    lead = make_lead()
    page = marketer.get(f"/admin/leads/{lead.id}").get_data(as_text=True)
    assert 'id="sequences"' in page and f'<option value="{sequence.id}">' in page
    assert "drafted" not in page  # a draft is not offered

    response = marketer.post(f"/admin/nurture/leads/{lead.id}/enroll", data={"sequence": sequence.id})
    assert response.status_code == 302 and response.location.endswith(f"/admin/leads/{lead.id}#sequences")
    first = enrollments(sequence)[lead.email]
    assert (first.status, first.round, first.source) == ("active", 1, "manual")

    # A second plain enroll is refused and changes nothing; "again" is refused while active.
    marketer.post(f"/admin/nurture/leads/{lead.id}/enroll", data={"sequence": sequence.id})
    marketer.post(f"/admin/nurture/leads/{lead.id}/enroll", data={"sequence": sequence.id, "again": "yes"})
    assert Enrollment.query.count() == 1 and enrollments(sequence)[lead.email].round == 1

    tick(first.next_send_at)
    exits.exit_lead(lead.id, "removed", now=MONDAY_10_SHANGHAI)
    page = marketer.get(f"/admin/leads/{lead.id}").get_data(as_text=True)
    assert "Enroll again" in page and "1 of 2 sent" in page
    response = marketer.post(
        f"/admin/nurture/leads/{lead.id}/enroll", data={"sequence": sequence.id, "again": "yes"}
    )
    assert response.status_code == 302
    again = enrollments(sequence)[lead.email]
    assert (again.status, again.round, again.position) == ("active", 2, 0)
    # The first step goes out once more, as a new mail of the new round.
    smtp_sink.clear()
    tick(again.next_send_at)
    assert [m["To"] for m in smtp_sink.wait_for(1)] == [lead.email]


@pytest.mark.parametrize(
    ("setup", "words"),
    [
        ({"consent": False}, "not agreed to marketing mail"),
        ({"stage": "sql"}, "with sales"),
        ({"suppressed": True}, "suppressed"),
    ],
)
def test_lead_page_says_why_a_lead_cannot_join(login_as, setup, words):
    marketer = login_as("marketer")
    sequence = make_sequence()
    fields = dict(setup)
    suppressed = fields.pop("suppressed", False)
    lead = make_lead(**fields)
    if suppressed:
        suppression.suppress(lead.email, "manual", now=MONDAY_10_SHANGHAI)
    marketer.post(f"/admin/nurture/leads/{lead.id}/enroll", data={"sequence": sequence.id})
    assert Enrollment.query.count() == 0
    assert words in flashes(marketer, f"/admin/leads/{lead.id}")


@pytest.mark.parametrize(
    "sequence_value", ["", "abc", "999999", "draft", "archived", "-1", "0", str(2**31), "99999999999"]
)
def test_bad_sequence_is_a_message_not_an_error(login_as, sequence_value):
    marketer = login_as("marketer")
    lead = make_lead()
    drafted = make_sequence(slug="drafted", status="draft")
    archived = make_sequence(slug="old", status="archived")
    value = {"draft": drafted.id, "archived": archived.id}.get(sequence_value, sequence_value)
    single = marketer.post(f"/admin/nurture/leads/{lead.id}/enroll", data={"sequence": value})
    assert single.status_code == 302
    bulk = marketer.get("/admin/nurture/leads/enroll", query_string={"q": "lead", "sequence": value})
    assert bulk.status_code == 302
    posted = marketer.post(
        "/admin/nurture/leads/enroll", data={"q": "lead", "sequence": value, "confirm": "yes"}
    )
    assert posted.status_code == 302
    assert Enrollment.query.count() == 0
    assert "active or paused sequence" in flashes(marketer, "/admin/leads/")
    for lead_id in ("999999", str(2**31), "99999999999"):  # app-wide IdConverter: past the column, a 404
        assert (
            marketer.post(f"/admin/nurture/leads/{lead_id}/enroll", data={"sequence": value}).status_code
            == 404
        )


def make_list():
    """Nine leads: five from the fair (one without consent, one already in, one
    suppressed, one with sales), four from elsewhere."""
    fair = [make_lead(f"fair{n}@example.com", source="fair-2026") for n in range(5)]
    fair[1].marketing_consent = False
    fair[3].stage = "customer"
    others = [make_lead(f"web{n}@example.com", source="web") for n in range(4)]
    db.session.commit()
    return fair, others


def test_filtered_list_enrolls_exactly_what_it_shows(login_as):
    marketer = login_as("marketer")
    sequence = make_sequence()
    fair, others = make_list()
    enrolment.enroll([fair[2].id], sequence.id, now=MONDAY_10_SHANGHAI)
    suppression.suppress(fair[4].email, "unsubscribed", now=MONDAY_10_SHANGHAI)

    listed = marketer.get("/admin/leads/?source=fair-2026&lang=en").get_data(as_text=True)
    assert 'action="/admin/nurture/leads/enroll"' in listed and 'name="source" value="fair-2026"' in listed
    # No filter, no bulk enroll offered (nor done).
    assert 'action="/admin/nurture/leads/enroll"' not in marketer.get("/admin/leads/").get_data(as_text=True)

    confirm = marketer.get(
        "/admin/nurture/leads/enroll",
        query_string={"source": "fair-2026", "sequence": sequence.id},
    )
    text = confirm.get_data(as_text=True)
    assert confirm.status_code == 200
    assert "The filtered list has 5 leads; 4 of them agreed to marketing mail." in text
    assert Enrollment.query.count() == 1  # the confirm step changes nothing

    done = marketer.post(
        "/admin/nurture/leads/enroll",
        data={"source": "fair-2026", "sequence": sequence.id, "confirm": "yes"},
    )
    assert done.status_code == 302 and "source=fair-2026" in done.location
    # Only fair0 joins: fair1 has no consent, fair2 was in, fair3 is a customer, fair4 left.
    assert set(enrollments(sequence)) == {fair[0].email, fair[2].email}
    assert enrollments(sequence)[fair[0].email].source == "filter"
    message = flashes(marketer, "/admin/leads/")
    assert "1 of 5 leads enrolled; 3 skipped" in message and "1 without consent" in message


def test_list_filters_by_search_text_and_stage(login_as):
    marketer = login_as("marketer")
    sequence = make_sequence()
    fair, others = make_list()
    others[0].stage = "mql"
    others[2].stage = "mql"
    db.session.commit()
    marketer.post(
        "/admin/nurture/leads/enroll",
        data={"q": "web", "stage": "mql", "sequence": sequence.id, "confirm": "yes"},
    )
    assert set(enrollments(sequence)) == {others[0].email, others[2].email}


def test_empty_filter_is_refused(login_as):
    marketer = login_as("marketer")
    sequence = make_sequence()
    make_list()
    for response in (
        marketer.get("/admin/nurture/leads/enroll", query_string={"sequence": sequence.id}),
        marketer.post("/admin/nurture/leads/enroll", data={"sequence": sequence.id, "confirm": "yes"}),
        # An unknown stage is no filter at all, nor an asset number no asset can have.
        marketer.post(
            "/admin/nurture/leads/enroll",
            data={"stage": "nonsense", "sequence": sequence.id, "confirm": "yes"},
        ),
        marketer.post(
            "/admin/nurture/leads/enroll", data={"asset": "0", "sequence": sequence.id, "confirm": "yes"}
        ),
    ):
        assert response.status_code == 302
    assert Enrollment.query.count() == 0
    assert "Filter the list first" in flashes(marketer, "/admin/leads/")


def test_sales_and_editors_cannot_enroll(login_as):
    sequence = make_sequence()
    lead = make_lead(source="fair")
    sales = login_as("sales")
    page = sales.get(f"/admin/leads/{lead.id}").get_data(as_text=True)
    assert 'id="sequences"' not in page  # sales see the lead, not the enroll form
    assert "nurture/leads/enroll" not in sales.get("/admin/leads/?source=fair").get_data(as_text=True)
    for client in (sales, login_as("editor")):
        assert (
            client.post(f"/admin/nurture/leads/{lead.id}/enroll", data={"sequence": sequence.id}).status_code
            == 403
        )
        assert (
            client.post(
                "/admin/nurture/leads/enroll",
                data={"source": "fair", "sequence": sequence.id, "confirm": "yes"},
            ).status_code
            == 403
        )
    admin = login_as("admin")
    assert (
        admin.post(f"/admin/nurture/leads/{lead.id}/enroll", data={"sequence": sequence.id}).status_code
        == 302
    )
    assert Enrollment.query.count() == 1


def test_csrf_is_required(make_app, login_as):
    strict = make_app(WTF_CSRF_ENABLED=True)
    with strict.app_context():
        sequence = make_sequence()
        lead = make_lead(source="fair")
        marketer = login_as("marketer", client=strict.test_client())
        assert (
            marketer.post(
                f"/admin/nurture/leads/{lead.id}/enroll", data={"sequence": sequence.id}
            ).status_code
            == 400
        )
        assert (
            marketer.post(
                "/admin/nurture/leads/enroll",
                data={"source": "fair", "sequence": sequence.id, "confirm": "yes"},
            ).status_code
            == 400
        )
        assert Enrollment.query.count() == 0
        # With the page's token it goes through.
        page = marketer.get(f"/admin/leads/{lead.id}").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        response = marketer.post(
            f"/admin/nurture/leads/{lead.id}/enroll", data={"sequence": sequence.id, "csrf_token": token}
        )
        assert response.status_code == 302 and Enrollment.query.count() == 1


def test_enroll_get_is_not_allowed_for_one_lead(login_as):
    marketer = login_as("marketer")
    lead = make_lead()
    assert marketer.get(f"/admin/nurture/leads/{lead.id}/enroll").status_code == 405


@pytest.mark.parametrize("field", ["sequence", "asset"])
def test_numbers_too_big_for_the_database_are_no_error(login_as, field):
    marketer = login_as("marketer")
    sequence = make_sequence()
    lead = make_lead()
    huge = "9" * 30
    data = {"q": "lead", "sequence": sequence.id, field: huge}
    assert marketer.get("/admin/nurture/leads/enroll", query_string=data).status_code in (200, 302)
    assert marketer.post("/admin/nurture/leads/enroll", data={**data, "confirm": "yes"}).status_code == 302
    assert marketer.post(f"/admin/nurture/leads/{lead.id}/enroll", data={"sequence": huge}).status_code == 302
    assert marketer.get("/admin/leads/", query_string={"asset": huge}).status_code == 200
    assert (
        marketer.post(f"/admin/nurture/leads/{huge}/enroll", data={"sequence": sequence.id}).status_code
        == 404
    )
    # An impossible asset is no filter (as on the list), so the search alone chose the lead.
    assert Enrollment.query.count() == (1 if field == "asset" else 0)


@pytest.mark.parametrize("sequence_id", [0, -1, 2**31, 10**12])
def test_enrolling_refuses_an_id_no_sequence_can_have(sequence_id):
    # Called directly (a script, the CLI): the id range is checked here too, not only by the form.
    lead = make_lead()
    with pytest.raises(enrolling.Refused) as refused:
        enrolling.enroll_lead(lead, sequence_id, now=MONDAY_10_SHANGHAI)
    assert refused.value.reason == "sequence"
    assert Enrollment.query.count() == 0
