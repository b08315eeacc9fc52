"""Screening and holding as services: which submissions are stored, held or dropped
under each FORM_CHALLENGE value; the proof-of-work spent once; a held submission released
into a lead exactly once; held rows purged and erased like the rest of a person."""

import json
from datetime import timedelta

import altcha
import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.timeutil import utcnow
from gated import challenge, holding, privacy
from gated.capture import RequestMeta, capture_lead
from gated.models import HeldSubmission, Lead, Submission, UsedChallenge
from gated.validation import InvalidSubmission
from tests.factories import fast, form_data

pytestmark = pytest.mark.usefixtures("app")
META = RequestMeta(ip="203.0.113.9", user_agent="UA", referrer="https://www.baidu.com/")


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def proof(app) -> str:
    app.config["FORM_CHALLENGE_COST"] = 1
    made = altcha.Challenge.from_dict(challenge.new_challenge(now=utcnow()))
    return altcha.Payload(made, altcha.solve_challenge(made)).to_base64()


def test_a_filled_honeypot_is_dropped_under_every_setting(challenge_mode):
    assert holding.screen(form_data(website="x"), now=utcnow()) == holding.HONEYPOT


SENT = {
    "fast": lambda: fast(),
    "no_start": lambda: form_data(started=None),
    "at a person's pace": lambda: form_data(),
    "forged proof": lambda: form_data(altcha="bm90IGEgcGF5bG9hZA=="),
}


@pytest.mark.parametrize(
    ("mode", "sent", "expected"),
    [
        ("off", "fast", None),
        ("off", "no_start", None),
        ("auto", "at a person's pace", None),  # no proof (no JavaScript), a person's pace
        ("auto", "fast", "too_fast"),
        ("auto", "no_start", "no_start"),
        ("auto", "forged proof", "bad_proof"),
        ("always", "at a person's pace", "no_proof"),
    ],
)
def test_what_is_held_and_why(app, monkeypatch, mode, sent, expected):
    monkeypatch.setitem(app.config, "FORM_CHALLENGE", mode)
    assert holding.screen(SENT[sent](), now=utcnow()) == expected


@pytest.mark.parametrize("mode", ["auto", "always"])
def test_a_solved_challenge_passes_a_fast_fill_once(app, monkeypatch, mode):
    monkeypatch.setitem(app.config, "FORM_CHALLENGE", mode)
    monkeypatch.setitem(app.config, "FORM_CHALLENGE_COST", 1)
    payload = proof(app)
    assert holding.screen(fast(altcha=payload), now=utcnow()) is None
    db.session.commit()
    assert count(UsedChallenge) == 1
    assert holding.screen(fast(altcha=payload), now=utcnow()) == "replayed"


def test_a_proof_is_spent_only_with_the_lead(app, monkeypatch):
    monkeypatch.setitem(app.config, "FORM_CHALLENGE_COST", 1)
    payload = proof(app)
    assert challenge.spend(payload, now=utcnow()) is None
    db.session.rollback()  # the capture failed: the visitor may send the same solution again
    assert challenge.spend(payload, now=utcnow()) is None


def test_an_expired_or_forged_challenge_is_refused(app, monkeypatch):
    monkeypatch.setitem(app.config, "FORM_CHALLENGE_COST", 1)
    monkeypatch.setitem(app.config, "FORM_CHALLENGE_MAX_AGE", -60)
    assert challenge.spend(proof(app), now=utcnow()) == "bad_proof"
    monkeypatch.setitem(app.config, "FORM_CHALLENGE_MAX_AGE", 600)
    made = altcha.Challenge.from_dict(challenge.new_challenge(now=utcnow()))
    made.parameters.key_prefix = "ff"  # an easier puzzle than the one signed
    assert challenge.spend(altcha.Payload(made, altcha.solve_challenge(made)).to_base64(), now=utcnow()) == (
        "bad_proof"
    )


