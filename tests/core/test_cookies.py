"""What cookies public pages set, read from the Set-Cookie headers: an article page and
its "was this helpful?" vote set no session (the vote is protected by Origin/Sec-Fetch-Site,
not by a token in a session), and a visitor who sends Do Not Track or Global Privacy
Control gets no tracking cookie, from a page, a campaign landing or a form."""

import pytest
from sqlalchemy import func, select

from content.models import Feedback
from core.extensions import db
from gated.downloads import make_download_url
from gated.models import Lead
from tests.factories import BROWSER, form_data, make_article, make_whitepaper, visit

TRACKING_COOKIES = ("lodestar_vid", "lodestar_visit", "lodestar_touch", "lodestar_lead")


def mailed_link(lead, asset) -> str:
    return make_download_url(lead.id, asset.id, external=False, mailed=True)


def cookies_set(response) -> list[str]:
    return [header.split("=", 1)[0] for header in response.headers.getlist("Set-Cookie")]


@pytest.fixture
def protected(make_app, app):
    """The site with Flask-WTF's CSRF check on, as in production."""
    site = make_app(WTF_CSRF_ENABLED=True)
    with site.app_context():
        yield site


def votes() -> int:
    return db.session.scalar(select(func.count()).select_from(Feedback))


def test_a_help_article_with_its_vote_gives_a_new_visitor_no_session_cookie(client, cached):
    make_article(slug="no-cookie")
    assert "session" not in cookies_set(client.get("/help/no-cookie"))
    for _visit in range(2):  # rendered for the page cache, then served from it
        page = cached.test_client().get("/help/no-cookie")
        assert page.status_code == 200 and "session" not in cookies_set(page)
        assert 'name="helpful"' in page.get_data(as_text=True)


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "same-origin"},
        {"Origin": "http://localhost"},  # a browser without Fetch Metadata, on our page
        {},  # neither header: no browser's cross-site form
    ],
)
def test_a_vote_from_our_own_page_counts_and_sets_no_cookie(protected, headers):
    article = make_article(slug="vote-here")
    response = protected.test_client().post(
        f"/articles/{article.id}/feedback", data={"helpful": "yes"}, headers=headers
    )
    assert response.status_code == 303
    assert cookies_set(response) == []
    assert votes() == 1


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
    ],
)
def test_a_vote_forged_by_another_site_is_refused(protected, headers):
    article = make_article(slug="vote-there")
    response = protected.test_client().post(
        f"/articles/{article.id}/feedback", data={"helpful": "no"}, headers=headers
    )
    assert response.status_code == 400
    assert "表单已过期或来自其他页面。" in response.get_data(as_text=True)
    assert votes() == 0


@pytest.mark.parametrize("signal", [{"DNT": "1"}, {"Sec-GPC": "1"}])
def test_do_not_track_and_gpc_visitors_get_no_tracking_cookie(client, signal):
    make_article(slug="private")
    _article, asset = make_whitepaper(slug="private-paper")
    headers = {"User-Agent": BROWSER, **signal}
    landing = "/help/private?utm_source=baidu&utm_medium=cpc&bd_vid=1"
    for path in ("/", "/help/", "/help/private", landing, "/blog/", "/library/", "/search?q=续费"):
        response, beacon = visit(client, path, headers)
        assert response.status_code == 200
        assert cookies_set(response) == cookies_set(beacon) == [], path
    submitted = client.post("/library/private-paper", data=form_data(), headers=headers)
    assert submitted.status_code == 303
    lead = db.session.scalar(select(Lead))
    assert not set(cookies_set(submitted)) & set(TRACKING_COOKIES)
    # The link from their mailbox, which would make them a known visitor.
    with client.get(mailed_link(lead, asset), headers=headers) as downloaded:
        assert downloaded.status_code == 200
        assert not set(cookies_set(downloaded)) & set(TRACKING_COOKIES)


def test_without_the_signals_the_same_visit_is_tracked(client):
    """The other side of the test above: the same requests do set the cookies."""
    make_article(slug="tracked")
    _article, asset = make_whitepaper(slug="tracked-paper")
    headers = {"User-Agent": BROWSER}
    landing, beacon = visit(client, "/help/tracked?utm_source=baidu&utm_medium=cpc", headers)
    assert cookies_set(landing) == []  # the page is the same for everyone: its beacon sets them
    assert {"lodestar_vid", "lodestar_visit", "lodestar_touch"} <= set(cookies_set(beacon))
    client.post("/library/tracked-paper", data=form_data(), headers=headers)
    with client.get(mailed_link(db.session.scalar(select(Lead)), asset), headers=headers) as downloaded:
        assert "lodestar_lead" in cookies_set(downloaded)
