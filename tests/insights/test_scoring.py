"""Lead scoring: rules, decay, rescore equal to the incremental score, the MQL hand-off
(mail through a real tick to the SMTP sink, webhook to a real HTTP receiver), sales'
accept/reject, the dormant pool and its return, role checks and the rule editor's input."""

import hashlib
import hmac
import json
import re
from datetime import datetime, timedelta

from sqlalchemy import select

from core.extensions import db
from core.localtime import local_today, site_zone
from core.timeutil import utcnow
from gated.models import Lead
from insights import stages
from insights.events import record
from insights.scoring import dormant, engine
from insights.scoring.models import Handoff, LeadScoring, ScoreChange, ScoreRule
from nurture.models import Enrollment, Message
from tests.conftest import WEBHOOK_SECRET as SECRET
from tests.conftest import assert_staff_mail, mail_texts
from tests.factories import SCORING_RULE_FORM, ScoreRuleFactory, UserFactory

T0 = datetime(2026, 11, 2, 9, 0)


def rule(name, points, *, kind="action", event_kind="", field="", pattern="", cap=0):
    return ScoreRuleFactory(
        name=name,
        kind=kind,
        event_kind=event_kind,
        field=field,
        pattern=pattern,
        points=points,
        daily_cap=cap,
    )


def lead(email="li@acme.cn", **fields):
    made = Lead(email=email, name=fields.pop("name", "李雷"), company=fields.pop("company", "Acme"), **fields)
    db.session.add(made)
    db.session.commit()
    return made


def event(kind, who, at, **fields):
    recorded = record(kind, lead_id=who.id, at=at, **fields)
    db.session.commit()
    return recorded


def standard_rules():
    rule("下载资料", 10, event_kind="download")
    rule("价格页", 15, event_kind="page_view", field="path", pattern="/pricing")
    rule("浏览", 1, event_kind="page_view", cap=3)
    rule("预约演示", 30, event_kind="form_submit", field="value", pattern="demo")
    rule("退订", -20, event_kind="unsubscribe")
    rule("决策者", 15, kind="fit", field="role", pattern="decision_maker")
    rule("免费邮箱", -10, kind="fit", field="email_domain", pattern="qq.com, 163.com")


def test_action_and_fit_rules_with_a_daily_cap(app):
    standard_rules()
    boss = lead(role="decision_maker")
    event("page_view", boss, T0, path="/pricing/")  # 15 + 1, and the fit rule (15) first
    for minute in range(5):
        event("page_view", boss, T0 + timedelta(minutes=minute + 1), path="/blog/x")
    event("download", boss, T0 + timedelta(hours=1), ref_id=3)
    event("page_view", boss, T0 + timedelta(days=1), path="/blog/y")  # a new day, a new cap
    assert boss.score == 15 + 16 + 2 + 10 + 1
    reasons = {r["reason"]: (r["points"], r["times"]) for r in engine.reasons(boss.id)}
    assert reasons["浏览"] == (4, 4) and reasons["决策者"] == (15, 1) and reasons["价格页"] == (15, 1)

    free = lead("x@qq.com", role="user")
    event("form_submit", free, T0, value="whitepaper")
    assert free.score == -10
    event("unsubscribe", free, T0 + timedelta(hours=1))
    assert free.score == -30


def test_decay_after_inactivity_never_below_zero(app):
    rule("下载资料", 12, event_kind="download")
    someone = lead()
    event("download", someone, T0)
    assert dormant.sweep(now=T0 + timedelta(days=13)) == {"decayed": 0, "dormant": 0}
    assert dormant.sweep(now=T0 + timedelta(days=14)) == {"decayed": 1, "dormant": 0}
    assert db.session.get(Lead, someone.id).score == 7
    event("download", someone, T0 + timedelta(days=29))  # one more step due before the points
    assert someone.score == 2 + 12
    dormant.sweep(now=T0 + timedelta(days=29 + 14 * 5))
    assert db.session.get(Lead, someone.id).score == 0
    assert db.session.scalars(select(ScoreChange.points).where(ScoreChange.reason == "decay")).all() == [
        -5,
        -5,
        -14,
    ]


