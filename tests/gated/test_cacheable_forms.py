"""Lead forms on pages any cache may serve: the same bytes for every visitor, while each
lead still records where it came from (the URL the form is sent to, the referrer the
page's script adds) and a known visitor is asked only what is unknown (/forms/known)."""

import pytest
from sqlalchemy import select

from core.extensions import db
from gated.models import Lead, Submission
from tests.factories import form_data, open_mailed_link

pytestmark = pytest.mark.usefixtures("app")

VISITS = (
    ("?utm_source=zhihu&utm_medium=social&utm_campaign=spring", "https://www.zhihu.com/question/1"),
    ("?utm_source=baidu&utm_medium=cpc&utm_campaign=renewal", "https://www.baidu.com/s?wd=续费"),
)


@pytest.mark.parametrize("path", ["/library/saas-renewal", "/demo-request", "/newsletter"])
def test_two_visitors_from_two_campaigns_get_the_same_public_page(app, whitepaper, path):
    pages = []
    for query, referrer in VISITS:
        response = app.test_client().get(path + query, headers={"Referer": referrer})
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers
        assert response.cache_control.public and response.cache_control.s_maxage is not None
        pages.append(response)
    first, second = pages
    assert first.get_data() == second.get_data()
    assert first.headers["ETag"] == second.headers["ETag"]
    body = first.get_data(as_text=True)
    assert "zhihu" not in body and "baidu" not in body
    again = app.test_client().get(path + VISITS[1][0], headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_each_lead_records_its_own_campaign_and_referrer_from_the_submission(app, whitepaper):
    for number, (query, referrer) in enumerate(VISITS):
        visitor = app.test_client()
        visitor.get("/library/saas-renewal" + query, headers={"Referer": referrer})
        # The form posts to its page's own URL; the script put document.referrer in.
        data = form_data(
            email=f"visitor{number}@example.cn",
            referrer=referrer,
            utm_source=None,
            utm_medium=None,
            utm_campaign=None,
        )
        response = visitor.post("/library/saas-renewal" + query, data=data)
        assert response.status_code == 303
    submissions = db.session.scalars(select(Submission).order_by(Submission.id)).all()
    assert [(s.utm.get("utm_source"), s.utm.get("utm_campaign")) for s in submissions] == [
        ("zhihu", "spring"),
        ("baidu", "renewal"),
    ]
    assert [s.referrer for s in submissions] == [referrer for _query, referrer in VISITS]
    assert [s.channel for s in submissions] == ["social", "paid_search"]
    assert [s.landing_page for s in submissions] == ["/library/saas-renewal" + q for q, _r in VISITS]
    leads = db.session.scalars(select(Lead).order_by(Lead.id)).all()
    assert [lead.first_utm_source for lead in leads] == ["zhihu", "baidu"]


def test_a_campaign_landing_earlier_in_the_visit_is_kept_by_the_beacon(app, whitepaper):
    visitor = app.test_client()
    page = visitor.get("/help/?utm_source=weibo&utm_medium=social")
    assert "Set-Cookie" not in page.headers
    beacon = visitor.post(
        "/beacon",
        data={"u": "/help/?utm_source=weibo&utm_medium=social", "r": "https://weibo.com/x"},
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert beacon.status_code == 204 and "lodestar_touch=" in beacon.headers["Set-Cookie"]
    visitor.post("/library/saas-renewal", data=form_data(utm_source=None, utm_medium=None, utm_campaign=None))
    submission = db.session.scalar(select(Submission))
    assert submission.utm["utm_source"] == "weibo" and submission.referrer == "https://weibo.com/x"
    assert submission.landing_page == "/help/?utm_source=weibo&utm_medium=social"


def test_a_known_visitor_gets_the_same_page_and_their_questions_by_json(app, client, whitepaper, recorder):
    anonymous = app.test_client().get("/library/saas-renewal")
    assert client.get("/forms/known?kind=whitepaper").get_json() == {"known": False}
    client.post("/library/saas-renewal", data={"email": "a@b.com", "started": form_data()["started"]})
    lead = db.session.scalar(select(Lead))
    _article, asset = whitepaper
    open_mailed_link(client, lead.id, asset.id)
    page = client.get("/library/saas-renewal")
    assert page.get_data() == anonymous.get_data() and page.cache_control.public
    known = client.get("/forms/known?kind=whitepaper")
    assert known.headers["Cache-Control"] == "private, no-store"
    answer = known.get_json()
    assert answer["known"] is True and "a@b.com" in answer["greeting"]
    assert answer["ask"] == ["name", "company"] and answer["consent"] is True
    assert "email" in answer["fields"]
    assert client.get("/forms/known?kind=nonsense").get_json() == {"known": False}
    # The greeting speaks the form page's language (an English white paper read by a
    # visitor of the Chinese site), not the visitor's; an unknown language changes nothing.
    english = client.get("/forms/known?kind=whitepaper&lang=en").get_json()
    assert english["greeting"].startswith("Welcome back") and english["forget"] == "Not you?"
    chinese = client.get("/forms/known?kind=whitepaper&lang=zh-CN").get_json()
    assert chinese["greeting"].startswith("欢迎回来") and chinese["forget"] == "不是您？"
    unknown = client.get("/forms/known?kind=whitepaper&lang=fr").get_json()
    assert unknown == client.get("/forms/known?kind=whitepaper").get_json()