def test_spent_signatures_are_forgotten_when_they_expire(app, monkeypatch):
    monkeypatch.setitem(app.config, "FORM_CHALLENGE_COST", 1)
    now = utcnow()
    db.session.add(UsedChallenge(signature="old", expires_at=now - timedelta(seconds=1)))
    db.session.commit()
    assert challenge.spend(proof(app), now=now) is None
    db.session.commit()
    assert db.session.scalars(select(UsedChallenge.signature)).all() != ["old"]
    assert count(UsedChallenge) == 1


def hold(whitepaper, **data):
    return holding.hold(
        "whitepaper",
        fast(**data),
        reason="too_fast",
        slug=whitepaper[0].slug,
        request_meta=META,
        known_lead_id=None,
        consent_shown=True,
        now=utcnow(),
    )


def test_a_held_submission_keeps_everything_and_is_no_lead(whitepaper):
    held = hold(whitepaper)
    assert count(Lead) == 0 and count(Submission) == 0
    assert held.email == "Wang.Fang@example.com" and held.fields["company"] == "星河软件"
    assert held.fields["utm_source"] == "baidu" and held.ip == "203.0.113.9"


def test_an_invalid_submission_is_not_held(whitepaper):
    with pytest.raises(InvalidSubmission):
        hold(whitepaper, email="not-an-email")
    assert count(HeldSubmission) == 0


def test_release_makes_the_lead_with_its_mail_once(whitepaper, recorder):
    held = hold(whitepaper)
    released = holding.release(held.id, now=utcnow())
    lead = db.session.scalars(select(Lead)).one()
    assert released.lead_id == lead.id and released.released_at is not None
    assert lead.company == "星河软件" and lead.first_utm_source == "baidu"
    submission = db.session.scalars(select(Submission)).one()
    assert submission.asset_id == whitepaper[1].id and submission.ip == "203.0.113.9"
    assert [call["template"] for call in recorder.of("mail_requested")] == ["gated/email/download_link"]
    assert recorder.of("lead_captured")[0]["sequence"] == "whitepaper-followup"
    with pytest.raises(holding.AlreadyReleased):
        holding.release(held.id, now=utcnow())
    assert count(Submission) == 1 and len(recorder.of("mail_requested")) == 1


def test_a_released_submission_with_someone_elses_address_adds_only_what_is_missing(whitepaper):
    """Like every public form (tests/gated/test_known_visitor.py): held, then released."""
    known = capture_lead(
        "newsletter",
        {"email": "li.lei@example.cn", "name": "李雷", "consent": "y"},
        request_meta=META,
        now=utcnow(),
    )
    held = hold(whitepaper, email="li.lei@example.cn", name="Hacked Name")
    holding.release(held.id, now=utcnow())
    lead = db.session.get(Lead, known.lead_id)
    assert (lead.name, lead.company) == ("李雷", "星河软件")  # the company was missing
    released = db.session.scalars(select(Submission).order_by(Submission.id.desc())).first()
    assert (released.fields["name"], released.proposed_fields) == ("Hacked Name", ["name"])


def test_held_submissions_are_purged_and_erased(app, whitepaper):
    old = hold(whitepaper, email="old@example.com")
    old.created_at = utcnow() - timedelta(days=app.config["HELD_SUBMISSION_DAYS"] + 1)
    db.session.commit()
    hold(whitepaper, email="new@example.com")
    assert privacy.purge_submission_details(now=utcnow())["held"] == 1
    assert privacy.erase_lead(" new@Example.COM") is True
    assert count(HeldSubmission) == 0


def test_an_access_request_shows_the_held_submission_behind_a_lead(whitepaper):
    held = holding.release(hold(whitepaper).id, now=utcnow())
    data = privacy.export_person(held.lead_id)
    json.dumps(data)
    assert [row["reason"] for row in data["held_submissions"]] == ["too_fast"]


def test_a_release_the_rules_now_refuse_stores_nothing_and_stays_held(app, whitepaper, monkeypatch):
    held = hold(whitepaper)
    monkeypatch.setitem(app.config, "CONSENT_REQUIRED", True)
    with pytest.raises(InvalidSubmission):
        holding.release(held.id, now=utcnow())
    assert count(Lead) == 0
    assert db.session.get(HeldSubmission, held.id).released_at is None