def test_rescore_equals_the_incremental_score(app, monkeypatch, runner):
    standard_rules()
    people = [
        lead(f"p{n}@{'qq.com' if n % 2 else 'acme.cn'}", role="decision_maker" if n % 3 == 0 else "user")
        for n in range(4)
    ]
    for n, person in enumerate(people):
        for day in range(0, 40, 7 + n):
            event(
                "page_view", person, T0 + timedelta(days=day, minutes=n), path="/pricing" if day % 2 else "/b"
            )
            event("page_view", person, T0 + timedelta(days=day, minutes=n + 1), path="/b")
        if n % 2:
            event("unsubscribe", person, T0 + timedelta(days=41))
    now = T0 + timedelta(days=70)
    dormant.sweep(now=now)
    monkeypatch.setitem(app.config, "SCORING_MQL_THRESHOLD", 10_000)  # no hand-off muddles the comparison
    before = {
        p.id: (
            p.score,
            sorted(db.session.scalars(select(ScoreChange.points).where(ScoreChange.lead_id == p.id))),
        )
        for p in people
    }
    db.session.execute(ScoreChange.__table__.update().values(points=99))
    db.session.execute(Lead.__table__.update().values(score=-1))
    db.session.commit()

    result = runner.invoke(args=["leads", "rescore", "--now", now.isoformat()])
    assert result.exit_code == 0, result.output
    assert "leads rescored: 4" in result.output
    db.session.expire_all()
    after = {
        p.id: (
            db.session.get(Lead, p.id).score,
            sorted(db.session.scalars(select(ScoreChange.points).where(ScoreChange.lead_id == p.id))),
        )
        for p in people
    }
    assert after == before
    assert any(score > 0 for score, _changes in after.values())


def test_crossing_the_threshold_hands_the_lead_to_sales(app, monkeypatch, runner, smtp_sink, receiver):
    monkeypatch.setitem(app.config, "SCORING_MQL_THRESHOLD", 40)
    standard_rules()
    first = UserFactory(role="sales", email="s1@example.com")
    second = UserFactory(role="sales", email="s2@example.com")
    UserFactory(role="sales", email="off@example.com", active=False)
    hot = lead(role="decision_maker", stage="engaged", job_title="CTO")
    event("page_view", hot, T0, path="/pricing")
    assert hot.stage == "engaged"
    event("form_submit", hot, T0 + timedelta(minutes=5), value="demo")
    assert hot.stage == "mql"
    handoff = db.session.scalars(select(Handoff)).one()
    assert handoff.owner_id == first.id and handoff.score == hot.score == 15 + 16 + 30

    other = lead("wang@acme.cn", role="decision_maker")
    event("form_submit", other, T0, value="demo")
    assert db.session.scalars(select(Handoff.owner_id).order_by(Handoff.id)).all() == [first.id, second.id]
    event("download", hot, T0 + timedelta(hours=1))  # already an MQL: no second hand-off
    assert db.session.query(Handoff).count() == 2

    result = runner.invoke(args=["nurture", "tick"])
    assert result.exit_code == 0, result.output
    mails = smtp_sink.wait_for(2)
    mine = next(m for m in mails if m["To"] == first.email)
    text, html = mail_texts(mine)
    assert "李雷" in mine["Subject"] and "61" in mine["Subject"]
    assert "/pricing" in text and "预约演示" in text and "+30" in text and f"/admin/leads/{hot.id}" in text
    # Sales accept or return a lead on the desk: the mail opens it at this hand-off's card,
    # and still links the lead's page for the whole story.
    desk = f"http://localhost/admin/scoring/handoffs#handoff-{handoff.id}"
    assert f"在移交工作台接受或退回该线索：{desk}\n" in text
    assert f"线索详情页：http://localhost/admin/leads/{hot.id}" in text
    assert re.search(rf'<a href="{re.escape(desk)}"[^>]*>在移交工作台接受或退回该线索</a>', html)
    assert re.search(rf'<a href="http://localhost/admin/leads/{hot.id}"[^>]*>线索详情页</a>', html)
    assert "接受或拒绝" not in text + html
    # Chinese brackets in Chinese text: around the company, after each reason's points.
    for body in (text, html):
        assert "李雷（Acme）已成为市场合格线索（MQL）" in body
        reasons = body.split("评分 61，原因：")[1].split("在移交工作台")[0]
        assert "预约演示：+30（× 1）" in reasons and "(" not in reasons and ")" not in reasons

    events = {}
    for headers, body in receiver.requests:
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-Lodestar-Signature"] == expected
        payload = json.loads(body)
        events.setdefault(payload["event"], []).append(payload)
    handed = [p for p in events["lead.handed_off"] if p["lead"]["id"] == hot.id][0]
    assert handed["owner"]["email"] == first.email and handed["lead"]["stage"] == "mql"
    assert {"reason": "预约演示", "points": 30} in handed["reasons"]
    assert any(p["new_stage"] == "mql" for p in events["lead.stage_changed"])


