"""The public pages: the white paper form (303, 422, spam, progressive profiling), the
demo and newsletter forms, downloads and their tokens, and bad input of every kind."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.timeutil import utcnow
from core.tokens import sign
from gated.downloads import make_download_url
from gated.leads import upsert_lead
from gated.models import BlockedSubmission, Consent, Download, Lead, Submission
from tests.factories import PDF_BYTES, form_data, make_whitepaper

pytestmark = pytest.mark.usefixtures("app")


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_landing_page_shows_preview_and_form(client, whitepaper):
    response = client.get(
        "/library/saas-renewal?utm_source=zhihu&utm_medium=social",
        headers={"Referer": "https://www.zhihu.com/question/1"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "如何提高 SaaS 续费率" in page and "一句话摘要" in page and "第一章 续费的真相" in page
    assert "工作邮箱" in page and "获取白皮书" in page  # Chinese is the default UI language
    for name in ("email", "name", "company", "job_title", "phone", "role", "consent", "website", "started"):
        assert f'name="{name}"' in page
    # Where the visitor came from is read when the form is sent, never put in the page.
    assert "zhihu" not in page
    assert 'id="consent" name="consent" value="y">' in page.replace("\n      ", "")  # unticked


def test_unknown_or_unpublished_white_papers_are_404(client, whitepaper):
    assert client.get("/library/nope").status_code == 404
    assert client.post("/library/nope", data=form_data()).status_code == 404
    article, _ = whitepaper
    article.status = "draft"
    db.session.commit()
    assert client.get("/library/saas-renewal").status_code == 404


def test_a_submission_redirects_to_thanks_with_the_link_and_the_file_downloads(client, whitepaper, recorder):
    response = client.post("/library/saas-renewal", data=form_data())
    assert response.status_code == 303
    assert "lodestar_lead=" not in response.headers.get("Set-Cookie", "")  # a typed address proves nothing
    thanks = client.get(response.headers["Location"])
    link = re.search(r'href="(/download/[^"]+)"', thanks.get_data(as_text=True)).group(1)
    with client.get(link) as download:
        body = download.data
    assert download.status_code == 200
    assert body == PDF_BYTES
    assert download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"] == (
        "attachment; filename=\"download.pdf\"; filename*=UTF-8''%E7%BB%AD%E8%B4%B9%E6%8C%87%E5%8D%97.pdf"
    )
    assert count(Download) == 1
    (recorded,) = recorder.of("download_recorded")
    assert recorded["lead_id"] == db.session.scalar(select(Lead.id))
    assert [m["template"] for m in recorder.of("mail_requested")] == ["gated/email/download_link"]


def test_invalid_input_shows_the_form_again_with_messages_and_stores_nothing(client, whitepaper):
    response = client.post("/library/saas-renewal", data=form_data(email="nope", phone="123", role="boss"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert page.count('class="error"') == 3 and 'id="email-error"' in page and 'id="phone-error"' in page
    assert 'value="nope"' in page  # what was typed is kept
    assert count(Lead) == count(Submission) == 0


def test_same_person_twice_is_one_lead_two_submissions(client, whitepaper, recorder):
    for _ in range(2):
        assert client.post("/library/saas-renewal", data=form_data()).status_code == 303
    assert count(Lead) == 1 and count(Submission) == 2
    # The box was shown and left unticked both times (browsers send nothing for it).
    assert db.session.scalars(select(Consent.granted)).all() == [False, False]
    client.post("/library/saas-renewal", data=form_data(consent="y"))
    client.get(recorder.mailed_link()).close()  # now a known visitor
    client.post("/library/saas-renewal", data=form_data())  # box no longer shown: no record
    assert db.session.scalars(select(Consent.granted).order_by(Consent.id)).all() == [False, False, True]


def test_a_filled_honeypot_is_the_only_silent_drop(client, whitepaper):
    response = client.post("/library/saas-renewal", data=form_data(website="http://spam.example"))
    assert response.status_code == 303 and "t=" not in response.headers["Location"]
    assert client.get(response.headers["Location"]).status_code == 200
    assert count(Lead) == 0
    assert db.session.scalar(select(BlockedSubmission.reason)) == "honeypot"


def test_progressive_profiling_asks_only_what_is_unknown_then_one_click(client, whitepaper, recorder):
    def asked():
        """What static/js/lead-form.js leaves in the (cached, whole) form for this visitor."""
        return client.get("/forms/known?kind=whitepaper").get_json().get("ask")

    client.post("/library/saas-renewal", data={"email": "a@b.com", "started": form_data()["started"]})
    # Known once the mailed link is opened (it proves the address).
    client.get(recorder.mailed_link()).close()
    assert asked() == ["name", "company"]  # two at a time, never the email again
    client.post(
        "/library/saas-renewal", data={"name": "A", "company": "B", "started": form_data()["started"]}
    )
    assert asked() == ["job_title", "phone"]
    client.post(
        "/library/saas-renewal",
        data={"job_title": "C", "phone": "13800138000", "started": form_data()["started"]},
    )
    assert asked() == ["role"]
    client.post("/library/saas-renewal", data={"role": "user", "started": form_data()["started"]})
    lead = db.session.scalar(select(Lead))
    assert lead.email == "a@b.com" and lead.missing_fields() == []
    assert asked() == []
    response = client.post("/library/saas-renewal", data={"started": form_data()["started"]})  # one click
    assert response.status_code == 303
    assert count(Lead) == 1 and count(Submission) == 5
    # "Not you?" brings the whole form back and forgets the cookie.
    forget = client.get("/library/saas-renewal?forget=1")
    assert 'name="email"' in forget.get_data(as_text=True)
    assert "lodestar_lead=;" in forget.headers["Set-Cookie"]
    assert asked() is None


def test_a_forged_lead_cookie_is_ignored(client, whitepaper):
    client.set_cookie("lodestar_lead", "1.forged")
    assert 'name="email"' in client.get("/library/saas-renewal").get_data(as_text=True)
    assert client.get("/forms/known?kind=whitepaper").get_json() == {"known": False}


def test_demo_and_newsletter_forms(client, recorder):
    assert client.get("/demo-request").status_code == 200
    response = client.post("/demo-request", data=form_data(message="想看看续费模块"))
    assert response.status_code == 303 and client.get(response.headers["Location"]).status_code == 200
    assert client.post("/demo-request", data=form_data(email="x@y.com", company="")).status_code == 422
    assert client.get("/newsletter").status_code == 200
    assert (
        client.post("/newsletter", data={"email": "n@b.com", "started": form_data()["started"]}).status_code
        == 422
    )
    response = client.post(
        "/newsletter", data={"email": "n@b.com", "consent": "y", "started": form_data()["started"]}
    )
    assert response.status_code == 303
    forms = db.session.scalars(select(Submission.form).order_by(Submission.id)).all()
    assert forms == ["demo", "newsletter"]


def test_a_tampered_token_never_gives_the_file(client, whitepaper):
    _, asset = whitepaper
    lead, _ = upsert_lead("a@b.com", now=utcnow())
    db.session.commit()
    url = make_download_url(lead.id, asset.id, external=False)
    tampered = url[:-3] + ("abc" if not url.endswith("abc") else "xyz")
    response = client.get(tampered)
    assert response.status_code == 400 and response.data != PDF_BYTES and b"%PDF" not in response.data
    other_purpose = sign("confirm", {"l": lead.id, "a": asset.id})
    assert client.get(f"/download/{other_purpose}").status_code == 400
    assert count(Download) == 0


def test_an_expired_link_offers_a_fresh_one_by_mail(client, whitepaper, app, recorder):
    _, asset = whitepaper
    lead, _ = upsert_lead("a@b.com", now=utcnow())
    db.session.commit()
    url = make_download_url(lead.id, asset.id, external=False)
    app.config["DOWNLOAD_LINK_MAX_AGE"] = -1
    try:
        response = client.get(url)
        assert response.status_code == 410 and b"%PDF" not in response.data
        token = re.search(r'name="token" value="([^"]+)"', response.get_data(as_text=True)).group(1)
        sent = client.post("/download/fresh", data={"token": token})
        assert sent.status_code == 200
    finally:
        app.config["DOWNLOAD_LINK_MAX_AGE"] = 7 * 86400
    (mail,) = recorder.of("mail_requested")
    assert mail["template"] == "gated/email/download_link" and mail["context"]["fresh"] is True
    with client.get(mail["context"]["download_url"].replace("http://localhost", "")) as fresh:
        assert fresh.data == PDF_BYTES
    assert client.post("/download/fresh", data={"token": "forged"}).status_code == 400


def test_a_link_of_an_erased_lead_is_gone(client, whitepaper):
    _, asset = whitepaper
    url = make_download_url(999, asset.id, external=False)
    assert client.get(url).status_code == 404


def test_the_double_opt_in_link_confirms_on_post_only(client, app, recorder):
    app.config["DOUBLE_OPT_IN"] = True
    try:
        client.post(
            "/newsletter", data={"email": "n@b.com", "consent": "y", "started": form_data()["started"]}
        )
    finally:
        app.config["DOUBLE_OPT_IN"] = False
    confirm_url = recorder.of("mail_requested")[-1]["context"]["confirm_url"].replace("http://localhost", "")
    assert client.get(confirm_url).status_code == 200
    assert db.session.scalar(select(Lead.confirmed_at)) is None
    assert client.post(confirm_url).status_code == 200
    assert db.session.scalar(select(Lead.confirmed_at)) is not None
    assert client.post("/confirm/forged").status_code == 400


FORM_PAGES = ("/library/saas-renewal", "/demo-request", "/newsletter")


@pytest.mark.parametrize("path", FORM_PAGES)
def test_a_form_page_carries_no_token_and_starts_no_session(make_app, whitepaper, path):
    """With Flask-WTF's check on, as in production: the page is the same bytes for every
    anonymous visitor, so a cache in front can serve it."""
    strict = make_app(WTF_CSRF_ENABLED=True)
    pages = [strict.test_client().get(path) for _visitor in range(2)]
    assert [page.status_code for page in pages] == [200, 200]
    assert not any("session=" in cookie for page in pages for cookie in page.headers.getlist("Set-Cookie"))
    assert "csrf_token" not in pages[0].get_data(as_text=True)
    assert 'name="email"' in pages[0].get_data(as_text=True)


@pytest.mark.parametrize("path", FORM_PAGES)
@pytest.mark.parametrize("headers", [{"Sec-Fetch-Site": "same-origin"}, {"Origin": "http://localhost"}])
def test_a_form_sent_from_our_page_needs_no_token(make_app, whitepaper, path, headers):
    strict = make_app(WTF_CSRF_ENABLED=True)
    response = strict.test_client().post(
        path, data=form_data(message="请联系我们。", consent="y"), headers=headers
    )
    assert response.status_code == 303
    assert count(Lead) == 1


@pytest.mark.parametrize("path", FORM_PAGES)
@pytest.mark.parametrize(
    "headers", [{"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}, {"Origin": "null"}]
)
def test_a_form_sent_from_another_site_is_a_400_page(make_app, whitepaper, path, headers):
    strict = make_app(WTF_CSRF_ENABLED=True)
    response = strict.test_client().post(
        path, data=form_data(message="请联系我们。", consent="y"), headers=headers
    )
    assert response.status_code == 400
    assert "表单已过期或来自其他页面。" in response.get_data(as_text=True)
    assert count(Lead) == 0


def test_a_signed_in_member_of_staff_still_sends_the_token(make_app, whitepaper, login_as):
    strict = make_app(WTF_CSRF_ENABLED=True)
    staff = login_as("marketer", client=strict.test_client())
    page = staff.get("/library/saas-renewal").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    headers = {"Sec-Fetch-Site": "same-origin"}
    assert staff.post("/library/saas-renewal", data=form_data(), headers=headers).status_code == 400
    assert count(Lead) == 0
    sent = staff.post("/library/saas-renewal", data=form_data(csrf_token=token), headers=headers)
    assert sent.status_code == 303
    assert count(Lead) == 1


@pytest.mark.parametrize("csrf", [False, True])
def test_an_oversized_body_is_413(make_app, client, whitepaper, csrf):
    """Also when CSRFProtect reads the form before the view: the cap comes first."""
    app = make_app(WTF_CSRF_ENABLED=True) if csrf else client.application
    response = app.test_client().post("/library/saas-renewal", data=form_data(name="x" * 100_000))
    assert response.status_code == 413
    assert count(Lead) == 0


def test_public_posts_are_rate_limited_per_ip(make_app, whitepaper):
    limited = make_app(RATELIMIT_ENABLED=True, PUBLIC_POST_RATE_LIMIT="2 per minute")
    client = limited.test_client()
    codes = [client.post("/library/saas-renewal", data=form_data()).status_code for _ in range(3)]
    assert codes == [303, 303, 429]
    other = client.post("/library/saas-renewal", data=form_data(), environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 303
    assert client.get("/library/saas-renewal").status_code == 200  # reading is never limited


def test_thanks_page_tokens_are_signed(client, whitepaper):
    page = client.get("/library/saas-renewal/thanks?t=forged").get_data(as_text=True)
    assert "/download/" not in page


def test_a_missing_asset_file_is_a_404_not_a_500(client, whitepaper, app):
    _, asset = whitepaper
    lead, _ = upsert_lead("a@b.com", now=utcnow() - timedelta(days=1))
    db.session.commit()
    from gated.assets import asset_path

    asset_path(asset).unlink()
    assert client.get(make_download_url(lead.id, asset.id, external=False)).status_code == 404


def test_a_dead_mail_server_does_not_matter_to_the_form(client, whitepaper, smtp_sink, recorder):
    """Gated never talks SMTP: with the server down the form still succeeds, and the mail
    was asked for inside the submission's transaction (queued by nurture)."""
    smtp_sink.stop()
    response = client.post("/library/saas-renewal", data=form_data())
    assert response.status_code == 303
    assert count(Lead) == 1
    assert [(m["template"], in_tx) for name, m, in_tx in recorder.calls if name == "mail_requested"] == [
        ("gated/email/download_link", True)
    ]
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "/download/" in thanks and "7" in thanks


