"""Events from real requests: page views by the page's beacon with the visitor and visit
cookies (the page itself sets none), the no-JavaScript pixel, bots and
Do Not Track, cached pages, forms, stitching a visitor to a lead, downloads, stage
changes and mail events."""

from sqlalchemy import select

from core.extensions import db
from core.hooks import lead_timeline
from core.timeutil import utcnow
from gated.downloads import make_download_url
from gated.models import Lead
from gated.stages import change_stage
from insights import tracking
from insights.models import Event
from tests.factories import BROWSER, form_data, make_whitepaper, open_mailed_link, visit
from tests.insights.conftest import article_to_visit, flushed


def test_a_page_view_sets_the_visitor_cookie_and_starts_a_visit(app, browser):
    article_to_visit("renewal")
    page, response = visit(browser, "/help/renewal", {"Referer": "https://www.baidu.com/s?wd=x"})
    assert page.status_code == 200 and "Set-Cookie" not in page.headers
    assert response.status_code == 204
    visitor = browser.get_cookie(tracking.VISITOR_COOKIE)
    assert visitor is not None and len(visitor.value) == 32
    set_cookies = response.headers.getlist("Set-Cookie")
    assert any("lodestar_vid=" in c and "HttpOnly" in c and "SameSite=Lax" in c for c in set_cookies)
    [event] = flushed()
    assert (event.kind, event.path, event.visitor_id) == ("page_view", "/help/renewal", visitor.value)
    assert (event.visit_seq, event.landing, event.channel) == (1, "/help/renewal", "organic_search")

    visit(browser, "/help/")
    events = flushed()
    assert [e.visit_seq for e in events] == [1, 2]
    assert events[1].landing == "/help/renewal" and events[1].channel == "organic_search"
    assert events[1].visitor_id == visitor.value


def test_bots_are_not_counted(app, client):
    article_to_visit("renewal")
    for agent in ("Mozilla/5.0 (compatible; Baiduspider/2.0)", "Googlebot/2.1", "curl/8.5.0", ""):
        _page, response = visit(client, "/help/renewal", {"User-Agent": agent})
        assert response.status_code == 204
        assert not any("lodestar_" in c for c in response.headers.getlist("Set-Cookie"))
    assert flushed() == []


def test_do_not_track_counts_the_view_without_any_cookie(app, browser):
    article_to_visit("renewal")
    for header in ({"DNT": "1"}, {"Sec-GPC": "1"}):
        _page, response = visit(browser, "/help/renewal", header)
        assert not any("lodestar_" in c for c in response.headers.getlist("Set-Cookie"))
    events = flushed()
    assert [(e.kind, e.visitor_id, e.visit_seq) for e in events] == [("page_view", None, 0)] * 2


def test_staff_and_admin_pages_are_not_page_views(app, login_as):
    article_to_visit("renewal")
    staff = login_as("marketer")
    staff.environ_base["HTTP_USER_AGENT"] = BROWSER
    assert visit(staff, "/help/renewal")[0].status_code == 200
    assert visit(staff, "/admin/insights/")[0].status_code == 200
    assert flushed() == []


def test_pages_from_the_page_cache_are_counted_with_each_visitors_own_cookie(make_app, app):
    article_to_visit("renewal")
    cached = make_app(PAGE_CACHE_ENABLED=True, PAGE_CACHE_TTL=3600)
    tracking.buffer(cached).clear()
    visitors = []
    for _ in range(3):
        visitor = cached.test_client()
        page, _beacon = visit(visitor, "/help/renewal", {"User-Agent": BROWSER})
        assert page.status_code == 200 and "Set-Cookie" not in page.headers
        visitors.append(visitor.get_cookie(tracking.VISITOR_COOKIE).value)
    assert len(set(visitors)) == 3
    events = flushed(cached)
    assert sorted(e.visitor_id for e in events) == sorted(visitors)