def test_sales_read_what_the_prospect_wrote_in_the_demo_request(
    app, monkeypatch, client, login_as, runner, smtp_sink
):
    """The message of a demo request reaches sales: in the hand-off mail (a staff mail:
    why they get it, nothing meant for prospects), the hand-off list and the lead's page."""
    from tests.conftest import mail_texts
    from tests.factories import form_data

    monkeypatch.setitem(app.config, "SCORING_MQL_THRESHOLD", 40)
    standard_rules()
    sales = login_as("sales", email="sales@example.com")
    wrote = "想了解续费预测模块，团队 30 人。\n下周二下午方便。"
    response = client.post("/demo-request", data=form_data(email="li.lei@example.cn", message=wrote))
    assert response.status_code == 303
    someone = db.session.scalars(select(Lead)).one()
    assert someone.stage == "mql"  # 30 for the demo request, 15 for a decision maker

    assert runner.invoke(args=["nurture", "tick"]).exit_code == 0
    mails = smtp_sink.wait_for(2)
    handoff_mail = next(m for m in mails if m["To"] == "sales@example.com")
    text, html = mail_texts(handoff_mail)
    assert "对方留言：\n想了解续费预测模块，团队 30 人。\n下周二下午方便。" in text
    assert "想了解续费预测模块，团队 30 人。<br>下周二下午方便。" in html
    assert_staff_mail(handoff_mail, "您在 Lodestar 负责销售，这条线索已分配给您")
    prospect_mail = next(m for m in mails if m["To"] == "li.lei@example.cn")
    assert prospect_mail["List-Unsubscribe"] is not None  # the prospect's mail keeps its footer

    listed = sales.get("/admin/scoring/handoffs").get_data(as_text=True)
    assert "想了解续费预测模块，团队 30 人。" in listed
    # The mail's link to accept or return opens the desk at this lead's card, which holds
    # the buttons that do it.
    handoff = db.session.scalars(select(Handoff)).one()
    assert f"/admin/scoring/handoffs#handoff-{handoff.id}" in text
    card = listed[listed.index(f'id="handoff-{handoff.id}"') :].split("</article>")[0]
    assert f'action="/admin/scoring/handoffs/{handoff.id}"' in card
    assert 'value="accepted"' in card and 'value="rejected"' in card
    # The page the mail links to is the lead's one page, with its score section.
    page = sales.get(f"/admin/leads/{someone.id}").get_data(as_text=True)
    assert "对方留言" in page and "想了解续费预测模块，团队 30 人。" in page


