"""The sharing leaderboard's weeks are the site's (Asia/Shanghai by default): a visit and a
lead at 00:30 on Monday in Shanghai (16:30 on Sunday UTC) belong to the new week, and
23:30 on Sunday in Shanghai (15:30 on Sunday UTC) to the week before."""

from datetime import date, datetime

from channels import links, sharing
from channels.models import LinkDay
from core.extensions import db
from gated.capture import RequestMeta, capture_lead
from tests.factories import UserFactory, form_data

MONDAY = date(2026, 12, 7)
PREVIOUS_MONDAY = date(2026, 11, 30)
SUNDAY_LATE = datetime(2026, 12, 6, 15, 30)  # Sunday 23:30 in Shanghai
MONDAY_EARLY = datetime(2026, 12, 6, 16, 30)  # Monday 00:30 in Shanghai, still Sunday in UTC


def _visit_and_lead(link, email: str, now: datetime) -> None:
    assert links.visit(link.code, scanned=False, now=now) is not None
    data = form_data(email=email, phone=None, utm_source="staff", utm_campaign="share")
    data["utm_content"] = f"s-{link.code}"
    capture_lead("whitepaper", data, request_meta=RequestMeta(ip="203.0.113.9"), now=now)


def test_weeks_turn_at_midnight_in_the_site_time_zone(app, whitepaper):
    article, _asset = whitepaper
    sharer = UserFactory(role="sales", name="周敏")
    link = sharing.share_link(article, now=SUNDAY_LATE, user_id=sharer.id)

    _visit_and_lead(link, "sunday@example.com", SUNDAY_LATE)
    _visit_and_lead(link, "monday@example.com", MONDAY_EARLY)

    assert {row.day: row.clicks for row in db.session.query(LinkDay)} == {
        date(2026, 12, 6): 1,
        MONDAY: 1,
    }
    this_week = sharing.sharer_board(start=MONDAY)
    last_week = sharing.sharer_board(start=PREVIOUS_MONDAY)
    assert [(row.label, row.visits, row.leads) for row in this_week] == [("周敏", 1, 1)]
    assert [(row.label, row.visits, row.leads) for row in last_week] == [("周敏", 1, 1)]
    assert sharing.figures_of_user(sharer.id, today=MONDAY) == {
        "links": 1,
        "week_visits": 1,
        "week_leads": 1,
        "visits": 2,
        "leads": 2,
    }


def test_another_site_zone_moves_the_boundary(app, whitepaper, monkeypatch):
    article, _asset = whitepaper
    monkeypatch.setitem(app.config, "TIMEZONE", "UTC")  # the app lives for the whole session
    link = sharing.share_link(article, now=SUNDAY_LATE, user_id=UserFactory(role="sales").id)
    _visit_and_lead(link, "late@example.com", MONDAY_EARLY)
    # In UTC, 16:30 on Sunday is still the week that began on 30 November.
    assert [(row.visits, row.leads) for row in sharing.sharer_board(start=PREVIOUS_MONDAY)] == [(1, 1)]
    assert sharing.sharer_board(start=MONDAY) == []
