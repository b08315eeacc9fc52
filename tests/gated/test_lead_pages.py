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


def test_sorting_by_score_walks_every_lead_once_by_keyset(login_as, seven_leads):
    for n, lead in enumerate(db.session.scalars(db.select(Lead).order_by(Lead.email))):
        lead.score = [30, 10, 30, 50, 0, 30, 20][n]
    db.session.commit()
    client = login_as("marketer")
    html = client.get("/admin/leads/?sort=score&stage=").get_data(as_text=True)
    pages = [emails(html)]
    while (url := link(html, "next")) is not None:
        assert "sort=score" in url and "after=" in url
        html = client.get(url).get_data(as_text=True)
        pages.append(emails(html))
    walked = [email for page in pages for email in page]
    by_score = db.session.scalars(db.select(Lead.email).order_by(Lead.score.desc(), Lead.id.desc())).all()
    assert walked == by_score and len(set(walked)) == 7
    back = [emails(html)]
    while (url := link(html, "prev")) is not None:
        html = client.get(url).get_data(as_text=True)
        back.append(emails(html))
    assert back[::-1] == pages


def test_column_headers_sort_and_keep_the_filters(login_as, seven_leads):
    html = login_as("marketer").get("/admin/leads/?stage=mql&sort=score").get_data(as_text=True)
    score = re.search(
        r'<th scope="col" aria-sort="descending">\s*<a class="sort-link" href="([^"]+)">评分', html
    )
    assert score, "the score column is sorted, highest first"
    assert "sort=score_asc" in score.group(1) and "stage=mql" in score.group(1)
    created = re.search(r'<th scope="col">\s*<a class="sort-link" href="([^"]+)">创建时间', html)
    assert "sort=created" in created.group(1) and "stage=mql" in created.group(1)
    assert '<input type="hidden" name="sort" value="score">' in html  # the filter form keeps it


def test_the_list_shows_score_and_owner(login_as, seven_leads):
    from insights.scoring.models import Handoff
    from tests.factories import UserFactory

    owner = UserFactory(role="sales", name="王销售")
    lead = db.session.scalars(db.select(Lead).filter_by(email="lead6@example.com")).one()
    lead.score = 77
    db.session.add(Handoff(lead_id=lead.id, owner_id=owner.id, score=77))
    db.session.commit()
    html = login_as("marketer").get("/admin/leads/").get_data(as_text=True)
    row = re.search(r"lead6@example\.com</a>.*?</tr>", html, re.S).group(0)
    assert '<td class="num">77</td>' in row and "<td>王销售</td>" in row
    assert ">负责人</th>" in html


def test_bulk_stage_change_moves_the_ticked_leads_only(login_as, seven_leads):
    client = login_as("marketer")
    ids = db.session.scalars(
        db.select(Lead.id).where(Lead.email.in_(["lead0@example.com", "lead2@example.com"]))
    ).all()
    answer = client.post(
        "/admin/leads/stages",
        data={"lead": [str(i) for i in ids], "stage": "sql", "next": "/admin/leads/?stage=new"},
    )
    assert answer.status_code == 302 and answer.location.endswith("/admin/leads/?stage=new")
    db.session.expire_all()
    moved = db.session.scalars(db.select(Lead.email).where(Lead.stage == "sql").order_by(Lead.email)).all()
    assert moved == ["lead0@example.com", "lead2@example.com"]
    assert "2 条线索已改为" in client.get("/admin/leads/").get_data(as_text=True)


@pytest.mark.parametrize(
    "form",
    [
        {"stage": "nonsense", "lead": ["1"]},
        {"stage": "sql"},
        {"stage": "sql", "lead": ["x", "0", "99999999999"]},
    ],
)
def test_bulk_stage_change_refuses_bad_input_and_moves_nothing(login_as, seven_leads, form):
    answer = login_as("marketer").post("/admin/leads/stages", data={**form, "next": "https://evil.example/"})
    assert answer.status_code == 302 and answer.location.endswith("/admin/leads/")
    assert db.session.scalar(db.select(db.func.count()).where(Lead.stage == "sql")) == 0


def test_an_empty_list_says_what_to_do(login_as):
    client = login_as("marketer")
    html = client.get("/admin/leads/").get_data(as_text=True)
    assert 'class="empty-state"' in html and "flask leads import" in html
    html = client.get("/admin/leads/?stage=mql").get_data(as_text=True)
    assert "清除筛选" in html


def test_the_held_list_searches_filters_and_pages_by_keyset(login_as):
    from gated.models import HeldSubmission

    for n in range(5):
        db.session.add(
            HeldSubmission(
                form="demo",
                reason="too_fast",
                email=f"held{n}@{'acme' if n % 2 else 'other'}.cn",
                fields={},
                created_at=START + timedelta(hours=n),
                released_at=START + timedelta(days=1) if n == 3 else None,
            )
        )
    db.session.commit()
    current_app.config["LEADS_PER_PAGE"] = 1
    client = login_as("marketer")
    html = client.get("/admin/leads/held?q=ACME&state=waiting").get_data(as_text=True)
    found = re.findall(r"<td>(held\d@\w+\.cn)</td>", html)
    while (url := link(html, "next")) is not None:
        assert "q=ACME" in url and "state=waiting" in url
        html = client.get(url).get_data(as_text=True)
        found += re.findall(r"<td>(held\d@\w+\.cn)</td>", html)
    assert found == ["held1@acme.cn"]  # held3 was released
    html = client.get("/admin/leads/held?state=released").get_data(as_text=True)
    assert re.findall(r"<td>(held\d@\w+\.cn)</td>", html) == ["held3@acme.cn"]
    assert 'class="empty-state"' in client.get("/admin/leads/held?q=nobody").get_data(as_text=True)


def test_a_lead_reads_in_words_and_chinese_punctuation(login_as):
    lead = Lead(
        email="lang@example.com",
        locale="en",
        source="direct",
        marketing_consent=True,
        consent_version="2026-11-01",
        consent_at=datetime(2026, 11, 24, 6, 31),
    )
    db.session.add(lead)
    db.session.commit()
    client = login_as("marketer")
    html = client.get(f"/admin/leads/{lead.id}?lang=zh_CN").get_data(as_text=True)
    assert "<dt>语言</dt><dd>英语</dd>" in html
    assert (
        '<option value="en" selected>英语</option>' in html and '<option value="zh-CN">中文</option>' in html
    )
    assert "是（2026年11月24日 14:31，同意声明版本 2026年11月1日）" in html
    assert "评分：0" in html and "阶段：" in html and "负责人：" in html
    assert ">zh-CN<" not in html and ">en<" not in html and "评分:" not in html
    listing_page = client.get("/admin/leads/?lang=zh_CN").get_data(as_text=True)
    assert '<option value="direct">直接访问</option>' in listing_page and ">direct<" not in listing_page