def test_the_hand_off_mail_keeps_half_width_brackets_in_english(app):
    """Chinese brackets are the Chinese mail's: the English one writes its own."""
    from insights.scoring.handoff import HANDOFF_TEMPLATE, desk_url, story
    from nurture.compose import compose_staff

    rule("Demo request", 30, event_kind="form_submit", field="value", pattern="demo")
    someone = lead(name="Li Lei", company="Acme")
    event("form_submit", someone, T0, value="demo")
    context = {
        **story(someone),
        "lead_url": f"http://localhost/admin/leads/{someone.id}",
        "desk_url": desk_url(7),
    }
    mail = compose_staff(HANDOFF_TEMPLATE, context, locale="en")
    for body in (mail.text, mail.html):
        assert "Li Lei (Acme) has become a marketing-qualified lead" in body
        assert "Demo request: +30 (× 1)" in body
        assert "（" not in body and "）" not in body
    assert "http://localhost/admin/scoring/handoffs#handoff-7" in mail.text


def make_handoff(owner, email="li@acme.cn"):
    someone = lead(email, stage="mql")
    handoff = Handoff(lead_id=someone.id, owner_id=owner.id, score=60, created_at=T0)
    db.session.add(handoff)
    db.session.commit()
    return someone, handoff


def test_sales_accept_and_reject_their_own_leads(app, login_as):
    sales = login_as("sales")
    sales.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    someone, mine = make_handoff(sales.user)
    other_owner = UserFactory(role="sales")
    stranger, theirs = make_handoff(other_owner, "zhao@acme.cn")

    page = sales.get("/admin/scoring/handoffs").get_data(as_text=True)
    assert someone.email in page and stranger.email not in page
    assert sales.post(f"/admin/scoring/handoffs/{theirs.id}", data={"outcome": "accepted"}).status_code == 404
    # Another owner's lead: its page shows no score section, and re-enrolling it is refused.
    assert 'id="score"' not in sales.get(f"/admin/leads/{stranger.id}").get_data(as_text=True)
    assert sales.post(f"/admin/scoring/leads/{stranger.id}", data={"sequence": 1}).status_code == 403

    refused = sales.post(
        f"/admin/scoring/handoffs/{mine.id}",
        data={"outcome": "rejected", "reason_code": "other", "reason": " "},
    )
    assert refused.status_code == 422 and "Say why" in refused.get_data(as_text=True)
    assert db.session.get(Handoff, mine.id).outcome == "pending"
    sales.post(
        f"/admin/scoring/handoffs/{mine.id}",
        data={"outcome": "rejected", "reason_code": "other", "reason": "学生，无预算"},
    )
    db.session.expire_all()
    assert (mine.outcome, mine.reason) == ("rejected", "学生，无预算")
    assert sales.post(f"/admin/scoring/handoffs/{mine.id}", data={"outcome": "maybe"}).status_code == 422

    boss = login_as("marketer")
    boss.post(f"/admin/scoring/handoffs/{theirs.id}", data={"outcome": "accepted"})
    db.session.expire_all()
    assert theirs.outcome == "accepted" and db.session.get(Lead, stranger.id).stage == "sql"

    # Each figure in the period it happened in: the hand-offs on T0's day, still awaiting a
    # decision at its end; the decisions today, when sales made them.
    def outcomes(day):
        return {
            r["owner"]: (r["handed"], r["accepted"], r["rejected"], r["pending"])
            for r in stages.sales_outcomes(day, day)
        }

    assert outcomes(T0.date()) == {sales.user.email: (1, 0, 0, 1), other_owner.email: (1, 0, 0, 1)}
    today = local_today(site_zone())  # the site's day: past 16:00 UTC it is already tomorrow in Shanghai
    assert outcomes(today) == {sales.user.email: (0, 0, 1, 0), other_owner.email: (0, 1, 0, 0)}


