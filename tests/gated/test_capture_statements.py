"""The statements of a white-paper form POST, a guard against the capture growing back:
one INSERT per row it writes, no SELECT of what it knows already (the white paper and its
asset are remembered, the submission comes back from its INSERT), the visitor's history
stitched to the lead by every form, so views written late still join it, and lead scoring
at a few statements: its rules kept per process (a change made elsewhere counts within
SCORING_RULES_TTL), the lead's state read at most once, its writes one statement each."""

import pytest
from sqlalchemy import func, select

from core.extensions import db
from gated.models import Consent, Lead, Submission
from insights.models import Event
from insights.scoring import rules
from insights.scoring.models import LeadScoring, ScoreChange, ScoreRule
from insights.tracking import VISITOR_COOKIE
from nurture.models import Message
from tests.conftest import recorded_statements
from tests.factories import ScoreRuleFactory, form_data, make_whitepaper, open_mailed_link


def statements_of(client, data) -> list[str]:
    """The statements of one white-paper form POST (a 303: stored and thanked)."""
    with recorded_statements() as sent:
        assert client.post("/library/saas-renewal", data=data).status_code == 303
    return sent


def starting(statements, prefix) -> list[str]:
    return [sql for sql in statements if sql.startswith(prefix)]


def visitor(app, visitor_id):
    client = app.test_client()
    client.set_cookie(VISITOR_COOKIE, visitor_id)
    return client


def test_a_new_visitor_s_post_writes_each_row_once_and_reads_nothing_back(cached):
    make_whitepaper()
    assert visitor(cached, "a" * 32).post("/library/saas-renewal", data=form_data()).status_code == 303

    # (Without consent: nurture's enrolment, which reads the asset, is not ours to count.)
    statements = statements_of(
        visitor(cached, "b" * 32), form_data(email="new@example.com", phone="139 0013 9000")
    )

    for table in ("leads", "submissions", "consents", "messages", "insight_events"):
        assert len(starting(statements, f"INSERT INTO {table} ")) == 1, table
    assert not [sql for sql in statements if "articles.body_html" in sql]  # the white paper is remembered
    for table in ("assets", "leads", "submissions", "consents"):
        assert not [
            sql for sql in statements if sql.startswith("SELECT") and f" FROM {table} " in f"{sql} "
        ], table
    assert len(starting(statements, "UPDATE insight_events ")) == 1  # the new visitor's stitching
    db.session.rollback()
    lead = db.session.scalar(select(Lead).where(Lead.email == "new@example.com"))
    submission = db.session.scalar(select(Submission).where(Submission.lead_id == lead.id))
    assert submission.asset_id is not None and submission.channel == "paid_search"
    consent = db.session.scalar(select(Consent).where(Consent.lead_id == lead.id))
    assert not consent.granted and consent.submission_id == submission.id
    assert db.session.scalar(select(func.count()).select_from(Message).where(Message.lead_id == lead.id)) == 1


def test_views_written_after_the_first_form_are_stitched_by_the_next(cached):
    _, asset = make_whitepaper()
    client = visitor(cached, "c" * 32)
    assert client.post("/library/saas-renewal", data=form_data()).status_code == 303
    first = db.session.scalar(select(Lead.id))
    open_mailed_link(client, first, asset.id)  # the lead's cookie: its next form is proven
    # A view made before that form, flushed anonymously by another worker after its stitch.
    late = Event(kind="page_view", visitor_id="c" * 32, path="/pricing")
    db.session.add(late)
    db.session.commit()

    again = statements_of(client, form_data())
    assert len(starting(again, "UPDATE insight_events ")) == 1
    db.session.rollback()
    assert db.session.get(Event, late.id).lead_id == first
    forms = db.session.scalars(select(Event.lead_id).where(Event.kind == "form_submit")).all()
    assert forms == [first, first]


# -- lead scoring ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def scoring_app(make_app):
    """An app as in production: page cache and the rules' copy kept for an hour (another
    process's change shows when the copy is older than that), no hand-off to count."""
    return make_app(
        PAGE_CACHE_ENABLED=True, PAGE_CACHE_TTL=3600, SCORING_RULES_TTL=3600, SCORING_MQL_THRESHOLD=1000
    )


@pytest.fixture
def scored(scoring_app, app):
    scoring_app.extensions["lodestar.pagecache"].invalidate()
    rules.rule_cache(scoring_app).invalidate()  # the tables were emptied behind its back
    with scoring_app.app_context():
        make_whitepaper()
        ScoreRuleFactory(
            name="白皮书", event_kind="form_submit", field="value", pattern="whitepaper", points=20
        )
        ScoreRuleFactory(name="决策者", kind="fit", field="role", pattern="decision_maker", points=15)
        yield scoring_app


def scoring_statements(statements) -> dict[str, int]:
    """Lead scoring's statements of a POST by what they do."""
    kinds = {
        "rules read": lambda sql: sql.startswith("SELECT") and " FROM score_rules" in sql,
        "state read": lambda sql: sql.startswith("SELECT") and " FROM lead_scoring" in sql,
        "fit given read": lambda sql: sql.startswith("SELECT") and " FROM score_changes" in sql,
        "earlier events read": lambda sql: sql.startswith("SELECT") and " FROM insight_events" in sql,
        "changes written": lambda sql: sql.startswith("INSERT INTO score_changes "),
        "state written": lambda sql: sql.startswith(("INSERT INTO lead_scoring ", "UPDATE lead_scoring ")),
        "score written": lambda sql: sql.startswith("UPDATE leads SET score="),
    }
    counts = {name: len([sql for sql in statements if test(sql)]) for name, test in kinds.items()}
    return {name: count for name, count in counts.items() if count}


