"""Merging two leads that are one person (gated.merging) and undoing it, on SQLite and
PostgreSQL: both histories kept, clashes kept as copies, an exact restore, refusals,
roles and audit entries."""

from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select

from core.extensions import db
from core.timeutil import utcnow
from gated import merging
from gated.capture import RequestMeta, capture_lead
from gated.models import Download, Lead, LeadMerge, LeadTag, Submission
from insights.models import Event
from insights.scoring.models import LeadScoring
from nurture.models import Enrollment, Message, Sequence
from tests.factories import audit_entries, form_data

pytestmark = pytest.mark.usefixtures("app")


def _history(lead_id: int) -> dict:
    """Each table's row ids of one lead."""
    db.session.expire_all()
    return {
        model.__tablename__: sorted(db.session.scalars(select(model.id).where(model.lead_id == lead_id)))
        for model in (Submission, Download, Event, Message, Enrollment, LeadTag)
    }


@pytest.fixture
def pair(app, whitepaper, monkeypatch):
    """Lead A known by email, lead B by phone: each with submissions, a download, events,
    a mail, tags and a score row; both enrolled in one sequence and both tagged "vip"."""
    # B signed up for a newsletter the team also sends by text: a number alone is enough.
    monkeypatch.setitem(app.config["FORM_IDENTITY_OVERRIDES"], "newsletter", "email_or_phone")
    _, asset = whitepaper
    now = utcnow()
    a = capture_lead(
        "whitepaper",
        form_data(email="wang@example.cn", name="王芳", company="甲公司", phone=""),
        asset=asset,
        request_meta=RequestMeta(ip="1.2.3.4"),
        now=now - timedelta(days=2),
    ).lead
    b = capture_lead(
        "newsletter",
        {"phone": "13800138000", "name": "王芳芳", "company": "乙公司", "consent": "y"},
        request_meta=RequestMeta(ip="5.6.7.8"),
        now=now - timedelta(days=1),
    ).lead
    sequence = Sequence(slug="merge-test", name="合并测试")
    db.session.add(sequence)
    db.session.flush()
    for lead in (a, b):
        db.session.add_all(
            [
                Download(lead_id=lead.id, asset_id=asset.id, created_at=now),
                Event(kind="download", lead_id=lead.id, occurred_at=now, path="/x"),
                Message(kind="nurture", to_address=lead.email or "x@example.cn", lead_id=lead.id),
                Enrollment(lead_id=lead.id, sequence_id=sequence.id),
                LeadTag(lead_id=lead.id, tag="vip"),
                LeadTag(lead_id=lead.id, tag=f"only-{lead.id}"),
            ]
        )
        if db.session.get(LeadScoring, lead.id) is None:
            db.session.add(LeadScoring(lead_id=lead.id, decay_steps=lead.id))
    db.session.commit()
    return a.id, b.id


def test_merge_keeps_both_histories_and_undo_restores_exactly(pair):
    a_id, b_id = pair
    a_before, b_before = _history(a_id), _history(b_id)
    b_row = {c.name: getattr(db.session.get(Lead, b_id), c.name) for c in Lead.__table__.columns}
    a_row = {c.name: getattr(db.session.get(Lead, a_id), c.name) for c in Lead.__table__.columns}
    assert all(b_before[name] for name in ("submissions", "downloads", "insight_events", "messages"))

    log = merging.merge(a_id, b_id, chosen={"name": "b"}, user_id=None, now=utcnow())

    db.session.expire_all()
    assert db.session.get(Lead, b_id) is None
    a = db.session.get(Lead, a_id)
    assert (a.email, a.phone, a.name, a.company) == ("wang@example.cn", "+8613800138000", "王芳芳", "甲公司")
    merged = _history(a_id)
    for table in ("submissions", "downloads", "insight_events", "messages"):
        assert merged[table] == sorted(a_before[table] + b_before[table])
    # Clashes: one enrolment in the sequence, one "vip" tag, one score row: A's kept.
    assert merged["enrollments"] == a_before["enrollments"]
    assert len(merged["lead_tags"]) == 3
    assert db.session.get(LeadScoring, a_id) is not None
    clashed = {item["table"] for item in log.snapshot["clashed"]}
    assert {"enrollments", "lead_tags", "lead_scoring"} <= clashed
    assert log.chosen["name"] == "b" and log.chosen["company"] == "a"

    merging.undo(log.id, user_id=None, now=utcnow())

    db.session.expire_all()
    assert _history(a_id) == a_before
    assert _history(b_id) == b_before
    b = db.session.get(Lead, b_id)
    assert {c.name: getattr(b, c.name) for c in Lead.__table__.columns} == b_row
    a = db.session.get(Lead, a_id)
    a_now = {c.name: getattr(a, c.name) for c in Lead.__table__.columns}
    assert {k: v for k, v in a_now.items() if k not in ("updated_at", "score")} == {
        k: v for k, v in a_row.items() if k not in ("updated_at", "score")
    }
    assert db.session.get(LeadScoring, b_id) is not None
    assert db.session.get(LeadMerge, log.id).undone_at is not None


def test_rows_added_after_the_merge_stay_with_the_survivor(pair, whitepaper):
    a_id, b_id = pair
    log = merging.merge(a_id, b_id, chosen={}, user_id=None, now=utcnow())
    later = Download(lead_id=a_id, asset_id=whitepaper[1].id, created_at=utcnow())
    db.session.add(later)
    db.session.commit()
    merging.undo(log.id, user_id=None, now=utcnow())
    db.session.expire_all()
    assert db.session.get(Download, later.id).lead_id == a_id