def test_dormant_leads_come_back_and_re_enter_a_sequence(app, login_as, runner, smtp_sink):
    from tests.nurture.conftest import make_sequence

    rule("下载资料", 5, event_kind="download")
    sales = login_as("sales", email="owner@example.com")
    someone, _handoff = make_handoff(sales.user)
    someone.marketing_consent = True
    event("download", someone, T0)
    result = runner.invoke(args=["insights", "dormant", "--now", (T0 + timedelta(days=61)).isoformat()])
    assert result.exit_code == 0 and "leads made dormant: 1" in result.output
    assert db.session.get(LeadScoring, someone.id).dormant_at is not None
    assert someone.email in sales.get("/admin/scoring/dormant").get_data(as_text=True)

    event("page_view", someone, T0 + timedelta(days=70), path="/blog/")
    state = db.session.get(LeadScoring, someone.id)
    assert state.dormant_at is None and state.returned_at == T0 + timedelta(days=70)
    assert runner.invoke(args=["nurture", "tick"]).exit_code == 0
    mail = smtp_sink.wait_for(1)[0]
    assert mail["To"] == "owner@example.com" and "李雷" in mail["Subject"]
    assert_staff_mail(mail, "这条线索此前已在 Lodestar 交给您跟进")
    for body in mail_texts(mail):  # Chinese brackets, and no space after them
        assert "李雷（Acme）曾处于沉睡状态，现在重新活跃（评分 " in body

    sequence = make_sequence()
    if sequence.status != "active":
        sequence.status = "active"
        db.session.commit()
    page = sales.get(f"/admin/leads/{someone.id}").get_data(as_text=True)
    assert "下载资料" in page and sequence.name in page
    answer = sales.post(f"/admin/scoring/leads/{someone.id}", data={"sequence": sequence.id})
    assert answer.status_code == 302 and answer.location.endswith(f"/admin/leads/{someone.id}#score")
    assert db.session.scalars(select(Enrollment).where(Enrollment.lead_id == someone.id)).first() is not None


def test_only_marketers_and_admins_edit_rules(app, login_as):
    assert login_as("editor").get("/admin/scoring/rules").status_code == 403
    assert login_as("sales").get("/admin/scoring/rules").status_code == 403
    assert login_as("editor").get("/admin/scoring/handoffs").status_code == 403
    page = login_as("marketer").get("/admin/scoring/rules")
    assert page.status_code == 200 and "评分规则" in page.get_data(as_text=True)


def test_the_rule_editor_refuses_bad_input_clearly(app, login_as):
    marketer = login_as("marketer")
    marketer.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    base = dict(SCORING_RULE_FORM)
    for change, message in (
        ({"points": "many"}, 'class="error"'),
        ({"points": "99999"}, "between -1000 and 1000"),
        ({"name": ""}, "Give the rule a name"),
        ({"kind": "fit", "field": "role", "pattern": " , "}, "at least one keyword"),
        ({"field": "ref_id", "pattern": "abc"}, "whole number"),
        ({"event_kind": "teleport"}, 'id="event_kind-error"'),
    ):
        response = marketer.post("/admin/scoring/rules", data={**base, **change}, follow_redirects=True)
        assert response.status_code == 200, change
        assert message in response.get_data(as_text=True), change
    # What the rule service refuses is said beside the field it is about, not in a banner.
    for change, message in (
        ({"kind": "fit", "field": "role", "pattern": " , "}, "at least one keyword"),
        ({"field": "ref_id", "pattern": "abc"}, "whole number"),
    ):
        page = marketer.post("/admin/scoring/rules", data={**base, **change}).get_data(as_text=True)
        beside = page.partition('id="pattern-error"')[2].partition("</")[0]
        assert message in beside, change
        assert 'value="' + change["pattern"] + '"' in page  # what was typed stays
    assert db.session.query(ScoreRule).count() == 0
    marketer.post("/admin/scoring/rules", data=base)
    saved = db.session.scalars(select(ScoreRule)).one()
    assert (saved.points, saved.daily_cap, saved.active) == (15, 0, True)
    marketer.post(f"/admin/scoring/rules/{saved.id}", data={**base, "points": "-3", "active": ""})
    db.session.expire_all()
    assert (saved.points, saved.active) == (-3, False)


