"""Short links: what a link may point at, expiry, counting, the redirect's utm tags, the
friendly page of an ended or unknown code, and the QR files."""

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
import segno
from sqlalchemy import select

from channels import links, qr
from channels.models import LinkDay, ShortLink
from channels.sitedays import site_day
from core.extensions import db
from core.timeutil import utcnow
from tests.channels.conftest import make_link, png_facts
from tests.factories import make_whitepaper


def test_a_target_is_a_page_of_this_site(whitepaper):
    article, _asset = whitepaper
    assert links.clean_target("/library/saas-renewal") == ("/library/saas-renewal", article.id)
    assert links.clean_target("http://localhost/library/saas-renewal?x=1") == (
        "/library/saas-renewal?x=1",
        article.id,
    )
    assert links.clean_target("/demo-request") == ("/demo-request", None)


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/library/saas-renewal",
        "//evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "library/saas-renewal",
        "/library/no-such-paper",
        "/no/such/page",
        "/s/abcdef",
        "",
        "/library/saas-renewal\tx",
    ],
)
def test_anything_else_is_refused_and_nothing_stored(whitepaper, target):
    with pytest.raises(links.LinkError) as error:
        make_link(target=target)
    assert set(error.value.errors) == {"target"}
    assert db.session.scalar(select(ShortLink.id)) is None


def test_past_expiry_bad_and_taken_codes_are_refused(whitepaper):
    with pytest.raises(links.LinkError) as error:
        make_link(expires_at=utcnow() - timedelta(hours=1), code="no spaces")
    assert set(error.value.errors) == {"expires_at", "code"}
    make_link(code="booth2026")
    with pytest.raises(links.LinkError) as error:
        make_link(code="booth2026")
    assert set(error.value.errors) == {"code"}
    assert db.session.scalar(select(db.func.count()).select_from(ShortLink)) == 1


def test_a_visit_counts_once_and_carries_utm_tags(whitepaper, client):
    link = make_link(channel="booth", campaign="expo-2026")
    scan = client.get(f"/s/{link.code}?qr=1")
    click = client.get(f"/s/{link.code}")
    assert scan.status_code == click.status_code == 302
    assert scan.headers["Location"] == (
        f"/library/saas-renewal?utm_source=booth&utm_medium=qr&utm_campaign=expo-2026&utm_content=s-{link.code}"
    )
    assert "utm_medium=link" in click.headers["Location"]
    db.session.refresh(link)
    assert (link.scans, link.clicks) == (1, 1)
    day = db.session.get(LinkDay, (link.id, site_day(utcnow())))
    assert (day.scans, day.clicks) == (1, 1)


def test_crawlers_follow_a_link_uncounted(whitepaper, client):
    link = make_link()
    for agent in ("Mozilla/5.0 (compatible; Baiduspider/2.0)", "facebookexternalhit/1.1", ""):
        response = client.get(f"/s/{link.code}?qr=1", headers={"User-Agent": agent})
        assert response.status_code == 302 and "utm_content=s-" in response.headers["Location"]
    db.session.refresh(link)
    assert (link.scans, link.clicks) == (0, 0)
    assert db.session.scalar(select(LinkDay.link_id)) is None


def test_an_expired_code_lands_on_latest_related_content(whitepaper, client):
    make_whitepaper("churn-playbook", "客户流失手册", with_asset=False)
    link = make_link()
    link.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    response = client.get(f"/s/{link.code}?qr=1")
    assert response.status_code == 410
    assert "此链接已结束" in response.text
    assert "/library/churn-playbook" in response.text
    db.session.refresh(link)
    assert link.scans == 0  # an ended link counts nothing


@pytest.mark.parametrize("code", ["unknown1", "x" * 40, "%2e%2e", "a.b"])
def test_an_unknown_code_is_a_friendly_page_never_a_404(whitepaper, client, code):
    response = client.get(f"/s/{code}")
    assert response.status_code == 200
    assert response.headers["X-Robots-Tag"] == "noindex"
    assert "/library/saas-renewal" in response.text


def test_qr_files_hold_the_scan_url(whitepaper):
    link = make_link()
    url = links.qr_url(link)
    assert url == f"http://localhost/s/{link.code}?qr=1"
    matrix = [list(row) for row in segno.make_qr(url, error="m", boost_error=False).matrix]
    width, height, pixels = png_facts(qr.png(url))
    side = (len(matrix) + 8) * qr.PNG_SCALE
    assert (width, height) == (side, side)
    centre = qr.PNG_SCALE // 2
    decoded = [
        [pixels[(y + 4) * qr.PNG_SCALE + centre][(x + 4) * qr.PNG_SCALE + centre] for x in range(len(matrix))]
        for y in range(len(matrix))
    ]
    assert decoded == matrix
    svg = ET.fromstring(qr.svg(url))
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert int(svg.get("width")) == (len(matrix) + 8) * 8
