"""Review-by dates: the queue across a month boundary, what lifts an article in it, verify
(with its history and the staff-only flag) and the weekly reminder, sent once a week."""

from datetime import datetime, timedelta

import pytest

from assistant.models import Conversation, Round
from content import freshness
from content.freshness import Verification, add_months
from content.models import Article
from content.search.models import SearchQuery
from content.services import transition
from core.extensions import db
from nurture.models import Message
from tests.conftest import assert_staff_mail, join_team, mail_texts
from tests.factories import UserFactory, audit_entries, make_article

HELP = "## 操作步骤\n\n1. 打开\n\n## 截图\n\n图"


def queue_ids(now, **scope):
    return [row.article.id for row in freshness.review_queue(now=now, **scope)]


def test_calendar_months_clamp_to_the_months_last_day():
    assert add_months(datetime(2026, 8, 31, 10), 6) == datetime(2027, 2, 28, 10)
    assert add_months(datetime(2027, 8, 31), 6) == datetime(2028, 2, 29)
    assert add_months(datetime(2027, 1, 31), 1) == datetime(2027, 2, 28)
    assert add_months(datetime(2027, 3, 31), -1) == datetime(2027, 2, 28)
    assert add_months(datetime(2026, 11, 15), 2) == datetime(2027, 1, 15)


@pytest.mark.parametrize("stored", [True, False], ids=["published-in-the-editor", "imported"])
def test_the_review_queue_across_a_month_boundary(app, default_teams, stored):
    published = datetime(2026, 8, 31, 10, 0)
    if stored:  # the workflow's publish stores the date
        draft = make_article(
            HELP, title="如何导出报表", now=published, published_at=published, status="draft"
        )
        article = transition(draft, "publish", user=None, now=published)
        assert article.review_by == datetime(2027, 2, 28, 10, 0)
    else:  # an import's is computed, so the import stays idempotent
        article = make_article(HELP, title="如何导出报表", now=published, published_at=published)
        assert article.review_by is None
    assert freshness.due_date(article) == datetime(2027, 2, 28, 10, 0)  # six months, clamped to February

    assert queue_ids(datetime(2027, 2, 13, 9, 0)) == []  # 15 days before: not yet
    due = freshness.review_queue(now=datetime(2027, 2, 14, 11, 0))
    assert [(row.article.id, row.overdue) for row in due] == [(article.id, False)]
    assert not freshness.review_queue(now=datetime(2027, 2, 28, 9, 59))[0].overdue
    overdue = freshness.review_queue(now=datetime(2027, 3, 1, 0, 0))
    assert overdue[0].overdue and overdue[0].days_overdue == pytest.approx(14 / 24)
    assert queue_ids(datetime(2027, 3, 1), overdue_only=True) == [article.id]


def test_an_article_from_before_review_dates_counts_from_its_publish_date(app, default_teams):
    article = make_article(HELP, now=datetime(2026, 1, 10), published_at=datetime(2026, 1, 10))
    assert article.review_by is None
    assert queue_ids(datetime(2026, 6, 25)) == []
    assert queue_ids(datetime(2026, 6, 26)) == [article.id]  # 10 July is two weeks away
    assert freshness.due_date(article) == datetime(2026, 7, 10)


def test_verify_moves_the_review_date_and_keeps_the_note(app, default_teams, login_as):
    editor = login_as("editor")
    join_team(default_teams["客服"], editor.user)
    article = make_article(HELP, now=datetime(2026, 1, 31), published_at=datetime(2026, 1, 31))
    page = editor.post(f"/admin/content/{article.id}/verify", data={"note": "界面已核对", "next": "/help/x"})
    assert page.status_code == 303 and page.headers["Location"].endswith("/help/x")
    db.session.expire_all()
    article = db.session.get(Article, article.id)
    assert article.verified_at is not None
    assert article.review_by == add_months(article.verified_at, 6)
    [entry] = freshness.history(article.id)
    assert (entry.note, entry.user_id) == ("界面已核对", editor.user.id)
    assert audit_entries("content.verify")[0].target == f"article:{article.id}"
    assert "界面已核对" in editor.get(f"/admin/content/{article.id}").get_data(as_text=True)


def test_only_the_team_verifies_and_only_published_articles(app, default_teams, login_as):
    outsider = login_as("editor")
    join_team(default_teams["售前"], outsider.user)
    article = make_article(HELP)
    outsider.post(f"/admin/content/{article.id}/verify", data={})
    draft = make_article(HELP, status="draft")
    with pytest.raises(freshness.VerifyError):
        freshness.verify(draft, user=UserFactory(role="admin"), now=draft.updated_at)
    assert db.session.scalar(db.select(db.func.count(Verification.id))) == 0
    assert login_as("marketer").post(f"/admin/content/{article.id}/verify").status_code == 403


def test_the_past_due_flag_is_for_staff_only(app, default_teams, login_as, client):
    article = make_article(
        HELP, title="旧的帮助", now=datetime(2025, 1, 1), published_at=datetime(2025, 1, 1)
    )
    editor = login_as("editor")
    page = editor.get(article.url_path).get_data(as_text=True)
    assert "review-flag" in page and "仅员工可见" in page
    assert "review-flag" not in client.get(article.url_path).get_data(as_text=True)
    fresh = make_article(HELP, title="新的帮助")
    assert "review-flag" not in editor.get(fresh.url_path).get_data(as_text=True)


