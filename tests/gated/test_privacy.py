"""Erase, anonymise, export of one person, bulk erase and the retention purge."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.timeutil import utcnow
from gated import privacy, visitor
from gated.capture import RequestMeta, capture_lead
from gated.downloads import record_download
from gated.models import BlockedSubmission, Consent, Download, Lead, Submission
from tests.factories import form_data

pytestmark = pytest.mark.usefixtures("app")
META = RequestMeta(ip="203.0.113.7", user_agent="UA")


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def person(whitepaper, email="Wang.Fang@example.com", *, now=None):
    _, asset = whitepaper
    now = now or utcnow()
    capture = capture_lead(
        "whitepaper", form_data(email=email, consent="y"), asset=asset, request_meta=META, now=now
    )
    record_download(capture.lead, asset, ip="203.0.113.7", now=now)
    return capture.lead.id


def test_export_of_one_person_holds_everything(whitepaper):
    lead_id = person(whitepaper)
    data = privacy.export_person(lead_id)
    json.dumps(data)  # JSON-ready
    assert data["lead"]["email"] == "Wang.Fang@example.com"
    assert len(data["submissions"]) == len(data["consents"]) == len(data["downloads"]) == 1
    assert data["consents"][0]["text"] and data["submissions"][0]["ip"] == "203.0.113.7"


def test_erase_removes_the_person_everywhere_and_tells_other_packages(whitepaper, recorder):
    lead_id = person(whitepaper)
    other = person(whitepaper, "other@example.com")
    assert privacy.erase_lead("  wang.fang@EXAMPLE.com".replace("wang.fang", "Wang.Fang"))
    assert recorder.of("lead_erased") == [
        {"lead_id": lead_id, "email": "Wang.Fang@example.com", "phone": "+8613800138000"}
    ]
    for model in (Submission, Consent, Download):
        assert db.session.scalar(select(func.count()).select_from(model).where(model.lead_id == lead_id)) == 0
    assert db.session.get(Lead, lead_id) is None and db.session.get(Lead, other) is not None
    assert not privacy.erase_lead("nobody@example.com") and not privacy.erase_lead("not an address")


def test_anonymise_keeps_counts_and_drops_the_person(whitepaper, recorder):
    lead_id = person(whitepaper)
    privacy.anonymise_lead(lead_id, now=utcnow())
    lead = db.session.get(Lead, lead_id)
    assert lead.email.endswith("@anonymised.invalid") and lead.name == lead.phone == lead.company == ""
    assert lead.first_channel == "paid_search" and not lead.marketing_consent
    assert count(Submission) == count(Download) == 1
    submission = db.session.scalar(select(Submission))
    assert submission.fields == {} and submission.ip is None and submission.user_agent is None
    assert db.session.scalar(select(Download.ip)) is None
    assert recorder.of("lead_erased")[0]["email"] == "Wang.Fang@example.com"


def test_bulk_erase(whitepaper):
    ids = [person(whitepaper, f"p{i}@example.com") for i in range(3)]
    assert privacy.erase_leads(ids[:2]) == 2
    assert count(Lead) == 1


def test_retention_purges_raw_details_of_old_submissions_only(whitepaper, app):
    now = utcnow()
    old = now - timedelta(days=app.config["SUBMISSION_RETENTION_DAYS"] + 1)
    person(whitepaper, "old@example.com", now=old)
    person(whitepaper, "new@example.com", now=now)
    visitor.record_blocked("whitepaper", "honeypot", now=old)
    assert privacy.purge_submission_details(now=now) == {
        "submissions": 1,
        "downloads": 1,
        "blocked": 1,
        "held": 0,
    }
    rows = {s.lead.email: (s.ip, s.user_agent) for s in db.session.scalars(select(Submission))}
    assert rows == {"old@example.com": (None, None), "new@example.com": ("203.0.113.7", "UA")}
    assert count(BlockedSubmission) == 0
    assert privacy.purge_submission_details(now=now) == {
        "submissions": 0,
        "downloads": 0,
        "blocked": 0,
        "held": 0,
    }
