"""Content results per article, author and team, from events made through the real
pipeline: page views and leave pings through the beacon, searches and result clicks,
"was this helpful?" votes, a lead form, an MQL, the assistant; the site's days; a fixed
number of statements however many articles; the CSV; who sees which team; and the
pages people leave after a search rising in the review queue."""

import csv
import io
import itertools
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from assistant import services as assistant
from content import freshness
from content.models import Article, Feedback
from core.extensions import db
from core.timeutil import utcnow
from gated.models import Lead
from gated.stages import change_stage
from insights import results, rollups, tracking
from insights.dashboards import Filters
from insights.models import Event
from tests.conftest import join_team, statements
from tests.factories import BROWSER, UserFactory, form_data, make_article, make_whitepaper, visit
from tests.insights.conftest import flushed

SAME_SITE = {"Sec-Fetch-Site": "same-origin"}
READERS = itertools.count()


def browser_of(app):
    """A new reader's browser (a user agent of its own: search keys a visit by it)."""
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = f"{BROWSER} r{next(READERS)}"
    return client


def search_and_open(client, text: str, article: Article) -> None:
    """Search on the search page, open the result `article` (its click beacon), then see it."""
    visit(client, f"/search?q={text}")
    found = client.get("/api/search", query_string={"q": text}).get_json()["results"]
    token = next(row["click"] for row in found if row["slug"] == article.slug)
    assert client.post("/api/search/click", data={"token": token}, headers=SAME_SITE).status_code == 200
    visit(client, article.url_path)


def leave(client, article: Article, seconds: int) -> None:
    response = client.post(
        "/beacon", data={"u": article.url_path, "e": "leave", "s": str(seconds)}, headers=SAME_SITE
    )
    assert response.status_code == 204 and "Set-Cookie" not in response.headers


def vote(client, article: Article, answer: str) -> None:
    response = client.post(f"/articles/{article.id}/feedback", data={"helpful": answer}, headers=SAME_SITE)
    assert response.status_code == 303


@pytest.fixture
def site(app, default_teams, search_index):
    """Two teams (客服 with 王's help articles, 售前 with 李's white paper), each author
    in their team."""
    wang = UserFactory(role="editor", name="王芳", email="wang@lodestar.test")
    li = UserFactory(role="editor", name="李雷", email="li@lodestar.test")
    support, presales = default_teams["客服"], default_teams["售前"]
    join_team(support, wang)
    join_team(presales, li)
    reset = make_article(
        "打开登录页，点击忘记密码，按邮件里的链接重置密码。", title="如何重置密码", slug="reset"
    )
    sso = make_article("在设置里打开单点登录，填写身份提供方的地址。", title="配置单点登录", slug="sso")
    paper, _asset = make_whitepaper()
    for article, team, owner in ((reset, support, wang), (sso, support, wang), (paper, presales, li)):
        article.team_id, article.owner_id = team.id, owner.id
    db.session.commit()
    return {
        "reset": reset,
        "sso": sso,
        "paper": paper,
        "wang": wang,
        "li": li,
        "support": support,
        "presales": presales,
    }


def today_filters(**fields) -> results.ResultFilters:
    from core.localtime import local_today, site_zone

    today = local_today(site_zone())
    return results.ResultFilters(Filters(today - timedelta(days=1), today + timedelta(days=1)), **fields)


def by_key(rows, key="title"):
    return {row[key]: row for row in rows}


