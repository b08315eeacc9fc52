"""The tickets and customer accounts lists on the shared list pieces: text search,
filters kept in the URL, sortable columns, keyset pages, a count and an empty state that
says what to do."""

import re
from datetime import timedelta

from assistant import listing
from assistant.models import Ticket
from core.extensions import db
from core.timeutil import utcnow


def tickets(count, **fields):
    start = utcnow() - timedelta(days=1)
    made = [
        Ticket(
            route="ticket",
            email=f"p{n}@acme.cn",
            name=f"客户{n}",
            subject=f"问题 {n}",
            body="正文",
            created_at=start + timedelta(minutes=n),
            updated_at=start + timedelta(minutes=n),
            **fields,
        )
        for n in range(count)
    ]
    db.session.add_all(made)
    db.session.commit()
    return made


def subjects(html):
    return re.findall(r'/admin/assistant/tickets/\d+">([^<]+)</a>', html)


def test_tickets_are_searched_filtered_sorted_and_paged(login_as, monkeypatch):
    monkeypatch.setattr(listing, "PAGE_SIZE", 3)
    tickets(5)
    tickets(1, status="closed")
    sales = login_as("sales")
    html = sales.get("/admin/assistant/").get_data(as_text=True)
    assert "(5)" in html and subjects(html) == ["问题 4", "问题 3", "问题 2"]  # open ones, newest first
    nxt = re.search(r'rel="next" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert subjects(sales.get(nxt).get_data(as_text=True)) == ["问题 1", "问题 0"]
    oldest = sales.get("/admin/assistant/?sort=created_asc").get_data(as_text=True)
    assert subjects(oldest) == ["问题 0", "问题 1", "问题 2"] and 'aria-sort="ascending"' in oldest
    assert subjects(sales.get("/admin/assistant/?q=p3%40acme").get_data(as_text=True)) == ["问题 3"]
    closed = sales.get("/admin/assistant/?status=closed").get_data(as_text=True)
    assert subjects(closed) == ["问题 0"] and "(1)" in closed
    assert len(subjects(sales.get("/admin/assistant/?status=all").get_data(as_text=True))) == 3
    empty = sales.get("/admin/assistant/?q=nothing-like-it").get_data(as_text=True)
    assert "没有符合条件的工单。" in empty and "清除筛选" in empty


def test_bad_list_arguments_never_break_the_lists(login_as):
    sales = login_as("sales")
    for path in ("/admin/assistant/", "/admin/assistant/accounts"):
        for query in (
            "?sort=x&after=zz_1&owner=-1&tier=abc",
            "?before=2026-13-01_5&page=0",
            "?q=" + "长" * 500,
        ):
            assert sales.get(path + query).status_code == 200, path + query


def test_accounts_are_searched_filtered_and_sorted(login_as, customers, levels):
    sales = login_as("sales")
    html = sales.get("/admin/assistant/accounts").get_data(as_text=True)
    names = re.findall(r'/admin/assistant/accounts/\d+">([^<]+)</a>', html)
    assert names == sorted(names) and len(names) == 3 and "(3)" in html
    reverse = sales.get("/admin/assistant/accounts?sort=company_desc").get_data(as_text=True)
    assert re.findall(r'/admin/assistant/accounts/\d+">([^<]+)</a>', reverse) == names[::-1]
    found = sales.get("/admin/assistant/accounts?q=xinghe").get_data(as_text=True)
    assert re.findall(r'/admin/assistant/accounts/\d+">([^<]+)</a>', found) == ["星河软件"]
    top = sales.get(f"/admin/assistant/accounts?tier={levels[1].id}").get_data(as_text=True)
    assert re.findall(r'/admin/assistant/accounts/\d+">([^<]+)</a>', top) == ["星河软件"]
