"""The access matrix: every staff route, taken from the URL map (a new one is covered
without touching this file), requested by an anonymous visitor, by each staff role and by
a deactivated user, and every POST route without its CSRF token.

A staff route is any rule under /admin. Each one's view must carry the role guard
(`accounts.guards.roles_required`, which records the roles it lets in); a view without it
fails here, and so does one whose guard lets in a role it does not name."""

import pytest

from accounts.models import ROLES
from accounts.services import login_key
from core.extensions import db
from core.timeutil import utcnow
from tests.conftest import empty_tables, rule_url, sign_in_session
from tests.factories import UserFactory

pytestmark = pytest.mark.usefixtures("app")

IDENTITIES = ("anonymous", "deactivated", *ROLES)
# Public POST routes that take no CSRF token by design, each because something else is
# the proof: the provider's bearer token (bounce/complaint webhook), the signed token in
# the body (a search result's click beacon) or in the URL (a mail provider's RFC 8058
# one-click unsubscribe, which sends no cookie; the page's own form is still checked).
TOKEN_IS_THE_PROOF = {"nurture.mail_events", "search.search_click", "nurture.unsubscribe"}
# The REST API takes no cookie at all: an API key in the Authorization header, or the
# CRM webhook's HMAC signature, is the proof (tests/api checks both).
API_PREFIX = "/api/v1/"
# Views that check the record too, after the role: a role they let in may still get 403
# for a record that is not its own (tests/insights/test_scoring.py checks both sides).
RECORD_CHECKED = {"scoring_admin.lead"}  # sales see the scoring of leads handed to them only


def staff_rules(app):
    return sorted(
        (rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/admin")), key=lambda r: r.rule
    )


def post_rules(app):
    return sorted((rule for rule in app.url_map.iter_rules() if "POST" in rule.methods), key=lambda r: r.rule)


def allowed_roles(app, rule):
    return getattr(app.view_functions[rule.endpoint], "allowed_roles", None)


def test_every_staff_view_carries_the_role_guard(app):
    rules = staff_rules(app)
    assert len(rules) > 60
    assert [rule.rule for rule in rules if not allowed_roles(app, rule)] == []
    # Sales and editors do not see everything: the guards say who may.
    assert {len(allowed_roles(app, rule)) for rule in rules} > {len(ROLES)}


def sign_in(client, identity):
    if identity == "anonymous":
        return
    if identity == "deactivated":
        user = UserFactory(role="admin", active=False)
        with client.session_transaction() as session:
            session["_user_id"] = login_key(user, now=utcnow())
            session["_fresh"] = True
        return
    sign_in_session(client, UserFactory(role=identity))


def wrong_answer(app, rule, identity, status, location):
    """What is wrong with the answer to `identity`, or None."""
    if status >= 500:
        return status
    if identity in ("anonymous", "deactivated"):
        return None if status == 302 and "/login" in location else (status, location)
    if identity in allowed_roles(app, rule):
        return status if status == 403 and rule.endpoint not in RECORD_CHECKED else None
    return None if status == 403 else status


@pytest.fixture(scope="module")
def answers(app):
    """{(identity, method, url): what was wrong}, over the demo's data (so ids 1 exist)."""
    wrong = {}
    with app.app_context():
        try:
            assert app.test_cli_runner().invoke(args=["demo", "load"]).exit_code == 0
            clients = {}
            for identity in IDENTITIES:
                clients[identity] = app.test_client()
                sign_in(clients[identity], identity)
            requested = 0
            for rule in staff_rules(app):
                url = rule_url(rule)
                for method in sorted({"GET", "POST"} & rule.methods):
                    for identity, client in clients.items():
                        try:
                            response = client.open(url, method=method)
                        except Exception as exc:  # noqa: BLE001 -- the test client re-raises a 500
                            wrong[(identity, method, url)] = repr(exc)[:200]
                            continue
                        requested += 1
                        problem = wrong_answer(
                            app, rule, identity, response.status_code, response.headers.get("Location", "")
                        )
                        if problem is not None:
                            wrong[(identity, method, url)] = problem
        finally:
            db.session.rollback()
            empty_tables()
    assert requested > 500
    return wrong


def test_each_identity_gets_what_its_role_allows(answers):
    assert answers == {}


def test_the_matrix_notices_a_view_that_lost_its_guard(app):
    rule = next(rule for rule in staff_rules(app) if rule.endpoint == "gated_admin.leads")
    # A view without its guard answers 200 to everyone: each of these is a finding.
    assert wrong_answer(app, rule, "anonymous", 200, "") == (200, "")
    assert wrong_answer(app, rule, "editor", 200, "") == 200
    assert wrong_answer(app, rule, "sales", 200, "") is None


@pytest.fixture
def strict(make_app):
    return make_app(WTF_CSRF_ENABLED=True)


def test_every_staff_post_refuses_a_missing_csrf_token(strict):
    with strict.app_context():
        client = strict.test_client()
        sign_in_session(client, UserFactory(role="admin"))
        staff = [
            rule for rule in post_rules(strict) if rule.rule.startswith("/admin") or rule.rule == "/logout"
        ]
        assert len(staff) > 40
        answered = {rule.rule: client.post(rule_url(rule)).status_code for rule in staff}
        assert {rule: status for rule, status in answered.items() if status != 400} == {}
        # Still signed in: the refused /logout ended nothing.
        assert client.get("/admin/").status_code == 200


def test_every_public_post_refuses_another_site(strict):
    with strict.app_context():
        client = strict.test_client()
        public = [
            rule
            for rule in post_rules(strict)
            if not rule.rule.startswith(("/admin", API_PREFIX)) and rule.endpoint not in TOKEN_IS_THE_PROOF
        ]
        assert len(public) > 8
        # An embedded form's path names a real form (an unknown one is a 404 before any check).
        url = {"/embed/<path:form>": "/embed/newsletter"}
        answered = {
            rule.rule: client.post(
                url.get(rule.rule) or rule_url(rule), headers={"Origin": "https://evil.example"}
            ).status_code
            for rule in public
        }
        assert {rule: status for rule, status in answered.items() if status not in (400, 403)} == {}