def test_score_changes_show_on_the_lead_page(app, login_as):
    rule("下载资料", 10, event_kind="download")
    someone = lead()
    event("download", someone, T0)
    page = login_as("marketer").get(f"/admin/leads/{someone.id}").get_data(as_text=True)
    assert "下载资料" in page and "+10" in page
    assert db.session.query(Message).count() == 0


def test_a_batch_in_one_transaction_respects_the_cap_and_job_title_fit(app):
    rule("浏览", 1, event_kind="page_view", cap=3)
    rule("管理岗位", 10, kind="fit", field="job_title", pattern="总监, director")
    director = lead(job_title="Sales Director")
    for minute in range(6):  # as the page-view writer stores a batch: one commit
        record("page_view", lead_id=director.id, path="/b", at=T0 + timedelta(minutes=minute))
    db.session.commit()
    assert director.score == 10 + 3
    assert engine.rescore_lead(director.id, now=T0 + timedelta(hours=1)) == 13


def test_a_visitors_anonymous_history_counts_when_they_fill_a_form(app):
    from insights.events import stitch

    rule("价格页", 15, event_kind="page_view", field="path", pattern="/pricing")
    rule("预约演示", 30, event_kind="form_submit", field="value", pattern="demo")
    record("page_view", visitor_id="v-1", path="/pricing", at=T0)
    record("page_view", visitor_id="v-2", path="/pricing", at=T0)  # someone else
    db.session.commit()
    someone = lead()
    record("form_submit", lead_id=someone.id, visitor_id="v-1", value="demo", at=T0 + timedelta(minutes=3))
    stitch("v-1", someone.id)
    db.session.commit()
    assert someone.score == 45
    assert engine.rescore_lead(someone.id, now=T0 + timedelta(hours=1)) == 45


def test_an_assignment_rule_names_the_owner_before_round_robin(app, monkeypatch):
    monkeypatch.setitem(app.config, "SCORING_MQL_THRESHOLD", 10)
    monkeypatch.setitem(
        app.config,
        "SCORING_ASSIGN_RULES",
        "domain:big.cn=Key@example.com; nonsense; channel:partner=gone@example.com",
    )
    rule("预约演示", 30, event_kind="form_submit")
    UserFactory(role="sales", email="first@example.com")
    key = UserFactory(role="sales", email="key@example.com")
    UserFactory(role="sales", email="gone@example.com", active=False)
    event("form_submit", lead("a@big.cn"), T0)
    event("form_submit", lead("b@big.cn"), T0)
    event("form_submit", lead("c@small.cn", first_channel="partner"), T0)  # its owner left: round robin
    owners = db.session.scalars(select(Handoff.owner_id).order_by(Handoff.id)).all()
    assert owners[:2] == [key.id, key.id] and owners[2] != key.id


def test_fit_counts_at_once_when_a_later_form_gives_the_role(app, client):
    from tests.factories import form_data, make_whitepaper, open_mailed_link

    standard_rules()
    _, asset = make_whitepaper()
    first = client.post("/library/saas-renewal", data=form_data(role="user", job_title=None))
    assert first.status_code == 303
    someone = db.session.scalars(select(Lead)).one()
    assert someone.score == 0
    # Their browser may change what they told once the mailed link proved the address
    # (the download is worth 10).
    open_mailed_link(client, someone.id, asset.id)
    # The second form says who they are: the fit rule's points, without a rescore.
    assert client.post("/library/saas-renewal", data=form_data(role="decision_maker")).status_code == 303
    db.session.expire_all()
    someone = db.session.get(Lead, someone.id)
    assert someone.role == "decision_maker" and someone.score == 25
    assert {r["reason"]: r["points"] for r in engine.reasons(someone.id)} == {"决策者": 15, "下载资料": 10}
    # A role given up takes the points back.
    client.post("/library/saas-renewal", data=form_data(role="user"))
    db.session.expire_all()
    assert db.session.get(Lead, someone.id).score == 10
    client.post("/library/saas-renewal", data=form_data(role="decision_maker"))
    db.session.expire_all()
    assert db.session.get(Lead, someone.id).score == 25
    assert engine.rescore_lead(someone.id, now=datetime.now()) == 25


