"""The nurture lists (sequences, the message log, the development Outbox) on the shared
list pieces: text search, filters kept in the URL and through the pages, sortable
columns both ways, keyset pages that neither repeat nor skip rows sharing a sort value,
a count, and an empty state that says what to do, all in Chinese."""

import re
from datetime import timedelta
from email.message import EmailMessage
from html import unescape

import pytest

from core.extensions import db
from core.timeutil import utcnow
from nurture import listing
from nurture.models import Message, Sequence

pytestmark = pytest.mark.usefixtures("app")
SEQUENCES = "/admin/nurture/"
MESSAGES = "/admin/nurture/messages"
OUTBOX = "/admin/nurture/outbox"


def next_link(html: str) -> str:
    return unescape(re.search(r'rel="next" href="([^"]+)"', html).group(1))


def prev_link(html: str) -> str:
    return unescape(re.search(r'rel="prev" href="([^"]+)"', html).group(1))


def all_pages(client, url: str, cells) -> list[list[str]]:
    """Each page's rows, following the Next links from `url`."""
    pages = []
    while True:
        html = client.get(url).get_data(as_text=True)
        pages.append(cells(html))
        if 'rel="next"' not in html:
            return pages
        url = next_link(html)


# -- sequences ------------------------------------------------------------------------


def sequences(*names, status="active", at=None):
    at = at or utcnow()
    made = [
        Sequence(slug=f"seq-{status}-{n}", name=name, status=status, created_at=at, updated_at=at)
        for n, name in enumerate(names)
    ]
    db.session.add_all(made)
    db.session.commit()
    return made


def sequence_names(html: str) -> list[str]:
    return re.findall(r'/admin/nurture/(?:\d+)">([^<]+)</a>', html)


def test_sequences_are_searched_filtered_sorted_and_paged(login_as, monkeypatch):
    monkeypatch.setattr(listing, "PAGE_SIZE", 2)
    sequences("A 白皮书培育", "B 试用转化", "C 续费提醒")
    sequences("D 旧活动", status="archived")
    marketer = login_as("marketer")
    html = marketer.get(SEQUENCES).get_data(as_text=True)
    assert "(4)" in html and 'aria-sort="ascending"' in html
    assert all_pages(marketer, SEQUENCES, sequence_names) == [
        ["A 白皮书培育", "B 试用转化"],
        ["C 续费提醒", "D 旧活动"],
    ]
    reverse = marketer.get(SEQUENCES + "?sort=name_desc").get_data(as_text=True)
    assert 'aria-sort="descending"' in reverse
    assert sum(all_pages(marketer, SEQUENCES + "?sort=name_desc", sequence_names), []) == [
        "D 旧活动",
        "C 续费提醒",
        "B 试用转化",
        "A 白皮书培育",
    ]
    found = marketer.get(SEQUENCES + "?q=续费").get_data(as_text=True)
    assert sequence_names(found) == ["C 续费提醒"] and "(1)" in found
    assert sequence_names(marketer.get(SEQUENCES + "?q=SEQ-ARCHIVED").get_data(as_text=True)) == ["D 旧活动"]
    # The status filter and the sort stay in the Next link.
    live = all_pages(marketer, SEQUENCES + "?status=active&sort=name_desc", sequence_names)
    assert live == [["C 续费提醒", "B 试用转化"], ["A 白皮书培育"]]


def test_sequences_sharing_a_sort_value_page_by_id_without_repeat_or_gap(login_as, monkeypatch):
    monkeypatch.setattr(listing, "PAGE_SIZE", 3)
    at = utcnow() - timedelta(hours=1)
    made = sequences(*(f"同名 {n}" for n in range(7)), at=at)
    marketer = login_as("marketer")
    for sort, expected in (("updated", made[::-1]), ("updated_asc", made)):
        pages = all_pages(marketer, f"{SEQUENCES}?sort={sort}", sequence_names)
        assert [len(page) for page in pages] == [3, 3, 1]
        assert sum(pages, []) == [sequence.name for sequence in expected]  # the id breaks the ties
    html = marketer.get(f"{SEQUENCES}?sort=updated").get_data(as_text=True)
    second = marketer.get(next_link(html)).get_data(as_text=True)
    back = marketer.get(prev_link(second)).get_data(as_text=True)
    assert sequence_names(back) == sequence_names(html)


