"""The short-link admin: make, change and list links with their figures; QR downloads;
bad input beside its field with nothing stored; partners; roles."""

import io

from sqlalchemy import select

from channels.models import AdvisorCard, Partner, ShortLink
from core.extensions import db
from tests.channels.conftest import make_link, tiny_png


def form(**fields):
    return {
        "target": "/library/saas-renewal",
        "code": "",
        "channel": "slides",
        "campaign": "webinar",
        "owner_id": "0",
        "expires_on": "",
        **fields,
    }


def test_a_marketer_makes_a_link_and_downloads_its_qr(whitepaper, login_as):
    marketer = login_as("marketer")
    response = marketer.post(
        "/admin/links/new",
        data=form(code="webinar-q4", owner_id=str(marketer.user.id), expires_on="2099-12-31"),
    )
    assert response.status_code == 303
    link = db.session.scalar(select(ShortLink))
    assert (link.code, link.channel, link.campaign, link.owner_id) == (
        "webinar-q4",
        "slides",
        "webinar",
        marketer.user.id,
    )
    assert link.expires_at.year == 2099 or link.expires_at.year == 2100
    page = marketer.get(f"/admin/links/{link.id}")
    assert "http://localhost/s/webinar-q4" in page.text and "<svg" in page.text
    # The label's colon as each language writes it.
    assert "</strong>：<code>webinar-q4</code>" in marketer.get(f"/admin/links/{link.id}?lang=zh_CN").text
    assert "</strong>: <code>webinar-q4</code>" in marketer.get(f"/admin/links/{link.id}?lang=en").text
    svg = marketer.get(f"/admin/links/{link.id}/download/qr.svg")
    assert svg.headers["Content-Type"].startswith("image/svg+xml") and b"<svg" in svg.data
    png = marketer.get(f"/admin/links/{link.id}/download/qr.png")
    assert png.data.startswith(b"\x89PNG") and "attachment" in png.headers["Content-Disposition"]
    listing = marketer.get("/admin/links/")
    assert "/s/webinar-q4" in listing.text


def test_bad_input_is_shown_beside_its_field_and_nothing_is_stored(whitepaper, login_as):
    marketer = login_as("marketer")
    for data, message in [
        (form(target="https://evil.example/"), "/library/saas-renewal"),
        (form(target="/library/nope"), "/library/nope"),
        (form(expires_on="2001-01-01"), "到期日期已过"),
        (form(expires_on="31/12/2099"), "2026-12-31"),
        (form(code="a b"), "3 到 32"),
    ]:
        response = marketer.post("/admin/links/new", data=data)
        assert response.status_code == 422, data
        assert 'class="error"' in response.text and message in response.text, data
    assert db.session.scalar(select(ShortLink.id)) is None


def test_editing_keeps_the_code_and_counts(whitepaper, login_as, client):
    link = make_link(code="poster-a")
    client.get("/s/poster-a?qr=1")
    marketer = login_as("marketer")
    response = marketer.post(
        f"/admin/links/{link.id}", data=form(code="changed", target="/demo-request", channel="poster")
    )
    assert response.status_code == 303
    db.session.refresh(link)
    assert (link.code, link.target, link.channel, link.scans, link.article_id) == (
        "poster-a",
        "/demo-request",
        "poster",
        1,
        None,
    )


def test_partners_are_named_once(login_as):
    marketer = login_as("marketer")
    assert (
        marketer.post("/admin/links/partners", data={"name": "伙伴丙", "contact": "13800138000"}).status_code
        == 303
    )
    again = marketer.post("/admin/links/partners", data={"name": "伙伴丙", "contact": ""})
    assert again.status_code == 422 and 'class="error"' in again.text
    assert marketer.post("/admin/links/partners", data={"name": "", "contact": ""}).status_code == 422
    assert [p.name for p in db.session.scalars(select(Partner))] == ["伙伴丙"]


def test_advisor_card_uploads_are_checked_by_their_bytes(login_as, app, monkeypatch):
    monkeypatch.setitem(app.config, "ADVISOR_QR_MAX_BYTES", 20 * 1024)
    marketer = login_as("marketer")

    def upload(data, name="qr.png", **fields):
        payload = {
            "user_id": str(marketer.user.id),
            "campaign": "",
            "image": (io.BytesIO(data), name),
            **fields,
        }
        return marketer.post("/admin/links/advisors", data=payload, content_type="multipart/form-data")

    assert upload(b"GIF89a not a png", "qr.png").status_code == 422
    assert upload(tiny_png(20, 20)).status_code == 422  # too small to scan
    big = upload(tiny_png(200, 200, padding=app.config["ADVISOR_QR_MAX_BYTES"]))
    assert big.status_code == 422 and "KB" in big.text
    assert upload(b"").status_code == 422
    assert db.session.scalar(select(AdvisorCard.id)) is None
    assert upload(tiny_png(200, 200), "anything.gif").status_code == 303
    card = db.session.scalar(select(AdvisorCard))
    assert (card.user_id, card.content_type, card.width) == (marketer.user.id, "image/png", 200)
    image = marketer.get(f"/advisor/{card.id}")
    assert (
        image.headers["Content-Type"] == "image/png" and image.headers["X-Content-Type-Options"] == "nosniff"
    )
    assert (
        upload(tiny_png(200, 200), user_id="0", campaign="").status_code == 422
    )  # neither user nor campaign


def test_sales_and_editors_stay_out_of_the_links_admin(login_as):
    for role in ("sales", "editor"):
        client = login_as(role)
        for path in (
            "/admin/links/",
            "/admin/links/new",
            "/admin/links/partners",
            "/admin/links/leaderboard",
            "/admin/links/advisors",
        ):
            assert client.get(path).status_code == 403, (role, path)