def test_search_pages_and_result_clicks_are_events(app, browser):
    assert visit(browser, "/search?q=续费")[0].status_code == 200
    [event] = flushed()
    assert (event.kind, event.value, event.visit_seq) == ("search", "续费", 1)


def test_a_visitor_who_fills_a_form_becomes_the_lead_of_their_earlier_visits(app, browser):
    article, _asset = make_whitepaper()
    article_to_visit("renewal")
    visit(browser, "/help/renewal?utm_source=zhihu&utm_medium=social")
    visit(browser, f"/library/{article.slug}")
    waiting = tracking.buffer(app).rows
    assert [row["kind"] for row in waiting] == ["page_view", "page_view", "form_view"]
    tracking.flush(app)  # one view stored, one still waiting: both must join the lead
    visit(browser, "/help/")
    response = browser.post(f"/library/{article.slug}", data=form_data())
    assert response.status_code == 303
    lead = db.session.scalar(select(Lead))
    events = flushed()
    assert {e.kind for e in events} == {"page_view", "form_view", "form_submit"}
    assert all(e.lead_id == lead.id for e in events)
    submit = next(e for e in events if e.kind == "form_submit")
    assert (submit.value, submit.path, submit.landing) == (
        "whitepaper",
        f"/library/{article.slug}",
        "/help/renewal",
    )
    assert submit.ref_id == lead.submissions[0].id
    with app.test_request_context():  # the lead page asks for it in a request
        timeline = lead_timeline(app, lead.id)
    # Pages read by their titles, the form by its white paper's; the link keeps the path.
    [read] = [item for item in timeline if item["kind"] == "page_view" and item["url"] == "/help/renewal"]
    assert "续费指南" in read["text"] and "/help/" not in read["text"]
    [opened] = [item for item in timeline if item["kind"] == "form_view"]
    assert article.title in opened["text"] and "/library/" not in opened["text"]


def test_a_stranger_typing_a_known_address_keeps_their_views_until_the_mailed_link(app, browser):
    """Anyone can type a known lead's address into a form: that browser's page views must
    not become the lead's (its score, its timeline) until the browser opens a link that
    went to the lead's mailbox."""
    article, asset = make_whitepaper()
    article_to_visit("pricing")
    owner = app.test_client()
    owner.environ_base["HTTP_USER_AGENT"] = BROWSER
    owner.post(f"/library/{article.slug}", data=form_data())
    lead = db.session.scalar(select(Lead))
    stranger = browser
    visit(stranger, "/help/pricing")
    assert stranger.post(f"/library/{article.slug}", data=form_data()).status_code == 303
    visitor = stranger.get_cookie(tracking.VISITOR_COOKIE).value
    views = [e for e in flushed() if e.visitor_id == visitor and e.kind == "page_view"]
    assert views and all(e.lead_id is None for e in views)

    open_mailed_link(stranger, lead.id, asset.id)  # the person's own mailbox proves it
    views = [e for e in flushed() if e.visitor_id == visitor and e.kind == "page_view"]
    assert views and all(e.lead_id == lead.id for e in views)


def test_downloads_and_stage_changes_are_events_in_their_own_transaction(app, browser):
    article, asset = make_whitepaper()
    browser.post(f"/library/{article.slug}", data=form_data())
    lead = db.session.scalar(select(Lead))
    url = make_download_url(lead.id, asset.id, external=False)
    with browser.get(url) as download:
        assert download.status_code == 200
    change_stage(lead.id, "mql", now=utcnow())
    events = {e.kind: e for e in flushed()}
    assert events["download"].ref_id == asset.id and events["download"].lead_id == lead.id
    assert events["stage_change"].value == "new>mql"
    assert events["stage_change"].channel == lead.first_channel == "paid_search"