def test_sequence_list_empty_states_say_what_to_do(login_as):
    marketer = login_as("marketer")
    empty = marketer.get(SEQUENCES).get_data(as_text=True)
    assert "还没有序列。可以在浏览器中新建" in empty and "/admin/nurture/new" in empty and "(0)" in empty
    sequences("白皮书培育")
    none = marketer.get(SEQUENCES + "?q=没有这个").get_data(as_text=True)
    assert "没有符合条件的培育序列。" in none and "清除筛选" in none


# -- the message log -------------------------------------------------------------------


def messages(count, *, at=None, **fields):
    at = at or utcnow() - timedelta(hours=2)
    made = [
        Message(
            kind=fields.get("kind", "transactional"),
            to_address=fields.get("to_address", f"p{n}@acme.cn"),
            subject=fields.get("subject", f"主题 {n}"),
            status=fields.get("status", "sent"),
            created_at=at,
            sent_at=at,
            open_count=fields.get("open_count", 0),
            sequence_id=fields.get("sequence_id"),
        )
        for n in range(count)
    ]
    db.session.add_all(made)
    db.session.commit()
    return made


def message_ids(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'/admin/nurture/messages/(\d+)">', html)]


def test_messages_sharing_a_time_page_by_id_without_repeat_or_gap(login_as, monkeypatch):
    monkeypatch.setattr(listing, "PAGE_SIZE", 4)
    made = messages(10)  # all queued in the same instant
    ids = [message.id for message in made]
    marketer = login_as("marketer")
    html = marketer.get(MESSAGES).get_data(as_text=True)
    assert "(10)" in html and 'aria-sort="descending"' in html
    newest = all_pages(marketer, MESSAGES, message_ids)
    assert [len(page) for page in newest] == [4, 4, 2] and sum(newest, []) == ids[::-1]
    oldest = all_pages(marketer, MESSAGES + "?sort=created_asc", message_ids)
    assert sum(oldest, []) == ids
    opens = all_pages(marketer, MESSAGES + "?sort=opens_asc", message_ids)  # every count is 0
    assert sum(opens, []) == ids


def test_messages_are_searched_sorted_and_keep_their_filters_through_the_pages(login_as, monkeypatch):
    monkeypatch.setattr(listing, "PAGE_SIZE", 2)
    [welcome] = sequences("欢迎序列")
    nurtured = messages(5, kind="nurture", sequence_id=welcome.id, subject="欢迎加入")
    messages(3, kind="nurture", sequence_id=welcome.id, status="failed")
    messages(2, kind="transactional", subject="下载链接")
    read = messages(1, to_address="reader@example.com", subject="Renewal tips", open_count=9)[0]
    marketer = login_as("marketer")
    url = f"{MESSAGES}?status=sent&sequence={welcome.id}"
    first = marketer.get(url).get_data(as_text=True)
    assert "(5)" in first
    link = next_link(first)
    assert f"sequence={welcome.id}" in link and "status=sent" in link
    pages = all_pages(marketer, url, message_ids)
    assert sorted(sum(pages, [])) == [message.id for message in nurtured]
    # Search by recipient or by subject, whatever the case.
    assert message_ids(marketer.get(MESSAGES + "?q=READER@Example").get_data(as_text=True)) == [read.id]
    assert message_ids(marketer.get(MESSAGES + "?q=RENEWAL").get_data(as_text=True)) == [read.id]
    found = marketer.get(MESSAGES + "?q=下载链接").get_data(as_text=True)
    assert len(message_ids(found)) == 2 and "(2)" in found
    assert message_ids(marketer.get(MESSAGES + "?sort=opens").get_data(as_text=True))[0] == read.id
    assert sum(all_pages(marketer, MESSAGES + "?sort=opens_asc", message_ids), [])[-1] == read.id
    by_recipient = sum(all_pages(marketer, MESSAGES + "?sort=to&kind=transactional", message_ids), [])
    addresses = [db.session.get(Message, found).to_address for found in by_recipient]
    assert addresses == sorted(addresses) and len(addresses) == 3
    descending = sum(all_pages(marketer, MESSAGES + "?sort=to_desc&kind=transactional", message_ids), [])
    assert descending == by_recipient[::-1]
    # Filters kept in a sort header's link.
    sorted_link = re.search(r'<a class="sort-link" href="([^"]+)">收件人', first).group(1)
    assert f"sequence={welcome.id}" in unescape(sorted_link) and "status=sent" in unescape(sorted_link)


