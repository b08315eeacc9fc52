"""The team's iCal feed: RFC 5545 text read back line by line (CRLF, 75-octet folding,
escaped text, DTSTAMP, stable UIDs, all-day dates), only the team's pieces, and a 404 for
a bad, tampered or foreign token."""

import re
from datetime import date, timedelta
from html import unescape

import pytest

from content.ical import Event, calendar_text, escape_text, fold
from core.localtime import local_today
from core.timeutil import utcnow
from core.tokens import sign
from tests.conftest import join_team
from tests.factories import make_article

LONG_TITLE = "面向制造业客户的私有化部署指南，包含单点登录；权限与审计\\日志的配置" * 2


def unfold(raw: bytes) -> list[str]:
    """The content lines of an iCalendar body, after checking its physical lines."""
    assert raw.endswith(b"\r\n")
    physical = raw.split(b"\r\n")[:-1]
    for line in physical:
        assert b"\n" not in line and b"\r" not in line
        assert len(line) <= 75, line
        line.decode("utf-8")  # a fold never splits a character
    return raw.decode("utf-8").replace("\r\n ", "").split("\r\n")[:-1]


def unescape_text(value: str) -> str:
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def events(lines: list[str]) -> list[dict]:
    """Each VEVENT as {property (with its parameters): value}."""
    found, current = [], None
    for line in lines:
        name, _, value = line.partition(":")
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT":
            found.append(current)
            current = None
        elif current is not None:
            assert name not in current, name
            current[name] = value
    return found


def test_text_is_escaped_and_folded_without_splitting_characters():
    assert escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    line = "SUMMARY:" + escape_text(LONG_TITLE)
    folded = fold(line)
    parts = folded.split("\r\n")
    assert len(parts) > 2
    assert all(len(part.encode()) <= 75 for part in parts)
    assert all(part.startswith(" ") for part in parts[1:])
    assert folded.replace("\r\n ", "") == line
    text = calendar_text("x", [Event("a@b", date(2027, 1, 31), "t", utcnow())])
    assert "DTSTART;VALUE=DATE:20270131\r\nDTEND;VALUE=DATE:20270201\r\n" in text


@pytest.fixture
def feed(app, default_teams, login_as):
    """市场's feed URL as its calendar page shows it, and what it should hold."""
    editor = login_as("editor")
    join_team(default_teams["市场"], editor.user)
    target = local_today() + timedelta(days=5)
    response = editor.post(
        "/admin/content/calendar/plans/new",
        data={
            "title": LONG_TITLE,
            "kind": "whitepaper",
            "team": str(default_teams["市场"].id),
            "owner": str(editor.user.id),
            "target_date": target.isoformat(),
            "serves": "新品发布, 第一季度",
        },
    )
    assert response.status_code == 303
    published = make_article(title="已发布的博客", kind="blog")  # 市场's kind
    make_article(title="已排期的博客", kind="blog", published_at=utcnow() + timedelta(days=3))
    make_article(title="客服的帮助文章", kind="help")  # another team's
    page = editor.get(f"/admin/content/calendar/?team={default_teams['市场'].id}").get_data(as_text=True)
    url = unescape(re.search(r'value="(http://localhost/calendar/[^"]+\.ics)"', page).group(1))
    return {
        "url": url.removeprefix("http://localhost"),
        "editor": editor,
        "target": target,
        "published": published,
    }


def test_the_team_feed_reads_back_line_by_line(app, feed, client):
    response = client.get(feed["url"])
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    lines = unfold(response.get_data())
    assert lines[:2] == ["BEGIN:VCALENDAR", "VERSION:2.0"] and lines[-1] == "END:VCALENDAR"
    assert any(line.startswith("PRODID:") for line in lines)
    found = events(lines)
    by_summary = {unescape_text(event["SUMMARY"]): event for event in found}
    assert set(by_summary) == {f"计划中：{LONG_TITLE}", "已发布：已发布的博客", "已定时：已排期的博客"}
    for event in found:
        assert re.fullmatch(r"\d{8}T\d{6}Z", event["DTSTAMP"])
        assert re.fullmatch(r"\d{8}", event["DTSTART;VALUE=DATE"])
        assert event["UID"].endswith("@localhost")
    plan = by_summary[f"计划中：{LONG_TITLE}"]
    assert plan["DTSTART;VALUE=DATE"] == feed["target"].strftime("%Y%m%d")
    assert plan["DTEND;VALUE=DATE"] == (feed["target"] + timedelta(days=1)).strftime("%Y%m%d")
    assert "服务于：新品发布\\, 第一季度" in plan["DESCRIPTION"]
    assert unescape_text(plan["DESCRIPTION"]).split("\n")[0] == "白皮书"
    article = by_summary["已发布：已发布的博客"]
    assert article["UID"].startswith(f"article-{feed['published'].id}@")

    # The same piece keeps its UID when it moves; only its day changes.
    plan_id = int(re.match(r"plan-(\d+)@", plan["UID"]).group(1))
    later = feed["target"] + timedelta(days=2)
    feed["editor"].post(
        f"/admin/content/calendar/plans/{plan_id}/move", data={"target_date": later.isoformat()}
    )
    again = {event["UID"]: event for event in events(unfold(client.get(feed["url"]).get_data()))}
    assert set(again) == {event["UID"] for event in found}
    assert again[plan["UID"]]["DTSTART;VALUE=DATE"] == later.strftime("%Y%m%d")


def test_a_bad_or_tampered_token_is_not_found(app, feed, client, default_teams):
    token = feed["url"].removeprefix("/calendar/").removesuffix(".ics")
    tampered = token[:-4] + ("AAAA" if token[-4:] != "AAAA" else "BBBB")
    for path in (
        f"/calendar/{tampered}.ics",
        "/calendar/not-a-token.ics",
        f"/calendar/{sign('download', {'team': default_teams['市场'].id})}.ics",  # another purpose
        f"/calendar/{sign('calendar-feed', {'team': 99999})}.ics",  # no such team
        f"/calendar/{sign('calendar-feed', {'team': 'x'})}.ics",
    ):
        assert client.get(path).status_code == 404, path
    assert client.get(feed["url"]).status_code == 200