def test_an_english_white_papers_landing_page_is_english(client):
    article, _asset = make_whitepaper(slug="renewal-guide", title="The renewal guide")
    article.locale = "en"
    db.session.commit()
    page = client.get("/library/renewal-guide").get_data(as_text=True)
    assert "Work email" in page and "Get the white paper" in page


def test_a_quick_correction_after_a_422_is_not_taken_for_spam(client, whitepaper):
    first = client.post("/library/saas-renewal", data=form_data(email="typo"))
    started = re.search(r'name="started" type="hidden" value="([^"]+)"', first.get_data(as_text=True))
    assert started, "the form keeps its start time"
    again = client.post("/library/saas-renewal", data=form_data(started=started.group(1)))
    assert again.status_code == 303 and "t=" in again.headers["Location"]
    assert count(Lead) == 1


def test_a_white_papers_pages_speak_its_language_whatever_the_visitor_chose(client, whitepaper):
    client.set_cookie("lang", "en")
    landing = client.get("/library/saas-renewal").get_data(as_text=True)
    assert '<html lang="zh-CN">' in landing
    assert ">帮助中心</a>" in landing and ">Help center</a>" not in landing
    thanks = client.get("/library/saas-renewal/thanks").get_data(as_text=True)
    assert '<html lang="zh-CN">' in thanks and ">Help center</a>" not in thanks
    # The visitor's own choice still holds on the next list page.
    assert '<html lang="en">' in client.get("/help/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("path", "form", "promise"),
    [
        ("/library/saas-renewal/thanks", "/library/saas-renewal", "下载链接发送到您的邮箱"),
        ("/library/saas-renewal/thanks?t=forged", "/library/saas-renewal", "下载链接发送到您的邮箱"),
        ("/newsletter/thanks", "/newsletter", "订阅成功"),
        ("/demo-request/thanks?t=forged", "/demo-request", "我们已收到您的预约"),
    ],
)
def test_a_thank_you_page_without_its_submission_thanks_for_nothing(client, whitepaper, path, form, promise):
    """Reopened a day later from a chat, or never given a token: nothing is said to have
    been stored or sent, and the form is one tap away."""
    page = client.get(path).get_data(as_text=True)
    assert "链接已失效" in page and f'href="{form}"' in page and "返回表单" in page
    assert promise not in page and "谢谢！" not in page and "/download/" not in page


