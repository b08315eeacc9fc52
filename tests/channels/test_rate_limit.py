"""/s/<code> under Flask-Limiter (SHORT_LINK_RATE_LIMIT): past the limit a live link
still takes the visitor to its page (only the count stops), and an unknown code is
refused with 429, so nobody guesses codes at speed."""

import pytest

from channels.models import ShortLink
from core.extensions import db
from tests.channels.conftest import make_link


@pytest.fixture
def limited(make_app, whitepaper):
    app = make_app(RATELIMIT_ENABLED=True, SHORT_LINK_RATE_LIMIT="3 per minute")
    with app.app_context():
        link = make_link(channel="booth", campaign="expo-2026")
        code = link.code
    return app, code


def test_past_the_limit_a_live_link_still_redirects_uncounted(limited):
    app, code = limited
    client = app.test_client()
    answers = [client.get(f"/s/{code}?qr=1") for _ in range(6)]
    assert [answer.status_code for answer in answers] == [302] * 6
    assert len({answer.headers["Location"] for answer in answers}) == 1
    assert "utm_source=booth" in answers[-1].headers["Location"]
    with app.app_context():
        link = db.session.query(ShortLink).filter_by(code=code).one()
        assert (link.scans, link.clicks) == (3, 0)  # the flood is not counted


def test_past_the_limit_unknown_codes_get_429(limited):
    app, _code = limited
    client = app.test_client()
    answers = [client.get(f"/s/guess{number}") for number in range(5)]
    assert [answer.status_code for answer in answers[:3]] == [200] * 3  # the friendly page
    assert {answer.status_code for answer in answers[3:]} == {429}
    assert 0 < int(answers[-1].headers["Retry-After"]) <= 60  # the minute window's rest
    assert "<html" in answers[-1].text


def test_each_visitor_has_their_own_allowance(limited):
    app, code = limited
    for address in ("198.51.100.1", "198.51.100.2"):
        client = app.test_client()
        for _ in range(3):
            client.get(f"/s/{code}", environ_base={"REMOTE_ADDR": address})
    with app.app_context():
        assert db.session.query(ShortLink).filter_by(code=code).one().clicks == 6
