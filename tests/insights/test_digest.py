"""The weekly digest: its figures against the week before, who gets it, what the mail
says once the worker delivered it."""

from datetime import datetime, timedelta

from content.search.models import SearchQuery
from core.extensions import db
from gated.models import Lead
from insights.digest import figures, send_digest
from insights.events import record
from insights.models import SentDigest
from nurture.models import Message
from tests.conftest import assert_staff_mail
from tests.factories import UserFactory
from tests.insights.conftest import article_to_visit

NOW = datetime(2026, 11, 23, 7, 0)  # a Monday morning: the week is Nov 16-22


def week_data():
    article_to_visit("saas-renewal", kind="whitepaper", title="续费白皮书")
    this_week, last_week = datetime(2026, 11, 17, 10), datetime(2026, 11, 10, 10)
    leads = [
        Lead(email="a@example.cn", first_channel="paid_search", created_at=this_week),
        Lead(email="b@example.cn", first_channel="paid_search", created_at=this_week),
        Lead(email="c@example.cn", first_channel="social", created_at=this_week),
        Lead(email="d@example.cn", first_channel="paid_search", created_at=last_week),
    ]
    db.session.add_all(leads)
    db.session.flush()
    for lead in leads[:3]:
        record("form_submit", lead_id=lead.id, path="/library/saas-renewal", value="whitepaper", at=this_week)
    record("stage_change", lead_id=leads[0].id, value="new>mql", at=this_week)
    record("stage_change", lead_id=leads[3].id, value="new>mql", at=last_week)
    record("stage_change", lead_id=leads[3].id, value="engaged>mql", at=last_week)
    db.session.add(SearchQuery(query="私有化部署", normalised="私有化部署", results=0, created_at=this_week))
    db.session.add(
        SearchQuery(query="old", normalised="old", results=0, created_at=last_week - timedelta(days=3))
    )
    db.session.commit()


def test_the_digest_compares_the_week_with_the_one_before(app):
    week_data()
    digest = figures(now=NOW)
    assert (digest["since"], digest["until"]) == ("2026-11-16", "2026-11-22")
    assert digest["leads"] == {"now": 3, "before": 1, "delta": 2}
    assert digest["mqls"] == {"now": 1, "before": 2, "delta": -1}
    assert digest["channels"][0] == {"channel": "paid_search", "now": 2, "before": 1, "delta": 1}
    assert digest["content"][0]["title"] == "续费白皮书" and digest["content"][0]["leads"] == 3
    assert digest["searches"] == [{"query": "私有化部署", "searches": 1}]


def test_marketers_and_admins_get_it_through_the_mail_queue(app, runner, smtp_sink):
    week_data()
    marketer = UserFactory(role="marketer", email="m@example.com")
    UserFactory(role="admin", email="boss@example.com")
    UserFactory(role="editor", email="e@example.com")
    UserFactory(role="marketer", email="gone@example.com", active=False)
    assert send_digest(now=NOW) == (2, 0)
    queued = db.session.query(Message).order_by(Message.id).all()
    assert [m.to_address for m in queued] == [marketer.email, "boss@example.com"]
    assert all(m.lead_id is None and m.kind == "staff" for m in queued)

    result = runner.invoke(args=["nurture", "tick"])
    assert result.exit_code == 0, result.output
    mails = smtp_sink.wait_for(2)
    assert len(mails) == 2
    text = mails[0].get_body(preferencelist=("plain",)).get_content()
    assert "续费白皮书" in text and "私有化部署" in text
    assert "3" in mails[0]["Subject"] and "2026-11-16" in mails[0]["Subject"]
    assert_staff_mail(mails[0], "您是 Lodestar 的市场人员或管理员")


def test_the_command_queues_it(app, runner):
    UserFactory(role="marketer")
    result = runner.invoke(args=["insights", "digest", "--now", "2026-11-23T07:00:00"])
    assert result.exit_code == 0 and "digests queued: 1, already sent this week: 0" in result.output
    assert runner.invoke(args=["insights", "digest", "--now", "yesterday"]).exit_code != 0


def test_the_digest_goes_once_per_address_and_week_unless_forced(app, runner):
    UserFactory(role="marketer", email="m@example.com")
    digest = ["insights", "digest", "--now", "2026-11-23T07:00:00"]
    assert "digests queued: 1," in runner.invoke(args=digest).output
    # Again on Wednesday of the same week: nothing more, and a newcomer gets theirs.
    UserFactory(role="admin", email="new@example.com")
    result = runner.invoke(args=["insights", "digest", "--now", "2026-11-25T07:00:00"])
    assert result.exit_code == 0 and "digests queued: 1, already sent this week: 1" in result.output
    assert sorted(m.to_address for m in db.session.query(Message)) == ["m@example.com", "new@example.com"]
    forced = runner.invoke(args=[*digest, "--force"])
    assert forced.exit_code == 0 and "digests queued: 2, already sent this week: 0" in forced.output
    assert send_digest(now=NOW + timedelta(days=7)) == (2, 0)  # the next week
    assert db.session.query(Message).count() == 6
    assert db.session.query(SentDigest).count() == 4


def test_the_rollup_command(app, runner):
    record("page_view", path="/help/", visit_seq=1, at=datetime(2026, 11, 20, 10))
    db.session.commit()
    result = runner.invoke(args=["insights", "rollup", "--now", "2026-11-23T07:00:00", "--no-prune"])
    assert result.exit_code == 0 and "days rolled up: 3, raw events pruned: 0" in result.output