def test_fit_points_that_cross_the_threshold_hand_the_lead_off(app, monkeypatch, client):
    from tests.factories import form_data, make_whitepaper, open_mailed_link

    monkeypatch.setitem(app.config, "SCORING_MQL_THRESHOLD", 20)
    rule("白皮书", 10, event_kind="form_submit")
    rule("决策者", 15, kind="fit", field="role", pattern="decision_maker")
    UserFactory(role="sales")
    _, asset = make_whitepaper()
    client.post("/library/saas-renewal", data=form_data(role="user"))
    someone = db.session.scalars(select(Lead)).one()
    assert (someone.score, someone.stage) == (10, "new")
    open_mailed_link(client, someone.id, asset.id)
    client.post("/library/saas-renewal", data=form_data(role="decision_maker"))
    db.session.expire_all()
    someone = db.session.get(Lead, someone.id)
    assert someone.score == 35 and someone.stage == "mql"
    assert db.session.query(Handoff).count() == 1


def test_a_rejected_lead_goes_back_to_nurture_and_must_earn_its_way_back(app, monkeypatch, login_as):
    from insights import dashboards

    monkeypatch.setitem(app.config, "SCORING_MQL_THRESHOLD", 40)
    standard_rules()
    sales = login_as("sales")
    boss = lead(role="decision_maker", stage="engaged")
    start = utcnow() - timedelta(hours=1)  # sales decide at the real time
    event("form_submit", boss, start, value="demo")  # 15 fit + 30: an MQL
    handoff = db.session.scalars(select(Handoff)).one()
    assert boss.stage == "mql" and handoff.owner_id == sales.user.id

    sales.post(
        f"/admin/scoring/handoffs/{handoff.id}", data={"outcome": "rejected", "reason_code": "no_budget"}
    )
    db.session.expire_all()
    boss = db.session.get(Lead, boss.id)
    # Back with the leads being nurtured, the fit points kept, the activity's taken off.
    assert boss.stage == "engaged" and boss.score == 15
    assert {r["reason"]: r["points"] for r in engine.reasons(boss.id)}[engine.REJECTED] == -30
    later = utcnow() + timedelta(minutes=1)
    event("download", boss, later)
    assert boss.stage == "engaged" and db.session.query(Handoff).count() == 1
    event("page_view", boss, later + timedelta(minutes=1), path="/pricing")  # 25 + 16: over again
    assert boss.stage == "mql" and db.session.query(Handoff).count() == 2
    assert engine.rescore_lead(boss.id, now=later + timedelta(hours=1)) == boss.score == 41

    # The reason stays on the dashboard with the owner's figures.
    today = utcnow().date()
    period = dashboards.Filters(today - timedelta(days=1), today + timedelta(days=1))
    row = dashboards.handoffs(period).rows[0]
    assert (row["owner"], row["handed"], row["rejected"], row["pending"]) == (sales.user.email, 2, 1, 1)
    assert row["reasons"] == "没有预算" and row["acceptance_rate"] == 0.0
    marketer = login_as("marketer")
    query = f"?since={period.since}&until={period.until}"
    page = marketer.get("/admin/insights/" + query).get_data(as_text=True)
    assert "没有预算" in page and "销售反馈" in page
    assert "没有预算" in marketer.get("/admin/insights/handoffs.csv" + query).get_data(as_text=True)
    assert dashboards.handoffs(dashboards.Filters(period.since, period.until, "social")).rows == []


