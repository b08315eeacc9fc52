"""Segments: every condition kind against leads made through the real services, nesting,
`not`, an empty segment, and rules that cannot be used (named where they are wrong, and
nothing saved). Run on SQLite and PostgreSQL."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from campaigns import audience, segments
from campaigns.models import Segment
from campaigns.rules import RuleError, clean_rules
from core.extensions import db
from gated.models import Lead
from gated.stages import change_stage
from insights.events import record
from insights.scoring.models import Handoff
from nurture import enrolment, sequences, tracking, worker
from nurture.models import Message
from tests.campaigns.conftest import NOW, asset, download, person
from tests.factories import UserFactory


def emails(rules, *, now=NOW) -> set[str]:
    clean = clean_rules(rules)
    found = {lead.email for lead in db.session.scalars(audience.members(clean, now=now))}
    assert audience.count(clean, now=now) == len(found)
    return found


def test_lead_fields(app):
    boss = person(
        "boss@factory.cn",
        company="华东精密制造",
        job_title="采购总监",
        role="decision_maker",
        utm_campaign="spring",
    )
    user = person("user@soft.cn", company="ACME Software", job_title="Engineer", role="user", consent="")
    person("asker@factory.cn", company="Acme Manufacturing", role="requester", now=NOW - timedelta(days=60))
    db.session.execute(update(Lead).where(Lead.id == boss.id).values(score=40))
    db.session.execute(update(Lead).where(Lead.id == user.id).values(score=5))
    db.session.commit()

    assert emails({"all": [{"field": "role", "op": "eq", "value": "decision_maker"}]}) == {"boss@factory.cn"}
    assert emails({"all": [{"field": "role", "op": "ne", "value": "decision_maker"}]}) == {
        "user@soft.cn",
        "asker@factory.cn",
    }
    # contains and eq ignore case; `in` takes a list.
    assert emails({"all": [{"field": "company", "op": "contains", "value": "acme"}]}) == {
        "user@soft.cn",
        "asker@factory.cn",
    }
    assert emails({"all": [{"field": "company", "op": "contains", "value": "制造"}]}) == {"boss@factory.cn"}
    assert emails({"all": [{"field": "role", "op": "in", "value": ["user", "requester"]}]}) == {
        "user@soft.cn",
        "asker@factory.cn",
    }
    assert emails({"all": [{"field": "job_title", "op": "exists"}]}) == {"boss@factory.cn", "user@soft.cn"}
    assert emails({"all": [{"field": "job_title", "op": "exists", "value": False}]}) == {"asker@factory.cn"}
    assert emails({"all": [{"field": "score", "op": "gte", "value": 10}]}) == {"boss@factory.cn"}
    assert emails({"all": [{"field": "score", "op": "lte", "value": 5}]}) == {
        "user@soft.cn",
        "asker@factory.cn",
    }
    assert emails({"all": [{"field": "consent", "op": "eq", "value": False}]}) == {"user@soft.cn"}
    assert emails({"all": [{"field": "first_campaign", "op": "eq", "value": "SPRING"}]}) == {
        "boss@factory.cn"
    }
    assert emails({"all": [{"field": "first_channel", "op": "eq", "value": "direct"}]}) == {
        "boss@factory.cn",
        "user@soft.cn",
        "asker@factory.cn",
    }
    assert emails({"all": [{"field": "created", "op": "gte", "value": "30d"}]}) == {
        "boss@factory.cn",
        "user@soft.cn",
    }
    assert emails({"all": [{"field": "created", "op": "lte", "value": "2026-10-01"}]}) == {"asker@factory.cn"}
    change_stage(user.id, "customer", now=NOW)
    assert emails({"all": [{"field": "stage", "op": "eq", "value": "customer"}]}) == {"user@soft.cn"}


def test_owner_is_the_sales_user_of_the_latest_hand_off(app):
    lead = person("handed@factory.cn")
    person("kept@factory.cn")
    first, second = (
        UserFactory(role="sales", email="wang@us.cn"),
        UserFactory(role="sales", email="zhao@us.cn"),
    )
    db.session.add_all(
        [
            Handoff(lead_id=lead.id, owner_id=first.id, created_at=NOW - timedelta(days=9)),
            Handoff(lead_id=lead.id, owner_id=second.id, created_at=NOW),
        ]
    )
    db.session.commit()
    assert emails({"all": [{"field": "owner", "op": "eq", "value": "zhao@us.cn"}]}) == {"handed@factory.cn"}
    assert emails({"all": [{"field": "owner", "op": "eq", "value": "wang@us.cn"}]}) == set()
    assert emails({"all": [{"field": "owner", "op": "exists", "value": False}]}) == {"kept@factory.cn"}


def test_downloads_forms_pages_searches_and_mql_within_a_window(app):
    paper, other = asset("renewal-paper"), asset("pricing-guide")
    recent, old, elsewhere = person("recent@a.cn"), person("old@a.cn"), person("elsewhere@a.cn")
    download(recent, paper, at=NOW - timedelta(days=3))
    download(old, paper, at=NOW - timedelta(days=45))
    download(elsewhere, other, at=NOW - timedelta(days=1))
    demo = person("demo@a.cn", form="demo", company="演示公司")
    record("page_view", lead_id=recent.id, path="/help/renewal/setup", at=NOW - timedelta(days=2))
    record("page_view", lead_id=old.id, path="/helpdesk", at=NOW - timedelta(days=2))
    record("search", lead_id=old.id, value="SaaS 续费率", at=NOW - timedelta(days=5))
    db.session.commit()
    change_stage(elsewhere.id, "mql", now=NOW - timedelta(days=1))

    assert emails({"all": [{"event": "download", "asset": "renewal-paper", "within": "30d"}]}) == {
        "recent@a.cn"
    }
    assert emails({"all": [{"event": "download", "asset": "renewal-paper"}]}) == {"recent@a.cn", "old@a.cn"}
    assert emails({"all": [{"event": "download", "within": "7d"}]}) == {"recent@a.cn", "elsewhere@a.cn"}
    assert emails({"all": [{"event": "download", "asset": "no-such-asset"}]}) == set()
    assert emails({"all": [{"event": "form_submit", "form": "demo"}]}) == {"demo@a.cn"}
    assert demo.email in emails({"all": [{"event": "form_submit", "within": "1d"}]})
    # A path is a prefix of what was visited: /help/ is not /helpdesk.
    assert emails({"all": [{"event": "page_view", "path": "/help/"}]}) == {"recent@a.cn"}
    assert emails({"all": [{"event": "search", "query": "saas", "within": "7d"}]}) == {"old@a.cn"}
    assert emails({"all": [{"event": "search", "query": "saas", "within": "1d"}]}) == set()
    assert emails({"all": [{"event": "mql", "within": "30d"}]}) == {"elsewhere@a.cn"}


def test_mails_sent_opened_and_clicked(app, smtp_sink, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_RATE_PER_SECOND", 0)
    sequence, _ = sequences.save_sequence(
        {
            "slug": "monthly",
            "name": "月刊",
            "status": "active",
            "steps": [{"delay": "0h", "subject": "十一月月刊", "body": "正文"}],
        },
        now=NOW,
    )
    readers = [person(f"reader{n}@a.cn") for n in range(3)]
    person("never@a.cn", consent="")
    enrolment.enroll([lead.id for lead in readers], sequence.id, now=NOW)
    worker.tick(NOW + timedelta(minutes=1), worker_name="test")
    smtp_sink.wait_for(3)
    mail = {m.lead_id: m.id for m in db.session.scalars(select(Message).where(Message.kind == "nurture"))}
    tracking.record_open(mail[readers[0].id], now=NOW + timedelta(hours=1))
    tracking.record_click(mail[readers[1].id], now=NOW + timedelta(hours=1))
    later = NOW + timedelta(days=1)

    sent = {"reader0@a.cn", "reader1@a.cn", "reader2@a.cn"}
    assert emails({"all": [{"event": "mail_sent", "mail": "monthly"}]}, now=later) == sent
    assert emails({"all": [{"event": "mail_open", "mail": "monthly", "within": "30d"}]}, now=later) == {
        "reader0@a.cn",
        "reader1@a.cn",  # a click is an open
    }
    assert emails({"all": [{"event": "mail_click"}]}, now=later) == {"reader1@a.cn"}
    assert emails({"all": [{"event": "mail_open", "mail": "another"}]}, now=later) == set()
    # Received last month's mail and did not open it.
    assert emails(
        {
            "all": [
                {"event": "mail_sent", "mail": "monthly", "within": "30d"},
                {"not": [{"event": "mail_open", "within": "30d"}]},
            ]
        },
        now=later,
    ) == {"reader2@a.cn"}


def test_decision_makers_in_manufacturing_who_downloaded_and_did_not_open(app):
    """The issue's example audience, with `any` nested in `all` and `not`."""
    paper = asset("renewal-paper")
    wanted = person("wanted@mfg.cn", company="华东制造", role="decision_maker")
    by_title = person("title@mfg.cn", company="Acme Manufacturing", job_title="CEO")
    opened = person("opened@mfg.cn", company="华东制造", role="decision_maker")
    no_download = person("nodl@mfg.cn", company="华东制造", role="decision_maker")
    not_mfg = person("soft@soft.cn", company="软件公司", role="decision_maker")
    for lead in (wanted, by_title, opened, not_mfg):
        download(lead, paper, at=NOW - timedelta(days=2))
    record("mail_open", lead_id=opened.id, at=NOW - timedelta(days=1))  # the event alone is not an open
    db.session.commit()
    db.session.add(
        Message(
            kind="nurture",
            lead_id=opened.id,
            to_address=opened.email,
            status="sent",
            sent_at=NOW - timedelta(days=5),
            opened_at=NOW - timedelta(days=4),
        )
    )
    db.session.commit()

    rules = {
        "all": [
            {
                "any": [
                    {"field": "role", "op": "eq", "value": "decision_maker"},
                    {"field": "job_title", "op": "in", "value": ["CEO", "CTO"]},
                ]
            },
            {
                "any": [
                    {"field": "company", "op": "contains", "value": "制造"},
                    {"field": "company", "op": "contains", "value": "manufactur"},
                ]
            },
            {"event": "download", "asset": "renewal-paper", "within": "30d"},
            {"not": [{"event": "mail_open", "within": "30d"}]},
        ]
    }
    assert emails(rules) == {"wanted@mfg.cn", "title@mfg.cn"}
    assert no_download.email not in emails(rules)


