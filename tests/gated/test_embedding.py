"""Embedded forms: CORS and frame-ancestors for exactly the allowed origins (the setting
and the form's own list), the check by Origin (an allowed host passes, any other fails and
stores nothing), the own-site flow in the frame (the host page as the touch, the download
link, the mail), cacheable frame pages, progressive profiling, sightings and the admin."""

import pytest
from flask import current_app
from sqlalchemy import func, select

from core.extensions import db
from gated import embedding, visitor
from gated.lead_form import TOUCH_COOKIE
from gated.models import Consent, EmbedSettings, EmbedSighting, Lead, Submission
from tests.factories import audit_entries, form_data, open_mailed_link

pytestmark = pytest.mark.usefixtures("app")
PARTNER = "https://partner.example"
EVENT = "https://event.example:8443"
STRANGER = "https://stranger.example"
FRAME = "/embed/library/saas-renewal"


@pytest.fixture
def allowed(app, monkeypatch, whitepaper):
    monkeypatch.setitem(app.config, "EMBED_ORIGINS", [PARTNER])
    return whitepaper


def frame_page_text(client) -> str:
    """The frame's form page as a visitor sees it (the consent wording in it)."""
    return client.get(FRAME, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)


def _leads() -> int:
    return db.session.scalar(select(func.count(Lead.id)))


@pytest.mark.parametrize(
    ("text", "origin"),
    [
        ("https://Partner.Example/", "https://partner.example"),
        ("https://partner.example:443/page?x=1", "https://partner.example"),
        ("http://localhost:8080", "http://localhost:8080"),
        ("https://event.example:8443", "https://event.example:8443"),
        ("partner.example", None),
        ("javascript:alert(1)", None),
        ("https://user:pw@partner.example", None),
        ("https://partner.example:99999", None),
        ("", None),
    ],
)
def test_origins_are_read_as_browsers_send_them(text, origin):
    assert embedding.normalise_origin(text) == origin


@pytest.mark.parametrize("path", [FRAME, "/embed/about/library/saas-renewal", "/embed/newsletter"])
def test_cors_answers_an_allowed_origin_and_nobody_else(client, allowed, path):
    ok = client.get(path, headers={"Origin": PARTNER})
    assert ok.status_code == 200
    assert ok.headers["Access-Control-Allow-Origin"] == PARTNER
    assert "Origin" in ok.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in ok.headers
    refused = client.get(path, headers={"Origin": STRANGER})
    assert "Access-Control-Allow-Origin" not in refused.headers
    # A host that merely shares a prefix is another origin.
    assert (
        "Access-Control-Allow-Origin" not in client.get(path, headers={"Origin": PARTNER + ".evil"}).headers
    )


def test_frame_ancestors_list_exactly_the_allowed_origins(client, allowed):
    db.session.add(EmbedSettings(form="library/saas-renewal", origins=EVENT, updated_at=db.func.now()))
    db.session.commit()
    policy = client.get(FRAME).headers["Content-Security-Policy"]
    assert f"frame-ancestors {EVENT} {PARTNER}" in policy
    assert "X-Frame-Options" not in client.get(FRAME).headers
    # The form's own origin is its alone: the newsletter allows only the setting's.
    assert (
        f"frame-ancestors {PARTNER};"
        in client.get("/embed/newsletter").headers["Content-Security-Policy"] + ";"
    )
    # The site's own pages still may not be framed by anyone.
    own = client.get("/library/saas-renewal")
    assert "frame-ancestors 'none'" in own.headers["Content-Security-Policy"]
    assert own.headers["X-Frame-Options"] == "DENY"


def test_with_no_allowed_origin_nothing_may_frame_or_read_a_form(client, whitepaper):
    response = client.get(FRAME, headers={"Origin": PARTNER})
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "Access-Control-Allow-Origin" not in response.headers