def test_each_article_s_figures_and_their_sums_per_author_and_team(app, site):
    reset, sso, paper = site["reset"], site["sso"], site["paper"]
    # A reader finds the help article by search, reads 90 s, finds it helpful, goes on to
    # the white paper and fills its form (the paper is the lead's first touch, the help
    # article assisted it); the lead later becomes an MQL.
    reader = browser_of(app)
    search_and_open(reader, "重置密码", reset)
    leave(reader, reset, 90)
    vote(reader, reset, "yes")
    visit(reader, paper.url_path)
    assert reader.post(paper.url_path, data=form_data()).status_code == 303
    lead = db.session.scalar(select(Lead))
    change_stage(lead.id, "mql", now=utcnow())
    # Another finds it by search too, stays 30 s, says it did not help, and leaves.
    other = browser_of(app)
    search_and_open(other, "重置密码", reset)
    leave(other, reset, 30)
    vote(other, reset, "no")
    # A third lands on the SSO article from outside and leaves: a bounce.
    visit(browser_of(app), sso.url_path)
    # The assistant offers the help article and the visitor is satisfied: a deflection;
    # one who asks for a person after it is not.
    solved = assistant.start("怎么重置密码", account=None, locale="zh_CN", now=utcnow())
    assert reset.id in solved.shown_ids
    assistant.answer(solved, "solved", now=utcnow())
    handed = assistant.start("重置密码收不到邮件", account=None, locale="zh_CN", now=utcnow())
    assert reset.id in handed.shown_ids
    handed.status = "escalated"
    db.session.commit()
    flushed(app)

    report = results.report(today_filters())
    rows = by_key(report.articles)
    help_row, sso_row, paper_row = rows["如何重置密码"], rows["配置单点登录"], rows[paper.title]
    assert {
        key: help_row[key]
        for key in ("views", "entrances", "exits", "helpful", "unhelpful", "assisted", "deflections")
    } == {
        "views": 2,
        "entrances": 2,
        "exits": 1,  # the first reader went on to the white paper
        "helpful": 1,
        "unhelpful": 1,
        "assisted": 1,
        "deflections": 1,
    }
    assert help_row["time_on_page"] == 60 and help_row["exit_rate"] == 0.5
    assert help_row["bounce_rate"] is None  # no visit landed on it (both came from the search page)
    assert (sso_row["views"], sso_row["bounce_rate"], sso_row["exit_rate"], sso_row["entrances"]) == (
        1,
        1.0,
        1.0,
        0,
    )
    assert (paper_row["leads"], paper_row["mqls"], paper_row["exits"]) == (1, 1, 1)
    assert (help_row["leads"], help_row["mqls"]) == (0, 0)

    authors = by_key(report.authors, "name")
    assert authors["王芳"]["articles"] == 2 and authors["王芳"]["views"] == 3
    assert authors["王芳"]["exit_rate"] == pytest.approx(2 / 3)  # recomputed from the sums
    assert (authors["李雷"]["views"], authors["李雷"]["leads"], authors["李雷"]["mqls"]) == (1, 1, 1)
    teams = by_key(report.teams, "name")
    assert (teams["客服"]["views"], teams["客服"]["helpful"]) == (3, 1)
    assert teams["客服"]["deflections"] == help_row["deflections"] + sso_row["deflections"]
    assert (teams["售前"]["leads"], teams["售前"]["assisted"]) == (1, 0)

    only_support = results.report(today_filters(team_id=site["support"].id))
    assert {row["title"] for row in only_support.articles} == {"如何重置密码", "配置单点登录"}
    assert [row["title"] for row in results.report(today_filters(kind="whitepaper")).articles] == [
        paper.title
    ]


def test_a_leave_ping_counts_a_number_of_seconds_on_a_page_of_ours_and_nothing_else(app, site):
    client = browser_of(app)
    for data in (
        {"u": "/help/reset", "e": "leave", "s": "abc"},
        {"u": "/help/reset", "e": "leave", "s": "²"},
        {"u": "/help/reset", "e": "leave", "s": ""},
        {"u": "/no/such/page", "e": "leave", "s": "5"},
    ):
        response = client.post("/beacon", data=data, headers=SAME_SITE)
        assert response.status_code == 204 and "Set-Cookie" not in response.headers
    assert flushed(app) == []
    client.post("/beacon", data={"u": "/help/reset", "e": "leave", "s": "99999"}, headers=SAME_SITE)
    assert [(event.kind, event.path, event.value) for event in flushed(app)] == [
        ("page_time", "/help/reset", "1800")  # a tab left open is not half a day of reading
    ]