def test_not_keeps_leads_with_nothing_recorded(app):
    person("quiet@a.cn")
    assert emails({"not": [{"field": "last_touch", "op": "lte", "value": "30d"}]}) == {"quiet@a.cn"}
    assert emails({"not": [{"event": "download"}, {"event": "page_view"}]}) == {"quiet@a.cn"}


def test_a_segment_that_matches_nobody_counts_zero(app):
    person("one@a.cn")
    shown = segments.preview({"all": [{"field": "company", "op": "eq", "value": "无此公司"}]}, now=NOW)
    assert (shown.count, shown.sample) == (0, [])


def test_the_preview_shows_ten_members_oldest_first(app):
    for n in range(12):
        person(f"p{n:02d}@a.cn")
    shown = segments.preview({"all": [{"field": "email", "op": "contains", "value": "@a.cn"}]}, now=NOW)
    assert shown.count == 12
    assert [lead.email for lead in shown.sample] == [f"p{n:02d}@a.cn" for n in range(10)]


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"all": [{"field": "compnay", "op": "eq", "value": "x"}]}, "rules.all[0].field: "),
        ({"all": [{"field": "score", "op": "contains", "value": 1}]}, "rules.all[0].op: "),
        ({"all": [{"field": "score", "op": "gte", "value": "many"}]}, "rules.all[0].value: "),
        ({"all": [{"event": "downloaded"}]}, "rules.all[0].event: "),
        ({"all": [{"event": "download", "path": "/x"}]}, "rules.all[0]: "),
        ({"all": [{"event": "download", "within": "a month"}]}, "rules.all[0].within: "),
        ({"all": [{"any": []}]}, "rules.all[0].any: "),
        ({"some": []}, "rules: "),
        (
            {"all": [{"not": [{"all": [{"any": [{"not": [{"event": "mql"}]}]}]}]}]},
            "rules.all[0].not[0].all[0].any[0]: ",
        ),
        ({"all": ["role is boss"]}, "rules.all[0]: "),
        ({"all": [{"field": "role", "op": "in", "value": []}]}, "rules.all[0].value: "),
        ({"all": [{"field": "created", "op": "gte", "value": "last year"}]}, "rules.all[0].value: "),
        # Values of a closed list, and details naming what does not exist, can never match.
        ({"all": [{"field": "stage", "op": "eq", "value": "mq"}]}, "rules.all[0].value: "),
        ({"all": [{"field": "role", "op": "in", "value": ["user", "boss"]}]}, "rules.all[0].value[1]: "),
        ({"all": [{"field": "last_channel", "op": "ne", "value": "wechat"}]}, "rules.all[0].value: "),
        ({"all": [{"field": "locale", "op": "eq", "value": "zh"}]}, "rules.all[0].value: "),
        ({"all": [{"event": "form_submit", "form": "contact"}]}, "rules.all[0].form: "),
    ],
)
def test_rules_that_cannot_be_used_are_named_and_nothing_is_saved(app, rules, message):
    with pytest.raises(segments.SegmentError) as caught:
        segments.save_segment({"slug": "bad", "name": "坏", "rules": rules}, now=NOW)
    [line] = caught.value.errors["rules"]
    assert line.startswith(message)
    assert db.session.scalar(select(func.count()).select_from(Segment)) == 0
    with pytest.raises(RuleError):
        segments.preview(rules, now=NOW)


