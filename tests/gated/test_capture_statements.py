"""The statements of a white-paper form POST, a guard against the capture growing back:
one INSERT per row it writes, no SELECT of what it knows already (the white paper and its
asset are remembered, the submission comes back from its INSERT), and the visitor's
history stitched to the lead by every form, so views written late still join it."""

from sqlalchemy import event, func, select

from core.extensions import db
from gated.models import Consent, Lead, Submission
from insights.models import Event
from insights.tracking import VISITOR_COOKIE
from nurture.models import Message
from tests.core import test_pagecache
from tests.gated.conftest import form_data, make_whitepaper

# The page-cached app of the cache's tests: the white paper behind a form is remembered.
cached_app, cached = test_pagecache.cached_app, test_pagecache.cached


def statements_of(client, data) -> list[str]:
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert client.post("/library/saas-renewal", data=data).status_code == 303
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return statements


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
    statements = statements_of(visitor(cached, "b" * 32), form_data(email="new@example.com"))

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
    make_whitepaper()
    client = visitor(cached, "c" * 32)
    assert client.post("/library/saas-renewal", data=form_data()).status_code == 303  # sets the lead cookie
    first = db.session.scalar(select(Lead.id))
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