def test_a_day_is_the_site_s_day_16_00_utc_in_shanghai_before_and_after_the_rollup(app, site, monkeypatch):
    reset = site["reset"]
    readers = [browser_of(app), browser_of(app)]
    for seconds, client in zip((40, 80), readers, strict=True):
        search_and_open(client, "重置密码", reset)
        leave(client, reset, seconds)
        vote(client, reset, "yes")
    flushed(app)
    # Move what the pipeline recorded to either side of Shanghai's midnight.
    before, after = datetime(2026, 12, 7, 15, 59, 59), datetime(2026, 12, 7, 16, 0, 0)
    vote_ids = db.session.scalars(select(Feedback.id).order_by(Feedback.id)).all()
    for client, at, vote_id in zip(readers, (before, after), vote_ids, strict=True):
        visitor = client.get_cookie(tracking.VISITOR_COOKIE).value
        db.session.execute(update(Event).where(Event.visitor_id == visitor).values(occurred_at=at))
        db.session.execute(update(Feedback).where(Feedback.id == vote_id).values(created_at=at))
    db.session.commit()

    def figures(day):
        row = by_key(results.report(results.ResultFilters(Filters(day, day))).articles)["如何重置密码"]
        return {key: row[key] for key in ("views", "entrances", "exits", "time_on_page", "helpful")}

    first_day, second_day = date(2026, 12, 7), date(2026, 12, 8)
    assert figures(first_day) == {"views": 1, "entrances": 1, "exits": 1, "time_on_page": 40, "helpful": 1}
    assert figures(second_day) == {"views": 1, "entrances": 1, "exits": 1, "time_on_page": 80, "helpful": 1}
    # The same once the days are rolled up and their raw events pruned.
    assert rollups.rollup(now=datetime(2026, 12, 9, 1, 0)) >= 2
    monkeypatch.setitem(app.config, "INSIGHTS_RETENTION_DAYS", 0)
    assert rollups.prune(now=datetime(2026, 12, 9, 1, 0)) > 0
    assert db.session.scalar(select(func.count()).select_from(Event)) == 0
    assert figures(first_day) == {"views": 1, "entrances": 1, "exits": 1, "time_on_page": 40, "helpful": 1}
    assert figures(second_day) == {"views": 1, "entrances": 1, "exits": 1, "time_on_page": 80, "helpful": 1}


def test_the_page_reads_a_fixed_number_of_statements_however_many_articles(app, site, login_as):
    marketer = login_as("marketer")

    def add(number):
        for n in range(number):
            article = make_article(f"正文{n}", title=f"文章{add.made}", slug=f"piece-{add.made}")
            article.team_id, article.owner_id = site["support"].id, site["wang"].id
            db.session.commit()
            client = browser_of(app)
            visit(client, article.url_path)
            leave(client, article, 20)
            add.made += 1
        flushed(app)

    add.made = 0

    def page():
        assert marketer.get("/admin/insights/results/?by=team").status_code == 200
        assert marketer.get(f"/admin/insights/results/teams/{site['support'].id}").status_code == 200

    add(2)
    few = statements(page)
    add(6)
    assert statements(page) == few


def test_the_csv_has_the_rows_of_the_page_with_its_filters(app, site, login_as):
    client = browser_of(app)
    search_and_open(client, "重置密码", site["reset"])
    visit(browser_of(app), site["paper"].url_path)
    flushed(app)
    marketer = login_as("marketer")
    response = marketer.get("/admin/insights/results/results.csv?by=team&sort=name.asc")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [(row["name"], row["articles"], row["views"], row["entrances"]) for row in rows] == [
        ("售前", "1", "1", "0"),
        ("客服", "2", "1", "1"),
    ]
    assert rows[1]["exit_rate"] == "1.0000"
    kinds = marketer.get("/admin/insights/results/results.csv?kind=help")
    titles = [
        row["title"] for row in csv.DictReader(io.StringIO(kinds.get_data(as_text=True).lstrip("\ufeff")))
    ]
    assert sorted(titles) == ["如何重置密码", "配置单点登录"]