def score_of(email) -> int:
    db.session.rollback()
    return db.session.scalar(select(Lead.score).where(func.lower(Lead.email) == email))


def test_a_new_lead_is_scored_in_four_statements_without_reading_rules_or_its_state(scored):
    assert visitor(scored, "d" * 32).post("/library/saas-renewal", data=form_data()).status_code == 303

    statements = statements_of(
        visitor(scored, "e" * 32), form_data(email="new@example.com", phone="139 0013 9000")
    )

    # The visitor's earlier anonymous events, then all of the score's changes (the fit and
    # the form), the state and the score written once each.
    assert scoring_statements(statements) == {
        "earlier events read": 1,
        "changes written": 1,
        "state written": 1,
        "score written": 1,
    }
    assert score_of("new@example.com") == 15 + 20
    lead = db.session.scalar(select(Lead).where(Lead.email == "new@example.com"))
    changes = db.session.scalars(select(ScoreChange).where(ScoreChange.lead_id == lead.id)).all()
    assert sorted((change.reason, change.points) for change in changes) == [("决策者", 15), ("白皮书", 20)]
    assert all(change.rule_id is not None for change in changes)
    assert db.session.get(LeadScoring, lead.id).last_activity_at is not None


def test_a_known_lead_s_state_and_fit_are_read_once(scored):
    client = visitor(scored, "f" * 32)
    assert client.post("/library/saas-renewal", data=form_data()).status_code == 303

    statements = statements_of(client, form_data())

    assert scoring_statements(statements) == {
        "state read": 1,
        "fit given read": 1,
        "earlier events read": 1,
        "changes written": 1,
        "state written": 1,
        "score written": 1,
    }
    assert score_of("wang.fang@example.com") == 15 + 20 + 20


def test_a_rule_changed_by_another_process_counts_once_the_copy_is_older_than_the_ttl(scored, app):
    assert visitor(scored, "1" * 32).post("/library/saas-renewal", data=form_data(email="a@example.com"))
    assert score_of("a@example.com") == 35

    with app.app_context():  # another process on the same database
        changed = db.session.scalar(select(ScoreRule).where(ScoreRule.kind == "action"))
        changed.points = 40
        db.session.commit()

    # Within the TTL this process keeps its copy, without reading the rules.
    statements = statements_of(visitor(scored, "2" * 32), form_data(email="b@example.com"))
    assert "rules read" not in scoring_statements(statements)
    assert score_of("b@example.com") == 35

    scored.config["SCORING_RULES_TTL"] = 0  # as if an hour had passed
    try:
        statements = statements_of(visitor(scored, "3" * 32), form_data(email="c@example.com"))
    finally:
        scored.config["SCORING_RULES_TTL"] = 3600
    assert scoring_statements(statements)["rules read"] == 1
    assert score_of("c@example.com") == 15 + 40
    statements = statements_of(visitor(scored, "4" * 32), form_data(email="d@example.com"))
    assert "rules read" not in scoring_statements(statements)  # the new copy is kept again
    assert score_of("d@example.com") == 15 + 40


def test_a_rule_saved_in_this_process_counts_at_once(scored):
    assert visitor(scored, "5" * 32).post("/library/saas-renewal", data=form_data(email="a@example.com"))
    rule = db.session.scalar(select(ScoreRule).where(ScoreRule.kind == "action"))
    rules.save_rule(
        rule,
        {
            "name": "白皮书",
            "kind": "action",
            "event_kind": "form_submit",
            "field": "value",
            "pattern": "whitepaper",
            "points": "7",
            "active": True,
        },
    )
    fit = db.session.scalar(select(ScoreRule).where(ScoreRule.kind == "fit"))
    db.session.delete(fit)
    db.session.commit()

    statements = statements_of(visitor(scored, "6" * 32), form_data(email="b@example.com"))
    assert scoring_statements(statements)["rules read"] == 1
    assert score_of("b@example.com") == 7
    statements = statements_of(visitor(scored, "7" * 32), form_data(email="c@example.com"))
    assert "rules read" not in scoring_statements(statements)
    assert score_of("c@example.com") == 7


def test_a_rule_deleted_by_another_process_within_the_ttl_does_not_fail_the_form(scored, app):
    assert visitor(scored, "8" * 32).post("/library/saas-renewal", data=form_data(email="a@example.com"))
    with app.app_context():
        db.session.delete(db.session.scalar(select(ScoreRule).where(ScoreRule.kind == "action")))
        db.session.commit()

    statements_of(visitor(scored, "9" * 32), form_data(email="b@example.com"))  # 303, not a 500

    assert score_of("b@example.com") == 35  # this process's copy, as documented
    lead_id = db.session.scalar(select(Lead.id).where(Lead.email == "b@example.com"))
    kept = db.session.scalars(select(ScoreChange).where(ScoreChange.lead_id == lead_id)).all()
    assert sorted((change.reason, change.rule_id is None) for change in kept) == [
        ("决策者", False),
        ("白皮书", True),
    ]