def test_unhelpful_offers_and_searching_again_lift_an_article(app, default_teams):
    now = datetime(2027, 3, 1)
    older = make_article(HELP, title="早就过期", now=now, published_at=datetime(2026, 6, 1))
    newer = make_article(HELP, title="刚过期", now=now, published_at=datetime(2026, 8, 25))
    assert queue_ids(now) == [older.id, newer.id]  # most overdue first

    conversation = Conversation(status="escalating", created_at=now - timedelta(days=3))
    db.session.add(conversation)
    db.session.flush()
    offered = [{"id": newer.id, "title": "x"}, {"id": 999_999, "title": "gone"}]
    db.session.add_all(
        [
            Round(
                conversation_id=conversation.id, number=1, question="导出", offered=offered, answer="not_yet"
            ),
            Round(
                conversation_id=conversation.id,
                number=2,
                question="导出报表",
                offered=offered,
                answer="not_yet",
            ),
            Round(
                conversation_id=conversation.id,
                number=3,
                question="报表",
                offered=[{"id": older.id}],
                answer="solved",
            ),
        ]
    )
    clicked = now - timedelta(days=2)
    db.session.add_all(
        [
            SearchQuery(
                query="导出",
                normalised="导出",
                visit="v1",
                created_at=clicked,
                clicked_article_id=newer.id,
                clicked_at=clicked,
            ),
            SearchQuery(
                query="报表导出", normalised="报表导出", visit="v1", created_at=clicked + timedelta(minutes=1)
            ),
            # Another visit opened it and did not search again: no signal.
            SearchQuery(
                query="导出",
                normalised="导出",
                visit="v2",
                created_at=clicked,
                clicked_article_id=newer.id,
                clicked_at=clicked,
            ),
        ]
    )
    db.session.commit()
    rows = freshness.review_queue(now=now)
    assert [row.article.id for row in rows] == [newer.id, older.id]
    assert rows[0].signals == {"assistant_unhelpful": 2, "searched_again": 1}
    assert rows[1].signals == {}


def test_the_home_and_queue_show_the_teams_due_articles(app, default_teams, login_as):
    editor = login_as("editor")
    join_team(default_teams["客服"], editor.user)
    make_article(HELP, title="客服的旧文", now=datetime(2025, 1, 1), published_at=datetime(2025, 1, 1))
    make_article(
        "## 行业挑战\n\n## 解决方案\n\n## 客户价值\n",
        kind="solution",
        title="售前的旧文",
        now=datetime(2024, 1, 1),
        published_at=datetime(2024, 1, 1),
    )
    home = editor.get("/admin/").get_data(as_text=True)
    assert "客服的旧文" in home and "售前的旧文" not in home
    queue = editor.get("/admin/content/review/").get_data(as_text=True)
    assert "客服的旧文" in queue and "售前的旧文" not in queue
    assert "客服的旧文" not in editor.get("/admin/content/review/?mine=1").get_data(as_text=True)


def test_the_weekly_reminder_goes_once_a_week(app, default_teams, runner):
    owner = UserFactory(role="editor", email="owner@example.com")
    member = UserFactory(role="editor", email="member@example.com")
    join_team(default_teams["客服"], member)
    article = make_article(
        HELP, title="过期的帮助", now=datetime(2026, 1, 1), published_at=datetime(2026, 1, 1)
    )
    article.owner_id = owner.id
    db.session.commit()

    first = runner.invoke(args=["content", "review-mail", "--now", "2026-12-07T09:00:00"])
    assert "review reminders queued: 2" in first.output
    again = runner.invoke(args=["content", "review-mail", "--now", "2026-12-13T22:00:00"])
    assert "already sent" in again.output
    from content.review_mail import weekly_job

    assert weekly_job(datetime(2026, 12, 10), None) == {}
    messages = db.session.scalars(db.select(Message).order_by(Message.to_address)).all()
    assert [(m.to_address, m.kind) for m in messages] == [
        ("member@example.com", "staff"),
        ("owner@example.com", "staff"),
    ]
    assert messages[0].context["items"][0]["title"] == "过期的帮助"

    assert weekly_job(datetime(2026, 12, 14, 1), None) == {"review_mails": 2}
    assert db.session.scalar(db.select(db.func.count(Message.id))) == 4


def test_publishing_sets_the_first_review_date_by_kind(app, default_teams):
    draft = make_article(
        "## 行业挑战\n\n## 解决方案\n\n## 客户价值\n",
        kind="solution",
        now=datetime(2026, 3, 31),
        published_at=datetime(2026, 3, 31),
        status="draft",
    )
    article = transition(draft, "publish", user=None, now=datetime(2026, 3, 31))
    assert article.review_by == datetime(2027, 3, 31)
    unpublished = transition(article, "unpublish", user=None, now=datetime(2026, 4, 1))
    assert queue_ids(datetime(2028, 1, 1)) == [] and unpublished.status == "draft"


def test_the_reminder_is_delivered_by_the_worker(app, default_teams, runner, smtp_sink):
    member = UserFactory(role="editor", email="member@example.com")
    join_team(default_teams["客服"], member)
    make_article(HELP, title="过期的帮助", now=datetime(2025, 1, 1), published_at=datetime(2025, 1, 1))
    # The worker's pass does the week's run, then delivers what it queued on the next pass.
    assert runner.invoke(args=["nurture", "tick"]).exit_code == 0
    result = runner.invoke(args=["nurture", "tick"])
    assert result.exit_code == 0, result.output
    [mail] = smtp_sink.wait_for(1)
    assert mail["To"] == "member@example.com" and "待复核的文章：1 篇" in str(mail["Subject"])
    text, html = mail_texts(mail)
    assert "过期的帮助" in text and "/admin/content/review/" in text and "过期的帮助" in html
    assert_staff_mail(mail, "提醒每周发送一次")
