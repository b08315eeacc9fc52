"""The lead list's pages: Next/Previous links carry a keyset cursor, old ?page= links
still work, the count stops at a cap, the source filter offers recent sources."""

import re
from datetime import datetime, timedelta

import pytest
from flask import current_app

from core.extensions import db
from gated import listing
from gated.models import Lead

pytestmark = pytest.mark.usefixtures("app")
START = datetime(2026, 3, 1, 9, 30, 15, 123456)


@pytest.fixture
def seven_leads():
    """Seven leads, newest first lead6..lead0; lead3 and lead4 share a creation time,
    so only the id orders them."""
    times = [START + timedelta(hours=n) for n in range(7)]
    times[4] = times[3]
    for n, at in enumerate(times):
        db.session.add(
            Lead(
                email=f"lead{n}@example.com", stage="mql" if n % 2 else "new", source=f"src{n}", created_at=at
            )
        )
    db.session.commit()
    current_app.config["LEADS_PER_PAGE"] = 3
    order = db.session.scalars(db.select(Lead.email).order_by(Lead.created_at.desc(), Lead.id.desc())).all()
    return order


def emails(html: str) -> list[str]:
    return re.findall(r">(lead\d@example\.com)</a>", html)


def page_of(n: int, total: int) -> str:
    return f"第 {n} 页，共 {total} 页"  # the admin speaks Chinese unless told otherwise


def link(html: str, rel: str) -> str | None:
    found = re.search(rf'rel="{rel}" href="([^"]+)"', html)
    return found.group(1).replace("&amp;", "&") if found else None


def test_next_and_previous_links_walk_every_lead_once_in_order(login_as, seven_leads):
    client = login_as("marketer")
    html = client.get("/admin/leads/").get_data(as_text=True)
    pages, urls = [emails(html)], []
    assert page_of(1, 3) in html and link(html, "prev") is None
    while (url := link(html, "next")) is not None:
        assert "after=" in url
        urls.append(url)
        html = client.get(url).get_data(as_text=True)
        pages.append(emails(html))
    assert [email for page in pages for email in page] == seven_leads
    assert [len(page) for page in pages] == [3, 3, 1]
    assert page_of(3, 3) in html

    back = [emails(html)]
    while (url := link(html, "prev")) is not None:
        assert "before=" in url
        html = client.get(url).get_data(as_text=True)
        back.append(emails(html))
    assert back[::-1] == pages
    assert page_of(1, 3) in html


def test_old_page_links_show_the_same_rows_as_the_next_link(login_as, seven_leads):
    client = login_as("marketer")
    first = client.get("/admin/leads/").get_data(as_text=True)
    by_cursor = client.get(link(first, "next")).get_data(as_text=True)
    by_number = client.get("/admin/leads/?page=2").get_data(as_text=True)
    assert emails(by_number) == emails(by_cursor) == seven_leads[3:6]
    assert page_of(2, 3) in by_number


def test_filters_ride_along_the_cursor_links(login_as, seven_leads):
    client = login_as("marketer")
    current_app.config["LEADS_PER_PAGE"] = 2
    html = client.get("/admin/leads/?stage=mql").get_data(as_text=True)
    url = link(html, "next")
    assert "stage=mql" in url
    second = emails(client.get(url).get_data(as_text=True))
    assert second == ["lead1@example.com"]


@pytest.mark.parametrize(
    "query",
    [
        "after=nonsense",
        "before=2026-13-01T00:00:00_x",
        "after=_",
        "after=2026-03-01T09:30:15_99999999999999999999",
        "before=2026-03-01T09:30:15%2B08:00_3",
        "page=abc",
        "page=99999999999",
        "page=0",
    ],
)
def test_bad_page_arguments_fall_back_without_an_error(login_as, seven_leads, query):
    response = login_as("marketer").get("/admin/leads/?" + query)
    assert response.status_code == 200


def test_bad_cursor_shows_the_first_page(login_as, seven_leads):
    html = login_as("marketer").get("/admin/leads/?after=nonsense").get_data(as_text=True)
    assert emails(html) == seven_leads[:3]


def test_the_count_stops_at_the_cap(login_as, seven_leads, monkeypatch):
    monkeypatch.setattr(listing, "COUNT_CAP", 5)
    html = login_as("marketer").get("/admin/leads/").get_data(as_text=True)
    assert "(5+)" in html and "第 1 页</span>" in html
    assert link(html, "next") is not None
    monkeypatch.setattr(listing, "COUNT_CAP", 7)
    html = login_as("marketer").get("/admin/leads/").get_data(as_text=True)
    assert "(7)" in html and page_of(1, 3) in html


def test_source_filter_offers_recent_sources_and_keeps_the_chosen_one(login_as, seven_leads, monkeypatch):
    monkeypatch.setattr(listing, "SOURCES_WINDOW", 2)
    client = login_as("marketer")
    html = client.get("/admin/leads/").get_data(as_text=True)
    assert 'value="src6"' in html and 'value="src5"' in html and 'value="src0"' not in html
    html = client.get("/admin/leads/?source=src0").get_data(as_text=True)
    assert '<option value="src0" selected>' in html
    assert emails(html) == ["lead0@example.com"]
