"""Hosts: a malformed Host header is a 400 in the site's look (never a 500), outside
development only SITE_URL's host (and TRUSTED_HOSTS) reaches a view, and no absolute
URL in any page, feed, sitemap or mail takes its host from the request."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from accounts.services import login_key
from core.extensions import db
from core.timeutil import utcnow
from nurture import worker
from tests.factories import UserFactory, form_data

MALFORMED = ["a" * 64 + ".example.com", "a..b", ".a"]
HOSTILE = "evil.example"


@pytest.mark.parametrize("host", MALFORMED)
@pytest.mark.parametrize("path", ["/", "/help/", "/library/x", "/admin/"])
def test_a_malformed_host_is_a_400_page_in_the_sites_look(client, host, path):
    response = client.get(path, headers={"Host": host})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert '<p class="error-code">400</p>' in page
    assert 'href="/static/css/site.css' in page  # the layout's links, as paths on SITE_URL


@pytest.mark.parametrize("host", MALFORMED)
def test_a_malformed_host_is_a_400_in_json_under_api(client, host):
    response = client.get("/api/search?q=x", headers={"Host": host})
    assert response.status_code == 400 and response.get_json()["status"] == 400


def test_outside_development_only_the_sites_hosts_are_served(make_app):
    production = make_app(TESTING=False, SITE_URL="https://www.example.com", TRUSTED_HOSTS=None)
    assert production.config["TRUSTED_HOSTS"] == ["www.example.com"]
    with production.app_context():
        client = production.test_client()
        assert client.get("/robots.txt", headers={"Host": "www.example.com"}).status_code == 200
        refused = client.get("/robots.txt", headers={"Host": HOSTILE})
        assert refused.status_code == 400 and HOSTILE not in refused.get_data(as_text=True)
        for host in MALFORMED:
            assert client.get("/robots.txt", headers={"Host": host}).status_code == 400


def test_trusted_hosts_adds_hosts_from_a_comma_separated_setting(make_app):
    production = make_app(
        TESTING=False, SITE_URL="https://www.example.com", TRUSTED_HOSTS="10.0.0.5, .example.org"
    )
    assert production.config["TRUSTED_HOSTS"] == ["www.example.com", "10.0.0.5", ".example.org"]
    with production.app_context():
        client = production.test_client()
        for host in ("10.0.0.5:8000", "cdn.example.org", "www.example.com"):
            assert client.get("/robots.txt", headers={"Host": host}).status_code == 200, host
        assert client.get("/robots.txt", headers={"Host": "example.com"}).status_code == 400


def test_development_and_tests_serve_any_host(app):
    assert app.config["TRUSTED_HOSTS"] is None


# -- absolute URLs ---------------------------------------------------------------------

_LINK = re.compile(r'(?:href|src|action)="([^"]+)"|<loc>([^<]+)</loc>|^Sitemap: (\S+)', re.M)
SKIP = ("/static/", "/download/", "/u/", "/t/", "/logout", "/login", "/beacon")


def crawl(client, starts, *, inside="/", limit=400) -> dict[str, object]:
    """GET every page of ours reachable from `starts` (paths under `inside`), each with
    the hostile Host header; the responses by path."""
    seen, queue = {}, list(starts)
    while queue and len(seen) < limit:
        path = queue.pop(0)
        if path in seen:
            continue
        response = client.get(path, headers={"Host": HOSTILE})
        seen[path] = response
        if response.status_code != 200 or not response.mimetype.endswith(("html", "xml", "plain")):
            continue
        for match in _LINK.finditer(response.get_data(as_text=True)):
            link = next(group for group in match.groups() if group).replace("&amp;", "&")
            parts = urlsplit(link)
            if parts.netloc and parts.netloc != "localhost":
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if target.startswith(inside) and not target.startswith(SKIP) and target not in seen:
                queue.append(target)
    return seen


def assert_never_names(responses: dict, host: str) -> None:
    for path, response in responses.items():
        assert response.status_code < 500, path
        assert host not in response.get_data(as_text=True), path
        assert host not in str(response.headers), path


def test_no_page_feed_sitemap_or_mail_takes_its_host_from_the_request(app, runner, smtp_sink):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("hosts do not depend on the database; the demo site is loaded once, on SQLite")
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    visitor = app.test_client()
    public = crawl(
        visitor, ["/", "/sitemap.xml", "/robots.txt", "/feed.xml", "/search?q=续费", "/api/search?q=续费"]
    )
    pages = [path for path, response in public.items() if response.status_code == 200]
    assert {"/sitemap.xml", "/robots.txt", "/feed.xml"} <= set(pages)
    assert sum(path.startswith("/library/") for path in pages) >= 2  # the white papers' canonical links
    assert len(pages) > 40
    assert_never_names(public, HOSTILE)

    paper = next(path for path in pages if re.fullmatch(r"/library/[^/?]+", path))
    thanks = visitor.post(
        paper, data=form_data(email="host@example.com", consent="y"), headers={"Host": HOSTILE}
    )
    assert thanks.status_code == 303
    thanks = visitor.get(thanks.headers["Location"], headers={"Host": HOSTILE})
    assert thanks.status_code == 200
    assert_never_names({"thanks": thanks}, HOSTILE)

    admin = app.test_client()
    with admin.session_transaction(headers={"Host": HOSTILE}) as session:  # the cookie is the host's
        session["_user_id"] = login_key(UserFactory(role="admin"), now=utcnow())
        session["_fresh"] = True
    staff = crawl(admin, ["/admin/"], inside="/admin/", limit=150)
    assert len(staff) > 20
    assert_never_names(staff, HOSTILE)

    worker.tick(utcnow() + timedelta(days=1), worker_name="hosts")
    mails = smtp_sink.wait_for(1)
    assert mails, "the download mail went"
    for mail in mails:
        assert HOSTILE not in mail.as_string()
    assert any("http://localhost/download/" in mail.as_string() for mail in mails)