def test_the_old_score_page_answers_301_to_the_lead_page(app, login_as):
    sales = login_as("sales")
    someone, _handoff = make_handoff(sales.user)
    answer = sales.get(f"/admin/scoring/leads/{someone.id}")
    assert answer.status_code == 301 and answer.location.endswith(f"/admin/leads/{someone.id}#score")
    page = sales.get(f"/admin/leads/{someone.id}").get_data(as_text=True)
    assert page.count('id="score"') == 1 and "评分依据" in page


def views(who, *times):
    for at in times:
        event("page_view", who, at, path="/blog/x")


def test_the_daily_cap_counts_the_sites_day_in_shanghai(app, monkeypatch):
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")
    rule("浏览", 1, event_kind="page_view", cap=2)
    reader = lead()
    # 15:00-15:59 UTC is the evening of 1 Dec in Shanghai; 16:00 UTC starts 2 Dec there.
    views(reader, datetime(2026, 12, 1, 15, 0), datetime(2026, 12, 1, 15, 30), datetime(2026, 12, 1, 15, 59))
    assert reader.score == 2
    views(reader, datetime(2026, 12, 1, 16, 0), datetime(2026, 12, 1, 16, 1), datetime(2026, 12, 1, 23, 0))
    assert reader.score == 4  # a new day at 16:00 UTC, though the UTC day is the same
    views(reader, datetime(2026, 12, 2, 1, 0))  # 09:00 on 2 Dec in Shanghai: that day's cap is spent
    assert reader.score == 4
    assert engine.rescore_lead(reader.id, now=datetime(2026, 12, 2, 1, 0)) == 4


def test_the_daily_cap_follows_the_site_zone_across_a_dst_change(app, monkeypatch):
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_TIMEZONE", "America/New_York")
    rule("浏览", 1, event_kind="page_view", cap=1)
    reader = lead()
    # Summer (UTC-4): 8 Mar 2026 starts at 05:00 UTC (still EST), 9 Mar at 04:00 UTC (EDT).
    views(reader, datetime(2026, 3, 8, 4, 59))  # 7 Mar, 23:59 EST
    views(reader, datetime(2026, 3, 8, 5, 0))  # 8 Mar, 00:00 EST
    views(reader, datetime(2026, 3, 9, 3, 59))  # 8 Mar, 23:59 EDT: that day is 23 hours long
    views(reader, datetime(2026, 3, 9, 4, 0))  # 9 Mar, 00:00 EDT
    assert reader.score == 3
    assert engine.rescore_lead(reader.id, now=datetime(2026, 3, 9, 4, 0)) == 3
    # Autumn: 1 Nov 2026 starts at 04:00 UTC (EDT) and is 25 hours long.
    autumn = lead("autumn@acme.cn")
    views(autumn, datetime(2026, 11, 1, 4, 0), datetime(2026, 11, 2, 4, 30))  # both on 1 Nov
    assert autumn.score == 1
    views(autumn, datetime(2026, 11, 2, 5, 0))  # 2 Nov, 00:00 EST
    assert autumn.score == 2
    assert engine.rescore_lead(autumn.id, now=datetime(2026, 11, 2, 5, 0)) == 2


def test_the_hand_off_mail_names_the_articles_read_by_their_titles(app, runner, smtp_sink):
    from insights.scoring.handoff import HANDOFF_TEMPLATE, mail_story
    from tests.conftest import mail_texts
    from tests.insights.conftest import article_to_visit

    article_to_visit("renewal-reminders", title="如何设置续费提醒")
    someone = lead()
    event("page_view", someone, T0, path="/help/renewal-reminders")
    event("page_view", someone, T0, path="/pricing")
    mail_story("sales@example.com", HANDOFF_TEMPLATE, someone, T0)
    assert runner.invoke(args=["nurture", "tick"]).exit_code == 0
    text, html = mail_texts(smtp_sink.wait_for(1)[0])
    for body in (text, html):
        assert "如何设置续费提醒" in body and "/help/renewal-reminders" not in body
        assert "/pricing" in body  # a page that is not an article keeps its path
    assert "阅读最多：" in text and "邮箱：" in text