def test_the_frame_page_is_the_same_bytes_for_every_visitor(app, client, allowed, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_CACHE_ENABLED", True)
    first = client.get(FRAME, headers={"Referer": PARTNER + "/a?utm_source=x"})
    second = app.test_client().get(FRAME, headers={"Referer": "https://other.example/"})
    assert first.get_data() == second.get_data()
    assert first.headers["Cache-Control"].startswith("public")
    assert "Set-Cookie" not in first.headers
    html = first.get_data(as_text=True)
    assert 'name="csrf_token"' not in html and "partner.example" not in html


def test_a_frame_submission_makes_the_host_page_the_touch_and_shows_the_link(client, allowed, smtp_sink):
    host_page = PARTNER + "/expo?utm_source=partner&utm_medium=referral&utm_campaign=expo"
    data = form_data(
        embed_host=PARTNER,
        landing_page=host_page,
        referrer="https://www.baidu.com/",
        utm_source="partner",
        consent="y",
    )
    data.update(utm_medium="referral", utm_campaign="expo")
    response = client.post(FRAME, data=data, headers={"Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/embed/thanks/library/saas-renewal?t=")
    thanks = client.get(response.headers["Location"], headers={"Accept-Language": "zh-CN"})
    assert "/download/" in thanks.get_data(as_text=True)
    assert thanks.headers["Cache-Control"] == "private, no-store"
    assert f"frame-ancestors {PARTNER}" in thanks.headers["Content-Security-Policy"]
    submission = db.session.scalar(select(Submission))
    assert submission.landing_page == host_page
    assert submission.utm["utm_source"] == "partner" and submission.utm["utm_campaign"] == "expo"
    [seen] = db.session.scalars(select(EmbedSighting)).all()
    assert (seen.form, seen.origin, seen.submissions) == ("library/saas-renewal", PARTNER, 1)
    # The consent as the frame showed it: the site's version and its very text.
    [consent] = db.session.scalars(select(Consent)).all()
    assert consent.granted and consent.version == current_app.config["CONSENT_VERSION"]
    assert consent.text and consent.text in frame_page_text(client)


def _embedded_lead(client, **sent) -> Lead:
    """The lead stored from the frame's form as embed-frame.js sends it on the partner's
    page (the page's utm tags are not among the fields: the server reads them from it)."""
    data = form_data(embed_host=PARTNER, utm_source="", utm_medium="", utm_campaign="", **sent)
    # The browser's Referer of the POST is the frame itself, our own page.
    headers = {"Sec-Fetch-Site": "same-origin", "Referer": "http://localhost" + FRAME}
    assert client.post(FRAME, data=data, headers=headers).status_code == 303
    return db.session.scalar(select(Lead))


@pytest.mark.parametrize(
    ("page", "referrer", "source", "channel"),
    [
        # The host page's utm tags, though its visitor typed its address: not direct.
        (PARTNER + "/pricing?utm_source=wechat&utm_campaign=spring", "", "wechat", "social"),
        # No tags and no referrer of its own: the host page referred the visitor.
        (PARTNER + "/pricing", "", "partner.example", "referral"),
        # The host page's own referrer, as the site's own page keeps its visitor's.
        (PARTNER + "/pricing", "https://www.baidu.com/s?wd=crm", "baidu.com", "organic_search"),
    ],
)
def test_an_embedded_lead_is_attributed_to_the_host_page(client, allowed, page, referrer, source, channel):
    lead = _embedded_lead(client, landing_page=page, referrer=referrer)
    assert (lead.source, lead.first_channel, lead.last_channel) == (source, channel, channel)
    assert lead.first_landing_page == page
    assert lead.first_referrer == (referrer or page)
    tagged = "utm_source=wechat" in page
    assert (lead.first_utm_source, lead.first_utm_campaign) == (("wechat", "spring") if tagged else ("", ""))
    submission = db.session.scalar(select(Submission))
    assert (submission.landing_page, submission.referrer) == (page, referrer or page)


def test_the_host_page_wins_over_an_earlier_visit_to_our_site(client, allowed):
    campaign = {"utm_source": "baidu", "utm_medium": "cpc"}
    client.set_cookie(TOUCH_COOKIE, visitor.touch_cookie_value(campaign, "", "/library/x?utm_source=baidu"))
    lead = _embedded_lead(client, landing_page=PARTNER + "/pricing?utm_source=wechat")
    assert (lead.source, lead.first_landing_page) == ("wechat", PARTNER + "/pricing?utm_source=wechat")


@pytest.mark.parametrize(
    ("page", "referrer"),
    [
        ("javascript:alert(1)", "javascript:alert(1)"),
        (STRANGER + "/pricing?utm_source=stranger", "data:text/html,<script>alert(1)</script>"),
        (PARTNER + '/pricing?utm_source="><script>alert(1)</script>', PARTNER + "/<script>"),
        (PARTNER + "/pricing?utm_source=" + "x" * 500, "ftp://partner.example/"),
    ],
)
def test_what_a_frame_says_of_its_host_page_is_checked(client, allowed, page, referrer):
    lead = _embedded_lead(client, landing_page=page, referrer=referrer)
    # Not a URL of the host, or not one a browser sends: the host itself, and no tags.
    assert (lead.first_landing_page, lead.first_referrer) == (PARTNER + "/", PARTNER + "/")
    assert (lead.source, lead.first_utm_source) == ("partner.example", "")


def test_a_host_pages_tags_are_kept_as_text_and_its_fragment_dropped(client, allowed):
    page = PARTNER + "/p?utm_source=%3Cb%3Ewechat%3C%2Fb%3E&utm_term=" + "t" * 300
    lead = _embedded_lead(client, landing_page=page + "#pricing")
    assert lead.first_landing_page == page
    assert (lead.source, lead.first_utm_term) == ("bwechat/b", "t" * 200)


def test_an_allowed_hosts_own_page_may_post_the_form(client, allowed):
    response = client.post(
        FRAME, data=form_data(), headers={"Origin": PARTNER, "Sec-Fetch-Site": "cross-site"}
    )
    assert response.status_code == 303
    assert response.headers["Access-Control-Allow-Origin"] == PARTNER
    assert _leads() == 1


def test_another_origin_posting_the_form_is_refused_and_nothing_is_stored(client, allowed):
    response = client.post(
        FRAME, data=form_data(), headers={"Origin": STRANGER, "Sec-Fetch-Site": "cross-site"}
    )
    assert response.status_code == 400
    assert "Access-Control-Allow-Origin" not in response.headers
    # The site's own form is no way round it either.
    own = client.post(
        "/library/saas-renewal", data=form_data(), headers={"Origin": PARTNER, "Sec-Fetch-Site": "cross-site"}
    )
    assert own.status_code == 400
    assert _leads() == 0 and db.session.scalar(select(func.count(EmbedSighting.id))) == 0


def test_a_frame_claiming_a_host_that_is_not_allowed_stores_nothing(client, allowed):
    response = client.post(
        FRAME,
        data=form_data(embed_host=STRANGER, landing_page=STRANGER + "/x"),
        headers={"Sec-Fetch-Site": "same-origin", "Accept-Language": "zh-CN"},
    )
    assert response.status_code == 403
    assert "没有保存任何信息" in response.get_data(as_text=True)
    assert _leads() == 0


def test_bad_input_shows_the_form_again_in_the_frame(client, allowed):
    response = client.post(
        FRAME,
        data=form_data(email="not an address", embed_host=PARTNER),
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'class="embedded"' in html and 'aria-invalid="true"' in html
    assert _leads() == 0


def test_a_known_visitor_gets_the_next_questions_in_the_frame(client, allowed, recorder):
    client.post(
        FRAME,
        data=form_data(embed_host=PARTNER, job_title="", phone=""),
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    lead = db.session.scalar(select(Lead))
    open_mailed_link(client, lead.id, allowed[1].id)
    html = client.get(FRAME).get_data(as_text=True)
    assert 'name="job_title"' in html and 'name="company"' not in html


def test_unknown_forms_are_not_found(client, allowed):
    for path in ("/embed/library/no-such-paper", "/embed/contact", "/embed/about/library/a/b"):
        assert client.get(path, headers={"Origin": PARTNER}).status_code == 404


def test_the_admin_lists_snippets_and_sites_and_saves_a_forms_origins(login_as, allowed):
    marketer = login_as("marketer")
    embedding.record_sighting("newsletter", PARTNER, now=db.func.now(), submitted=True)
    page = marketer.get("/admin/leads/embed/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert 'data-lodestar-form="library/saas-renewal"' in page and "/embed.js" in page
    assert PARTNER in page
    saved = marketer.post(
        "/admin/leads/embed/origins", data={"form": "library/saas-renewal", "origins": f"{EVENT}/\n{EVENT}"}
    )
    assert saved.status_code == 302
    assert embedding.allowed_origins("library/saas-renewal") == {PARTNER, EVENT}
    [entry] = audit_entries("leads.embed_settings")
    assert entry.user_id == marketer.user.id and entry.details == {"from": [], "to": [EVENT]}
    bad = marketer.post(
        "/admin/leads/embed/origins",
        data={"form": "library/saas-renewal", "origins": "partner.example"},
        headers={"Accept-Language": "zh-CN"},
    )
    assert bad.status_code == 422
    assert "以下不是网站地址：partner.example" in bad.get_data(as_text=True)
    assert embedding.form_origins("library/saas-renewal") == [EVENT]
    assert login_as("sales").get("/admin/leads/embed/").status_code == 403


@pytest.mark.parametrize(
    ("identity", "says", "not_said"),
    [
        ("email_or_phone", "留下您的手机号码或工作邮箱", "留下您的工作邮箱"),
        ("email", "留下您的工作邮箱", "留下您的手机号码"),
    ],
)
def test_the_frame_asks_for_what_the_form_takes(app, client, allowed, monkeypatch, identity, says, not_said):
    monkeypatch.setitem(app.config, "FORM_IDENTITY", identity)
    html = frame_page_text(client)
    assert says in html and not_said not in html


def test_the_frame_is_named_for_screen_readers_in_the_forms_language(client, allowed):
    about = client.get("/embed/about/library/saas-renewal", headers={"Origin": PARTNER}).get_json()
    assert about["title"].startswith("表单：") and "Form" not in about["title"]