def test_refusals(pair):
    a_id, b_id = pair
    with pytest.raises(merging.MergeRefused):
        merging.merge(a_id, a_id, chosen={}, user_id=None, now=utcnow())
    erased = db.session.get(Lead, b_id)
    erased.email = f"anonymised-{b_id}@anonymised.invalid"
    db.session.commit()
    with pytest.raises(merging.MergeRefused):
        merging.merge(a_id, b_id, chosen={}, user_id=None, now=utcnow())
    assert db.session.scalar(select(func.count()).select_from(LeadMerge)) == 0


def test_undo_refused_when_unsafe(pair):
    a_id, b_id = pair
    log = merging.merge(a_id, b_id, chosen={}, user_id=None, now=utcnow())
    a = db.session.get(Lead, a_id)
    a.company = "丙公司"  # edited after the merge: an undo would lose it
    db.session.commit()
    with pytest.raises(merging.MergeRefused):
        merging.undo(log.id, user_id=None, now=utcnow())
    a.company = "甲公司"
    db.session.commit()
    merging.undo(log.id, user_id=None, now=utcnow())
    with pytest.raises(merging.MergeRefused):
        merging.undo(log.id, user_id=None, now=utcnow())


def test_staff_merge_and_undo_from_the_lead_page(pair, login_as):
    a_id, b_id = pair
    client = login_as("sales")
    page = client.get(f"/admin/leads/{a_id}").get_data(as_text=True)
    assert f"/admin/leads/{a_id}/merge" in page
    found = client.get(f"/admin/leads/{a_id}/merge?q=13800138000").get_data(as_text=True)
    assert f"other={b_id}" in found
    compare = client.get(f"/admin/leads/{a_id}/merge?other={b_id}").get_data(as_text=True)
    assert 'name="keep_name"' in compare and 'name="keep_company"' in compare
    assert "王芳芳" in compare and "乙公司" in compare

    answer = client.post(
        f"/admin/leads/{a_id}/merge",
        data={"other": str(b_id), "confirm": "yes", "keep_company": "b"},
        follow_redirects=True,
    )
    assert answer.status_code == 200
    db.session.expire_all()
    assert db.session.get(Lead, b_id) is None
    assert db.session.get(Lead, a_id).company == "乙公司"
    log = db.session.scalar(select(LeadMerge))
    assert f"/admin/leads/merges/{log.id}/undo" in answer.get_data(as_text=True)
    [entry] = audit_entries("leads.merge")
    assert entry.target == f"lead:{a_id}" and entry.details["merged"] == b_id

    assert client.post(f"/admin/leads/merges/{log.id}/undo").status_code == 302
    db.session.expire_all()
    assert db.session.get(Lead, b_id).company == "乙公司"
    assert db.session.get(Lead, a_id).company == "甲公司"
    assert len(audit_entries("leads.merge_undo")) == 1


def test_merge_into_itself_is_refused_on_the_page(pair, login_as):
    a_id, _ = pair
    client = login_as("marketer")
    answer = client.post(
        f"/admin/leads/{a_id}/merge", data={"other": str(a_id), "confirm": "yes"}, follow_redirects=True
    )
    assert "线索不能合并到它自己。" in answer.get_data(as_text=True)
    assert db.session.get(Lead, a_id) is not None


@pytest.mark.parametrize("role", ["editor", "viewer"])
def test_other_roles_cannot_merge(pair, login_as, role):
    a_id, b_id = pair
    client = login_as(role)
    assert client.get(f"/admin/leads/{a_id}/merge").status_code in (302, 403)
    answer = client.post(f"/admin/leads/{a_id}/merge", data={"other": str(b_id), "confirm": "yes"})
    assert answer.status_code in (302, 403)
    db.session.expire_all()
    assert db.session.get(Lead, b_id) is not None


def test_erasing_the_person_drops_the_merge_snapshots(pair):
    from gated.privacy import erase_lead

    a_id, b_id = pair
    merging.merge(a_id, b_id, chosen={}, user_id=None, now=utcnow())
    assert erase_lead("wang@example.cn")
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(LeadMerge)) == 0
    assert db.session.get(Lead, a_id) is None


def test_scores_follow_the_events(pair, app):
    from insights.scoring.models import ScoreRule

    a_id, b_id = pair
    db.session.execute(delete(ScoreRule))
    db.session.add(ScoreRule(name="一次下载", kind="action", event_kind="download", points=7))
    db.session.commit()
    app.config["SCORING_RULES_TTL"] = 0
    downloads = {
        lead_id: db.session.scalar(
            select(func.count()).select_from(Event).where(Event.lead_id == lead_id, Event.kind == "download")
        )
        for lead_id in (a_id, b_id)
    }
    log = merging.merge(a_id, b_id, chosen={}, user_id=None, now=utcnow())
    db.session.expire_all()
    assert db.session.get(Lead, a_id).score == 7 * (downloads[a_id] + downloads[b_id])
    merging.undo(log.id, user_id=None, now=utcnow())
    db.session.expire_all()
    assert db.session.get(Lead, a_id).score == 7 * downloads[a_id]
    assert db.session.get(Lead, b_id).score == 7 * downloads[b_id]
