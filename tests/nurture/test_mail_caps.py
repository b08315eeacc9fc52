"""At most MAIL_PER_RECIPIENT_PER_HOUR / _PER_DAY transactional mails to one address,
through every public way to ask for one (the white paper's download link, the demo
request's receipt, the double opt-in confirmation, a fresh link), from any IP: the form
still stores the lead and shows its page; the mails past the cap are kept as skipped
messages and never reach the SMTP server."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.timeutil import utcnow
from gated.downloads import make_download_url
from gated.leads import upsert_lead
from gated.models import Asset, Submission
from nurture import caps
from nurture.mailqueue import add_mail, queue_test
from nurture.models import Message
from tests.conftest import post_at_once
from tests.factories import form_data, make_whitepaper, started
from tests.nurture.conftest import tick

pytestmark = pytest.mark.usefixtures("app")
VICTIM = "victim@example.com"


def post_whitepaper(client):
    response = client.post("/library/saas-renewal", data=form_data(email=VICTIM))
    assert response.status_code == 303
    return response


def post_demo(client):
    response = client.post("/demo-request", data=form_data(email=VICTIM, message="想看看"))
    assert response.status_code == 303
    return response


def post_newsletter(client):
    response = client.post("/newsletter", data={"email": VICTIM, "consent": "y", "started": started()})
    assert response.status_code == 303
    return response


def post_fresh_link(client):
    lead, _created = upsert_lead(VICTIM, now=utcnow())
    db.session.commit()
    asset = db.session.scalars(select(Asset.id)).one()
    token = make_download_url(lead.id, asset, external=False).rsplit("/", 1)[1]
    response = client.post("/download/fresh", data={"token": token})
    assert response.status_code == 200
    return response


FORMS = {
    "whitepaper": post_whitepaper,
    "demo": post_demo,
    "newsletter": post_newsletter,
    "fresh link": post_fresh_link,
}


@pytest.fixture
def paper(app, monkeypatch):
    monkeypatch.setitem(app.config, "DOUBLE_OPT_IN", True)
    _article, asset = make_whitepaper()
    return asset


def mails_to(address, status):
    return db.session.scalar(
        select(func.count())
        .select_from(Message)
        .where(Message.to_address == address, Message.status == status)
    )


def from_ip(app, number):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"203.0.113.{number}"
    return client


@pytest.mark.parametrize("form", FORMS)
def test_seven_posts_queue_five_mails_to_the_address(app, paper, smtp_sink, form):
    if form == "fresh link":  # a first download, whose link is then asked for again
        post_whitepaper(from_ip(app, 200))
        db.session.execute(Message.__table__.delete())
        db.session.commit()
    for number in range(7):
        FORMS[form](from_ip(app, number))
    assert mails_to(VICTIM, "queued") == 5
    assert mails_to(VICTIM, "skipped") == 2
    skipped = db.session.scalars(select(Message.error).where(Message.status == "skipped")).all()
    assert skipped == [f"{caps.CAPPED}hour (5)"] * 2
    tick(utcnow() + timedelta(seconds=1))
    assert len(smtp_sink.wait_for(5)) == 5
    assert len(smtp_sink.wait_for(6, timeout=0.5)) == 5


NOT_SENT = "该地址最近已收到我们的多封邮件，所以这次没有再发送。"


def test_the_capped_visitor_still_gets_the_file_on_the_page_and_no_promise_of_mail(app, paper):
    pages = []
    for number in range(6):
        response = post_whitepaper(from_ip(app, number))
        pages.append(app.test_client().get(response.headers["Location"]).get_data(as_text=True))
    assert db.session.scalar(select(func.count()).select_from(Submission)) == 6
    assert all('href="/download/' in page for page in pages)
    assert [NOT_SENT in page for page in pages] == [False] * 5 + [True]
    assert mails_to(VICTIM, "skipped") == 1


def test_the_newsletter_and_the_fresh_link_say_when_no_mail_was_sent(app, paper):
    for number in range(6):
        response = post_newsletter(from_ip(app, number))
    thanks = app.test_client().get(response.headers["Location"]).get_data(as_text=True)
    assert NOT_SENT in thanks and "请稍后再试，以确认您的订阅。" in thanks
    notice = post_fresh_link(from_ip(app, 7)).get_data(as_text=True)
    assert NOT_SENT in notice and "<h1>请稍后再试</h1>" in notice


def test_the_day_cap_counts_the_last_24_hours(app, paper):
    now = utcnow()
    # 20 mails in the day before, none in the last hour; and some older than a day.
    db.session.add_all(
        Message(
            kind="transactional", to_address=VICTIM, status="sent", created_at=now - timedelta(hours=hours)
        )
        for hours in [*range(2, 22), 25, 30]
    )
    db.session.commit()
    post_whitepaper(from_ip(app, 1))
    assert (
        db.session.scalar(select(Message.error).where(Message.status == "skipped"))
        == f"{caps.CAPPED}day (20)"
    )


def test_the_hour_cap_slides_and_other_addresses_are_not_held(app, paper):
    now = utcnow()
    db.session.add_all(
        Message(
            kind="transactional",
            to_address=VICTIM,
            status="sent",
            created_at=now - timedelta(minutes=minutes),
        )
        for minutes in (61, 62, 63, 64, 65, 66)
    )
    db.session.commit()
    post_whitepaper(from_ip(app, 1))
    assert mails_to(VICTIM, "queued") == 1
    for _ in range(5):
        add_mail(to=VICTIM, template="t", context={}, now=now)
    assert mails_to("other@example.com", "queued") == 0
    assert add_mail(to="Other@Example.com", template="t", context={}, now=now).status == "queued"


def test_staff_mail_step_tests_and_nurture_mail_are_not_capped(app):
    now = utcnow()
    for _ in range(7):
        add_mail(to="sales@lodestar.example", template="t", context={}, now=now, kind="staff")
        add_mail(to="lead@example.com", template="t", context={}, now=now, kind="nurture")
        queue_test("主题", "正文", to="marketer@lodestar.example", locale="zh-CN", now=now)
    db.session.commit()
    assert mails_to("sales@lodestar.example", "queued") == 7
    assert mails_to("lead@example.com", "queued") == 7
    assert mails_to("marketer@lodestar.example", "queued") == 7


def test_no_cap_when_the_settings_are_zero(app, paper, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_PER_RECIPIENT_PER_HOUR", 0)
    monkeypatch.setitem(app.config, "MAIL_PER_RECIPIENT_PER_DAY", 0)
    for number in range(7):
        post_whitepaper(from_ip(app, number))
    assert mails_to(VICTIM, "queued") == 7


def test_concurrent_posts_still_queue_five(paper, live_server):
    """Eight posts at once to a threaded server: the count and the new row of one address
    go one request after the other, so no two see room for the same last mail."""
    answers = post_at_once(f"{live_server}/library/saas-renewal", form_data(email=VICTIM), 8)
    assert [status for status, _location in answers] == [303] * 8
    assert mails_to(VICTIM, "queued") == 5 and mails_to(VICTIM, "skipped") == 3


def test_the_admin_says_why_a_mail_was_not_sent(app, paper, login_as):
    for number in range(6):
        post_whitepaper(from_ip(app, number))
    skipped = db.session.scalar(select(Message.id).where(Message.status == "skipped"))
    page = login_as("marketer").get(f"/admin/nurture/messages/{skipped}").get_data(as_text=True)
    assert "未发送：该地址在过去一小时内已收到 5 封事务邮件。" in page