def test_mail_opens_clicks_and_unsubscribes_are_events(app, client):
    from nurture import mailqueue, suppression, tracking
    from nurture.models import Message

    lead = Lead(email="li@example.cn")
    db.session.add(lead)
    db.session.commit()
    message = mailqueue.add_mail(to=lead.email, template="x", context={}, now=utcnow(), lead_id=lead.id)
    db.session.commit()
    tracking.record_open(message.id, now=utcnow())
    tracking.record_click(message.id, now=utcnow())
    suppression.unsubscribe(message.id, now=utcnow())
    suppression.record_mail_events({"type": "unsubscribe", "email": lead.email}, now=utcnow())
    events = db.session.scalars(select(Event).order_by(Event.id)).all()
    assert [(e.kind, e.lead_id, e.ref_id) for e in events] == [
        ("mail_open", lead.id, message.id),
        ("mail_click", lead.id, message.id),
        ("unsubscribe", lead.id, message.id),
        ("unsubscribe", lead.id, None),
    ]
    assert db.session.get(Message, message.id).open_count == 1


def test_an_erased_lead_keeps_no_visitor_link(app, browser):
    from gated import privacy

    article, _asset = make_whitepaper()
    visit(browser, f"/library/{article.slug}")
    browser.post(f"/library/{article.slug}", data=form_data())
    lead = db.session.scalar(select(Lead))
    privacy.anonymise_lead(lead.id, now=utcnow())
    events = flushed()
    assert events and all(e.visitor_id is None for e in events if e.lead_id == lead.id)


def test_a_batch_of_anonymous_and_lead_views_is_stored_in_its_order(app, browser):
    article, asset = make_whitepaper()
    article_to_visit("renewal")
    assert browser.post(f"/library/{article.slug}", data=form_data()).status_code == 303
    lead = db.session.scalar(select(Lead))
    open_mailed_link(browser, lead.id, asset.id)
    flushed()
    visit(
        browser, "/help/renewal"
    )  # the lead's view (the cookie its mailed link gave), between two anonymous ones
    store = tracking.buffer(app)
    lead_view = store.rows[-1]
    assert lead_view["lead_id"] == lead.id
    anonymous = {**lead_view, "lead_id": None, "visitor_id": "a" * 32, "path": "/help/"}
    store.rows[:] = [anonymous, lead_view, {**anonymous, "path": "/blog/x"}]
    events = [e for e in flushed() if e.kind == "page_view"]
    assert [(e.path, e.lead_id) for e in events] == [
        ("/help/", None),
        ("/help/renewal", lead.id),
        ("/blog/x", None),
    ]


def test_the_no_javascript_pixel_counts_the_page_it_is_on(app, browser):
    article_to_visit("renewal")
    landing = "/help/renewal?utm_source=zhihu&utm_medium=social"
    page = browser.get(landing)
    assert 'src="/beacon.gif"' in page.get_data(as_text=True) and "Set-Cookie" not in page.headers
    pixel = browser.get("/beacon.gif", headers={"Referer": "http://localhost" + landing})
    assert pixel.status_code == 200 and pixel.mimetype == "image/gif"
    assert pixel.headers["Cache-Control"] == "no-store"
    assert browser.get_cookie(tracking.VISITOR_COOKIE) is not None
    [event] = flushed()
    assert (event.kind, event.path, event.channel, event.landing) == (
        "page_view",
        "/help/renewal",
        "social",
        "/help/renewal",
    )


def test_a_beacon_from_another_site_or_for_no_page_of_ours_counts_nothing(app, browser):
    article_to_visit("renewal")
    cross = browser.post("/beacon", data={"u": "/help/renewal"}, headers={"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403 and "Set-Cookie" not in cross.headers
    for url in ("/admin/insights/", "//evil.example/help/renewal", "/no/such/page", "https://evil.example/"):
        browser.post("/beacon", data={"u": url}, headers={"Sec-Fetch-Site": "same-origin"})
    browser.get("/beacon.gif", headers={"Referer": "https://evil.example/help/renewal"})
    browser.get("/beacon.gif")
    assert flushed() == []