def test_the_consent_a_white_paper_shows_and_records_is_in_its_language(client, whitepaper):
    """A visitor reading in English opens a Chinese white paper: its consent box speaks
    Chinese as the rest of the page does, and the record keeps the words shown."""
    client.set_cookie("lang", "en")
    landing = client.get("/library/saas-renewal").get_data(as_text=True)
    assert "我愿意" in landing and "Yes, send me occasional emails" not in landing
    sent = client.post("/library/saas-renewal", data=form_data(consent="y"))
    assert sent.status_code == 303
    consent = db.session.scalars(select(Consent)).one()
    assert "我愿意" in consent.text and consent.text in landing
    assert db.session.scalars(select(Lead.locale)).one() == "zh-CN"


def test_the_forms_link_the_privacy_notice_only_when_the_site_has_one(app, client, whitepaper, monkeypatch):
    page = client.get("/library/saas-renewal").get_data(as_text=True)
    assert "绝不发送垃圾邮件。" in page and "隐私声明" not in page  # no notice named that cannot be shown
    monkeypatch.setitem(app.config, "PRIVACY_URL", "/help/privacy?a=1&b=2")
    for path in ("/newsletter", "/demo-request"):
        page = app.test_client().get(path).get_data(as_text=True)
        assert '详见<a href="/help/privacy?a=1&amp;b=2" target="_blank" rel="noopener">隐私声明</a>。' in page
