"""The rule for every lead form, under each FORM_CHALLENGE value: a valid submission is
stored (303 to a thank-you page about it), or answered with a page that says what to do
next (202, "please confirm"), never a thank-you for nothing; the confirm page stores it.
Also the challenge endpoint, and the staff's list of held submissions with its release."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.timeutil import utcnow
from gated import visitor
from gated.forms import FIELDS
from gated.models import HeldSubmission, Lead, Submission
from tests.factories import fast, form_data, mp4_bytes, video_article

pytestmark = pytest.mark.usefixtures("app")
FORMS = {
    "whitepaper": "/library/saas-renewal",
    "video": "/videos/lead-scoring-demo/watch",
    "demo": "/demo-request",
    "newsletter": "/newsletter",
}


@pytest.fixture
def whitepaper(app, whitepaper):
    """The white paper, and beside it a video whose whole length is behind the same form."""
    video_article(app, mp4_bytes(2048), title="线索评分实战", slug="lead-scoring-demo", free_minutes=2)
    return whitepaper


def test_every_lead_form_is_under_the_rule():
    """A form added to gated.forms.FIELDS fails here until the tests below cover it."""
    assert set(FORMS) == set(FIELDS)


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def sent(kind, **overrides):
    data = fast(**overrides)
    if kind == "demo":
        data["message"] = "想看续费分析"
    if kind == "newsletter":
        data["consent"] = "y"
    return data


def assert_thanks_for_a_stored_submission(client, response, kind):
    assert response.status_code == 303, response.status_code
    location = response.headers["Location"]
    assert "t=" in location
    submission = db.session.scalars(select(Submission).order_by(Submission.id.desc())).first()
    assert submission is not None and submission.form == kind
    page = client.get(location).get_data(as_text=True)
    if kind == "whitepaper":
        assert "/download/" in page


def confirm_token(page: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', page).group(1)


@pytest.mark.parametrize("kind", FORMS)
def test_an_autofilled_form_is_stored_or_confirmed_never_thanked_for_nothing(
    client, whitepaper, challenge_mode, kind
):
    response = client.post(FORMS[kind], data=sent(kind))
    if challenge_mode == "off":
        assert_thanks_for_a_stored_submission(client, response, kind)
        return
    assert response.status_code == 202
    page = response.get_data(as_text=True)
    assert "请确认您是真人" in page and "/thanks" not in page
    reason = {"auto": "too_fast", "always": "no_proof"}[challenge_mode]
    assert count(Lead) == 0 and db.session.scalar(select(HeldSubmission.reason)) == reason
    response = client.post("/forms/confirm", data={"token": confirm_token(page)})
    assert_thanks_for_a_stored_submission(client, response, kind)
    assert db.session.scalars(select(Lead.email)).all() == ["Wang.Fang@example.com"]


@pytest.mark.parametrize("kind", FORMS)
def test_a_solved_challenge_lets_an_autofilled_form_through(client, whitepaper, challenge_mode, solve, kind):
    response = client.post(FORMS[kind], data=sent(kind, altcha=solve()))
    assert_thanks_for_a_stored_submission(client, response, kind)
    assert count(HeldSubmission) == 0


@pytest.mark.parametrize("kind", FORMS)
def test_always_holds_a_slow_fill_without_a_solution(app, client, whitepaper, monkeypatch, kind):
    monkeypatch.setitem(app.config, "FORM_CHALLENGE", "always")
    response = client.post(FORMS[kind], data={**sent(kind), "started": form_data()["started"]})
    assert response.status_code == 202 and count(Lead) == 0
    assert db.session.scalar(select(HeldSubmission.reason)) == "no_proof"


def test_a_replayed_solution_is_held(client, whitepaper, solve):
    payload = solve()
    assert client.post(FORMS["whitepaper"], data=sent("whitepaper", altcha=payload)).status_code == 303
    response = client.post(
        FORMS["whitepaper"], data=sent("whitepaper", email="li@example.com", altcha=payload)
    )
    assert response.status_code == 202
    assert db.session.scalar(select(HeldSubmission.reason)) == "replayed"


def test_an_empty_form_sent_fast_gets_its_errors_not_a_thank_you(client, whitepaper):
    response = client.post(FORMS["whitepaper"], data=fast(email="", name="", phone=""))
    assert response.status_code == 422 and "请输入您的邮箱地址" in response.get_data(as_text=True)
    assert count(HeldSubmission) == 0 and count(Lead) == 0


def test_confirming_twice_stores_once(client, whitepaper, recorder):
    token = confirm_token(client.post(FORMS["whitepaper"], data=sent("whitepaper")).get_data(as_text=True))
    first = client.post("/forms/confirm", data={"token": token})
    second = client.post("/forms/confirm", data={"token": token})
    tokens = [response.headers["Location"].split("t=")[1] for response in (first, second)]
    assert visitor.thanks_submission(tokens[0]).id == visitor.thanks_submission(tokens[1]).id
    assert count(Submission) == 1 and len(recorder.of("mail_requested")) == 1


def test_a_forged_confirm_token_is_a_clear_page(client):
    response = client.post("/forms/confirm", data={"token": "forged"})
    assert response.status_code == 400 and "请再填写一次表单" in response.get_data(as_text=True)


def test_the_confirm_form_is_checked_by_origin_not_by_a_session(client, make_app, whitepaper):
    """Another site's page cannot confirm; our own page can without any cookie of ours
    (a form framed on a partner's site gets none), CSRF protection on."""
    token = confirm_token(client.post(FORMS["whitepaper"], data=sent("whitepaper")).get_data(as_text=True))
    strict = make_app(WTF_CSRF_ENABLED=True).test_client()
    forged = strict.post(
        "/forms/confirm",
        data={"token": token},
        headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    )
    assert forged.status_code == 400 and count(Lead) == 0
    ours = strict.post(
        "/forms/confirm",
        data={"token": token},
        headers={"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"},
    )
    assert ours.status_code == 303 and count(Lead) == 1
    assert "session" not in (ours.headers.get("Set-Cookie") or "")


def test_the_challenge_comes_from_its_endpoint_never_from_the_page(client, whitepaper, challenge_mode):
    page = client.get(FORMS["whitepaper"]).get_data(as_text=True)
    if challenge_mode == "off":
        assert "altcha-widget" not in page and "form-challenge.js" not in page
        return
    assert '<altcha-widget challenge="/forms/challenge"' in page and "form-challenge.js" in page
    response = client.get("/forms/challenge")
    challenge = response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    assert challenge["signature"] and challenge["parameters"]["expiresAt"]
    assert challenge["parameters"]["nonce"] not in page
    assert (
        client.get("/forms/challenge").get_json()["parameters"]["nonce"] != challenge["parameters"]["nonce"]
    )


def test_the_start_time_comes_from_its_endpoint_never_from_the_page(app, client, whitepaper):
    page = client.get(FORMS["whitepaper"]).get_data(as_text=True)
    assert 'id="f-started" name="started" type="hidden" value=""' in page
    assert 'data-start="/forms/start"' in page and "form-start.js" in page
    response = client.get("/forms/start")
    assert response.headers["Cache-Control"] == "no-store"
    started, now = response.get_json()["started"], utcnow()
    assert visitor.fill_time_reason({"started": started}, now=now) == "too_fast"
    later = now + timedelta(seconds=app.config["FORM_MIN_FILL_SECONDS"] + 1)
    assert visitor.fill_time_reason({"started": started}, now=later) is None


def test_staff_see_held_submissions_with_their_reason_and_release_one(client, login_as, whitepaper, recorder):
    client.post(FORMS["whitepaper"], data=sent("whitepaper"))
    client.post(FORMS["demo"], data={**sent("demo"), "website": "http://spam"})
    held = db.session.scalars(select(HeldSubmission)).one()
    staff = login_as("marketer")
    page = staff.get("/admin/leads/held").get_data(as_text=True)
    assert "Wang.Fang@example.com" in page and "提交速度快于常人" in page and "隐藏的陷阱字段被填写" in page
    response = staff.post(f"/admin/leads/held/{held.id}/release")
    lead = db.session.scalars(select(Lead)).one()
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/admin/leads/{lead.id}")
    assert [call["template"] for call in recorder.of("mail_requested")] == ["gated/email/download_link"]
    released = db.session.get(HeldSubmission, held.id)
    assert released.released_by_id == staff.user.id and released.lead_id == lead.id
    staff.post(f"/admin/leads/held/{held.id}/release")
    assert count(Submission) == 1


def test_only_lead_staff_see_or_release_held_submissions(client, login_as, whitepaper):
    client.post(FORMS["whitepaper"], data=sent("whitepaper"))
    held = db.session.scalars(select(HeldSubmission)).one()
    editor = login_as("editor")
    assert editor.get("/admin/leads/held").status_code == 403
    assert editor.post(f"/admin/leads/held/{held.id}/release").status_code == 403
    assert client.post(f"/admin/leads/held/{held.id}/release").status_code == 302  # to the login
    assert count(Lead) == 0
