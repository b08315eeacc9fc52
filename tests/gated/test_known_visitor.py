"""Who may change a lead and who is greeted as one: a public form sent with someone
else's address adds only what the lead lacks (each public form that upserts a lead; the
assistant's hand-over in tests/assistant/test_services.py),
keeps its other values on the submission for staff, and never makes the browser a known
visitor; a mailed link or the double opt-in does."""

import re

import pytest
from sqlalchemy import select

from core.extensions import db
from core.timeutil import utcnow
from core.tokens import sign
from gated.capture import RequestMeta, capture_lead
from gated.models import Lead, Submission
from tests.factories import form_data

pytestmark = pytest.mark.usefixtures("app")
VICTIM = "li.lei@example.cn"
HACKED = {"email": VICTIM, "name": "Hacked Name", "company": "Evil Corp", "job_title": "CEO", "role": ""}


@pytest.fixture
def li_lei(whitepaper):
    """A real lead who told us name, company and phone (no job title yet)."""
    _, asset = whitepaper
    capture = capture_lead(
        "whitepaper",
        {"email": VICTIM, "name": "李雷", "company": "星火科技", "phone": "13800138000"},
        asset=asset,
        request_meta=RequestMeta(),
        now=utcnow(),
    )
    return capture.lead_id


def lead_cookie(response) -> bool:
    return any(c.startswith("lodestar_lead=") for c in response.headers.getlist("Set-Cookie"))


def known(client, kind: str = "whitepaper") -> dict:
    """What the form's script learns of this browser (/forms/known): the page is the same
    for everyone, so greeting and short form come from here."""
    return client.get("/forms/known", query_string={"kind": kind}).get_json()


FORM_KINDS = {"/library/saas-renewal": "whitepaper", "/demo-request": "demo", "/newsletter": "newsletter"}


@pytest.mark.parametrize("path", list(FORM_KINDS))
def test_a_public_form_with_someone_elses_address_adds_only_what_is_missing(client, li_lei, path):
    response = client.post(path, data=form_data(**HACKED, phone="", consent="y"))
    assert response.status_code == 303
    assert not lead_cookie(response)
    lead = db.session.get(Lead, li_lei)
    assert (lead.name, lead.company, lead.phone) == ("李雷", "星火科技", "+8613800138000")
    assert lead.job_title == "CEO"  # was missing: an unverified submission may add it
    submission = db.session.scalars(select(Submission).order_by(Submission.id.desc())).first()
    assert (submission.fields["name"], submission.fields["company"]) == ("Hacked Name", "Evil Corp")
    assert submission.proposed_fields == ["name", "company"]
    # The next page greets nobody and asks for the address again.
    assert known(client, FORM_KINDS[path]) == {"known": False}


def test_the_thank_you_pages_link_does_not_make_a_known_visitor_the_mailed_one_does(
    client, whitepaper, recorder
):
    thanks = client.get(client.post("/library/saas-renewal", data=form_data()).headers["Location"])
    on_page = re.search(r'href="(/download/[^"]+)"', thanks.get_data(as_text=True)).group(1)
    with client.get(on_page) as download:
        assert download.status_code == 200 and not lead_cookie(download)
    assert known(client) == {"known": False}

    with client.get(recorder.mailed_link()) as download:
        assert download.status_code == 200 and lead_cookie(download)
    answer = known(client)
    assert re.search("欢迎回来.王芳", answer["greeting"]) and "email" not in answer["ask"]


def test_a_known_visitor_may_change_what_the_lead_stored(client, whitepaper, recorder):
    client.post("/library/saas-renewal", data=form_data())
    client.get(recorder.mailed_link()).close()
    response = client.post(
        "/library/saas-renewal", data=form_data(email="", name="王芳芳", company="银河软件")
    )
    assert response.status_code == 303
    lead = db.session.scalar(select(Lead))
    assert (lead.name, lead.company) == ("王芳芳", "银河软件")
    assert db.session.scalars(select(Submission.proposed_fields).order_by(Submission.id)).all() == [[], []]


def test_a_known_visitor_typing_another_address_changes_nothing_of_that_lead(client, li_lei, recorder):
    client.post("/library/saas-renewal", data=form_data())
    client.get(recorder.mailed_link()).close()
    client.post("/library/saas-renewal", data=form_data(**HACKED))
    assert db.session.get(Lead, li_lei).name == "李雷"


def test_confirming_the_double_opt_in_makes_a_known_visitor(client, app, recorder):
    app.config["DOUBLE_OPT_IN"] = True
    try:
        response = client.post("/newsletter", data=form_data(consent="y"))
    finally:
        app.config["DOUBLE_OPT_IN"] = False
    assert not lead_cookie(response)
    confirm = recorder.of("mail_requested")[-1]["context"]["confirm_url"].replace("http://localhost", "")
    assert not lead_cookie(client.get(confirm))  # a mail scanner's GET proves nothing
    assert lead_cookie(client.post(confirm))
    assert re.search("欢迎回来.王芳", known(client, "demo")["greeting"])


def test_cookies_given_before_for_a_typed_address_are_ignored(client, li_lei):
    client.set_cookie("lodestar_lead", sign("lead-cookie", li_lei))
    assert known(client) == {"known": False}