def test_message_log_empty_states_in_chinese(login_as):
    marketer = login_as("marketer")
    empty = marketer.get(MESSAGES).get_data(as_text=True)
    assert "还没有邮件" in empty and "(0)" in empty
    messages(1)
    none = marketer.get(MESSAGES + "?q=nobody&status=failed").get_data(as_text=True)
    assert "没有符合条件的邮件" in none and "清除筛选" in none
    assert 'value="nobody"' in none and 'value="failed" selected' in none


# -- the Outbox -------------------------------------------------------------------------


@pytest.fixture
def outbox(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOX_DIR", str(tmp_path))
    return tmp_path


def caught(folder, stamp: int, to: str, subject: str) -> str:
    mail = EmailMessage()
    mail["From"] = "noreply@example.com"
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = "Sat, 05 Dec 2026 08:00:00 +0000"
    mail.set_content("正文")
    name = f"{stamp}.000000-{stamp % 2**32:08x}.eml"
    (folder / name).write_bytes(mail.as_bytes())
    return name


def outbox_names(html: str) -> list[str]:
    return re.findall(r'/admin/nurture/outbox/([0-9.]+-[0-9a-f]{8}\.eml)"', html)


def test_outbox_is_searched_sorted_and_paged(login_as, outbox, monkeypatch):
    monkeypatch.setattr(listing, "PAGE_SIZE", 2)
    names = [caught(outbox, 1_764_900_000 + n, f"p{n}@acme.cn", "同一个主题") for n in range(5)]
    other = caught(outbox, 1_764_900_100, "Boss@Acme.cn", "报价单")
    marketer = login_as("marketer")
    html = marketer.get(OUTBOX).get_data(as_text=True)
    assert "(6)" in html and outbox_names(html) == [other, names[4]]  # the newest first
    assert sum(all_pages(marketer, OUTBOX, outbox_names), []) == [other, *names[::-1]]
    assert sum(all_pages(marketer, OUTBOX + "?sort=caught_asc", outbox_names), []) == [*names, other]
    # Five mails share a subject: their file names (the time caught) break the tie.
    by_subject = all_pages(marketer, OUTBOX + "?sort=subject", outbox_names)
    assert [len(page) for page in by_subject] == [2, 2, 2]
    assert sum(by_subject, []) == [*names, other]  # 同 (U+540C) before 报 (U+62A5)
    assert sum(all_pages(marketer, OUTBOX + "?sort=subject_desc", outbox_names), []) == [other, *names[::-1]]
    assert sum(all_pages(marketer, OUTBOX + "?sort=to", outbox_names), []) == [other, *names]
    found = all_pages(marketer, OUTBOX + "?q=acme.cn&sort=to_desc", outbox_names)
    assert sum(found, []) == [*names[::-1], other] and all(len(page) <= 2 for page in found)
    searched = marketer.get(OUTBOX + "?q=BOSS@").get_data(as_text=True)
    assert outbox_names(searched) == [other] and "(1)" in searched


def test_outbox_empty_states_say_what_to_do(login_as, outbox):
    marketer = login_as("marketer")
    empty = marketer.get(OUTBOX).get_data(as_text=True)
    assert "发件箱是空的" in empty and "(0)" in empty
    caught(outbox, 1_764_900_000, "p@acme.cn", "你好")
    none = marketer.get(OUTBOX + "?q=没有").get_data(as_text=True)
    assert "没有符合条件的截获邮件。" in none and "清除筛选" in none


def test_bad_list_arguments_never_break_the_nurture_lists(login_as, outbox):
    marketer = login_as("marketer")
    for path in (SEQUENCES, MESSAGES, OUTBOX):
        for query in (
            "?sort=x&after=zz_1&sequence=-1&status=nope",
            "?before=2026-13-01_5&page=0",
            "?q=" + "长" * 500,
        ):
            assert marketer.get(path + query).status_code == 200, path + query