def test_the_page_sorts_filters_and_links_each_team(app, site, login_as):
    visit(browser_of(app), site["sso"].url_path)
    for _reader in range(2):
        visit(browser_of(app), site["reset"].url_path)
    flushed(app)
    marketer = login_as("marketer")
    page = marketer.get("/admin/insights/results/").get_data(as_text=True)
    assert page.index("如何重置密码") < page.index("配置单点登录")  # most views first
    page = marketer.get("/admin/insights/results/?sort=views.asc").get_data(as_text=True)
    assert page.index("配置单点登录") < page.index("如何重置密码")
    assert 'aria-sort="ascending"' in page
    teams = marketer.get("/admin/insights/results/?by=team").get_data(as_text=True)
    assert f"/admin/insights/results/teams/{site['support'].id}" in teams
    team_page = marketer.get(f"/admin/insights/results/teams/{site['support'].id}").get_data(as_text=True)
    assert (
        "chart-team-trend" in team_page
        and "如何重置密码" in team_page
        and site["paper"].title not in team_page
    )


def test_editors_see_their_teams_and_other_roles_nothing(app, site, login_as):
    from tests.conftest import sign_in_session

    editor = app.test_client()
    sign_in_session(editor, site["wang"])
    page = editor.get("/admin/insights/results/").get_data(as_text=True)
    assert "如何重置密码" in page and site["paper"].title not in page
    # Another team in the URL is not theirs: ignored on the list, not found as a page.
    assert site["paper"].title not in editor.get(
        f"/admin/insights/results/?team={site['presales'].id}"
    ).get_data(as_text=True)
    assert editor.get(f"/admin/insights/results/teams/{site['presales'].id}").status_code == 404
    assert editor.get(f"/admin/insights/results/teams/{site['support'].id}").status_code == 200
    assert login_as("sales").get("/admin/insights/results/").status_code == 403
    assert login_as("marketer").get("/admin/insights/results/teams/999999").status_code == 404


def test_pages_people_leave_after_a_search_rise_in_the_review_queue(app, default_teams, search_index):
    now = utcnow()
    older = make_article("旧的说明。", title="早就过期", slug="older", published_at=now - timedelta(days=230))
    newer = make_article(
        "打开登录页，点击忘记密码，按邮件里的链接重置密码。",
        title="如何重置密码",
        slug="newer",
        published_at=now - timedelta(days=190),
    )

    def queue():
        return [row.article.id for row in freshness.review_queue(now=utcnow())]

    assert queue() == [older.id, newer.id]  # most overdue first
    stays = browser_of(app)  # found it by search and read on: no signal
    search_and_open(stays, "重置密码", newer)
    visit(stays, older.url_path)
    flushed(app)
    assert queue() == [older.id, newer.id]
    for _reader in range(2):  # found it by search and left the site from it
        search_and_open(browser_of(app), "重置密码", newer)
    flushed(app)
    [first, second] = freshness.review_queue(now=utcnow())
    assert first.article.id == newer.id and first.signals == {"exits_after_search": 2}
    assert freshness.signal_labels()["exits_after_search"]


def test_pages_people_leave_after_a_search_are_what_to_write_next(app, site, login_as):
    from content.ideas import what_to_write_next
    from insights.ideas import MIN_VIEWS

    reset, sso = site["reset"], site["sso"]
    readers = [browser_of(app) for _reader in range(MIN_VIEWS)]
    for client in readers:  # found it by search; all but the last left the site from it
        search_and_open(client, "重置密码", reset)
    visit(readers[-1], sso.url_path)
    search_and_open(browser_of(app), "单点登录", sso)  # one visit that left is not evidence
    flushed(app)

    def ideas():
        groups = {group.source.name: group for group in what_to_write_next(app, now=utcnow())}
        return [(idea.key, idea.count, idea.rate) for idea in groups["high_exit_pages"].ideas]

    assert ideas() == [(f"exit:{reset.id}", MIN_VIEWS, (MIN_VIEWS - 1) / MIN_VIEWS)]
    editor = login_as("editor")
    join_team(site["support"], editor.user)
    page = editor.get("/admin/content/calendar/ideas").get_data(as_text=True)
    assert "搜索后离开本站的页面" in page and f"{MIN_VIEWS} 次从搜索进入，其中 80% 离开了本站" in page
    # A visit older than the last 30 days no longer counts: too few views left.
    visitor = readers[0].get_cookie(tracking.VISITOR_COOKIE).value
    db.session.execute(
        update(Event).where(Event.visitor_id == visitor).values(occurred_at=utcnow() - timedelta(days=40))
    )
    db.session.commit()
    assert ideas() == []