def test_a_closed_list_takes_its_code_in_any_case_or_its_words_and_names_the_choices(app):
    rules = {
        "all": [
            {"field": "stage", "op": "eq", "value": "MQL"},
            {"field": "role", "op": "in", "value": ["决策者", "user"]},
            {"field": "stage", "op": "contains", "value": "q"},  # a part of a code: not checked
        ]
    }
    assert clean_rules(rules)["all"][:2] == [
        {"field": "stage", "op": "eq", "value": "mql"},
        {"field": "role", "op": "in", "value": ["decision_maker", "user"]},
    ]
    with pytest.raises(RuleError) as caught:
        clean_rules({"all": [{"field": "stage", "op": "eq", "value": "hot"}]})
    [(where, message)] = caught.value.problems
    assert where == "all[0].value" and "“hot”" in message
    assert "市场认可线索（MQL）" in message and "customer（客户）" in message


def test_every_problem_is_listed_at_once(app):
    with pytest.raises(segments.SegmentError) as caught:
        segments.save_segment(
            {"slug": "bad slug!", "rules": {"all": [{"field": "x"}, {"event": "y"}]}}, now=NOW
        )
    assert set(caught.value.errors) == {"slug", "rules"}
    assert len(caught.value.errors["rules"]) == 2


def test_saving_again_by_slug_updates_or_leaves_unchanged(app):
    data = {
        "slug": "boss",
        "name": "决策者",
        "rules": {"all": [{"field": "role", "op": "eq", "value": "decision_maker"}]},
    }
    assert segments.save_segment(data, now=NOW)[1] == "created"
    assert segments.save_segment(data, now=NOW)[1] == "unchanged"
    data["rules"]["all"][0]["value"] = "user"
    segment, outcome = segments.save_segment(data, now=NOW)
    assert outcome == "updated"
    assert segment.rules == data["rules"]
