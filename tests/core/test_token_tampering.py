"""Every signed token the site accepts, presented tampered, expired, made for another
purpose, naming another lead (someone else's payload under this token's signature) and,
where it is one-use, a second time: each is refused cleanly (never a 500) and changes
nothing in the database. The genuine token is presented last, so each case also shows
the refusal was the token's doing.

Covered elsewhere and not repeated here: a replayed form-challenge solution
(tests/gated/test_form_challenge.py), the provider webhook's bearer token
(tests/nurture/test_callbacks.py), copied session cookies after sign-out
(tests/accounts/test_sessions.py)."""

import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select, text

from core.extensions import db
from core.tokens import sign
from gated import visitor
from gated.models import HeldSubmission, Lead, Submission
from nurture.models import Message
from tests.factories import form_data, make_whitepaper

pytestmark = pytest.mark.usefixtures("app")

LONG_AGO = 400 * 86400  # older than the longest lifetime (the lead cookie's 365 days)


def signed_long_ago(app, purpose, payload) -> str:
    class Past(URLSafeTimedSerializer):
        def make_signer(self, salt=None):
            signer = super().make_signer(salt)
            signer.get_timestamp = lambda: int(time.time()) - LONG_AGO
            return signer

    return Past(app.config["SECRET_KEY"], salt=f"lodestar.{purpose}").dumps(payload)


def tampered(token: str) -> str:
    """One character of the signature changed (not the last, whose low bits are padding)."""
    return token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]


def with_payload_of(token: str, other: str) -> str:
    """`token`'s timestamp and signature carrying `other`'s payload."""
    return other.split(".")[0] + "." + ".".join(token.split(".")[1:])


def snapshot() -> dict:
    """Every row of every table: a refused token must change none of them."""
    db.session.rollback()
    return {
        table.name: sorted(map(repr, db.session.execute(text(f'SELECT * FROM "{table.name}"')).all()))
        for table in db.metadata.sorted_tables
    }


@dataclass
class World:
    slug: str
    lead: Lead
    other: Lead
    message: Message
    held: HeldSubmission
    conversation: str
    other_conversation: str


def submit(client, slug, email, name):
    response = client.post(f"/library/{slug}", data=form_data(email=email, name=name))
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return db.session.scalar(select(Lead).where(Lead.email == email))


def start_conversation(client, question) -> str:
    response = client.post("/help/ask", data={"question": question})
    assert response.status_code == 303
    return response.headers["Location"].split("#")[0].rstrip("/").rsplit("/", 1)[-1]


@pytest.fixture
def world(app, client, monkeypatch):
    article, _asset = make_whitepaper()
    lead = submit(client, article.slug, "wang.fang@example.com", "王芳")
    other = submit(app.test_client(), article.slug, "li.lei@example.cn", "李雷")
    message = db.session.scalar(select(Message).where(Message.lead_id == lead.id).limit(1))
    monkeypatch.setitem(app.config, "FORM_CHALLENGE", "always")
    assert (
        app.test_client()
        .post(f"/library/{article.slug}", data=form_data(email="held@example.com"))
        .status_code
        == 202
    )
    monkeypatch.setitem(app.config, "FORM_CHALLENGE", "auto")
    held = db.session.scalar(select(HeldSubmission))
    conversations = [
        start_conversation(app.test_client(), q) for q in ("如何配置单点登录？", "How do I export leads?")
    ]
    return World(article.slug, lead, other, message, held, *conversations)


def asset_id(world):
    return db.session.scalar(select(Submission.asset_id).where(Submission.lead_id == world.lead.id))


def submission_id(lead):
    return db.session.scalar(select(Submission.id).where(Submission.lead_id == lead.id))


@dataclass
class Kind:
    """How a token is made and presented, and what a page that accepted it shows."""

    name: str
    purpose: str
    payload: Callable  # world, lead -> payload
    present: Callable  # client, world, token -> response
    granted: Callable  # response, world -> bool
    expires: bool = True
    one_use: bool = False
    # The purpose whose token is presented in the "another kind" case.
    other_purpose: str = "unsubscribe"


def cookie_page(name):
    """The known-visitor cookie as the lead form's script presents it (/forms/known)."""

    def present(client, world, token):
        client.set_cookie(name, token)
        return client.get("/forms/known", query_string={"kind": "whitepaper"})

    return present


def held_confirm(client, world, token):
    return client.post("/forms/confirm", data={"token": token})


KINDS = [
    Kind(
        "download link",
        "download",
        lambda w, lead: {"l": lead.id, "a": asset_id(w), "m": 1},
        lambda c, w, t: c.get(f"/download/{t}"),
        lambda r, w: r.status_code == 200 and r.mimetype == "application/pdf",
    ),
    Kind(
        "fresh download link",
        "download",
        lambda w, lead: {"l": lead.id, "a": asset_id(w)},
        lambda c, w, t: c.post("/download/fresh", data={"token": t}),
        lambda r, w: r.status_code == 200,
        # An expired download link is what this form is for: a fresh one goes to the
        # lead's own address only (tests/gated/test_views.py).
        expires=False,
    ),
    Kind(
        "double opt-in",
        "confirm",
        lambda w, lead: {"l": lead.id, "s": submission_id(lead)},
        lambda c, w, t: c.post(f"/confirm/{t}"),
        lambda r, w: r.status_code == 200 and db.session.get(Lead, w.lead.id).confirmed_at is not None,
    ),
    Kind(
        "known-visitor cookie",
        "verified-lead",
        lambda w, lead: lead.id,
        cookie_page(visitor.COOKIE),
        lambda r, w: "王芳" in (r.get_json() or {}).get("greeting", ""),
    ),
    Kind(
        "thank-you page",
        "thanks",
        lambda w, lead: {"l": lead.id, "s": submission_id(lead), "m": 1},
        lambda c, w, t: c.get(f"/library/{w.slug}/thanks", query_string={"t": t}),
        lambda r, w: "/download/" in r.get_data(as_text=True),
    ),
    Kind(
        "held-submission confirm",
        "held-confirm",
        lambda w, lead: w.held.id if lead is w.lead else w.held.id + 1000,
        held_confirm,
        lambda r, w: db.session.scalar(select(Lead).where(Lead.email == "held@example.com")) is not None,
        one_use=True,
    ),
    Kind(
        "unsubscribe",
        "unsubscribe",
        lambda w, lead: w.message.id if lead is w.lead else w.message.id + 1000,
        lambda c, w, t: c.post(f"/u/{t}", data={"List-Unsubscribe": "One-Click"}),
        lambda r, w: r.status_code == 204,
        expires=False,
        other_purpose="open",
    ),
    Kind(
        "open pixel",
        "open",
        lambda w, lead: w.message.id if lead is w.lead else w.message.id + 1000,
        lambda c, w, t: c.get(f"/t/o/{t}"),
        lambda r, w: db.session.get(Message, w.message.id).open_count == 1,
        expires=False,
    ),
    Kind(
        "tracked link",
        "click",
        lambda w, lead: [w.message.id, "https://example.com/" if lead is w.lead else "https://evil.example/"],
        lambda c, w, t: c.get(f"/t/c/{t}"),
        lambda r, w: r.status_code == 302 and r.headers["Location"] == "https://example.com/",
        expires=False,
    ),
    Kind(
        "assistant conversation",
        "assistant-conversation",
        lambda w, lead: None,  # the real tokens are taken from the world
        lambda c, w, t: c.get(f"/help/ask/{t}"),
        lambda r, w: r.status_code == 200 and "如何配置单点登录" in r.get_data(as_text=True),
        expires=False,
    ),
]


def tokens_for(app, kind, world) -> dict[str, str]:
    """The genuine token and its hostile variants."""
    if kind.purpose == "assistant-conversation":
        genuine, other = world.conversation, world.other_conversation
        payload = json.loads(base64.urlsafe_b64decode(genuine.split(".")[0] + "=="))
    else:
        payload = kind.payload(world, world.lead)
        genuine, other = sign(kind.purpose, payload), sign(kind.purpose, kind.payload(world, world.other))
    variants = {
        "tampered signature": tampered(genuine),
        "another kind": sign(kind.other_purpose, payload),
        "another lead": with_payload_of(genuine, other),
        "truncated": genuine[: len(genuine) // 2],
    }
    if kind.expires:
        variants["expired"] = signed_long_ago(app, kind.purpose, payload)
    return {"genuine": genuine, **variants}


@pytest.mark.parametrize("kind", KINDS, ids=[kind.name for kind in KINDS])
def test_a_hostile_token_is_refused_and_changes_nothing(app, world, kind):
    made = tokens_for(app, kind, world)
    genuine = made.pop("genuine")
    for variant, token in made.items():
        before = snapshot()
        client = app.test_client()
        response = kind.present(client, world, token)
        assert response.status_code < 500, variant
        assert not kind.granted(response, world), variant
        response.close()
        assert snapshot() == before, variant
    # The genuine token is accepted, so the refusals above were the tokens' doing.
    accepted = kind.present(app.test_client(), world, genuine)
    assert kind.granted(accepted, world)
    accepted.close()
    if kind.one_use:
        before = snapshot()
        replay = kind.present(app.test_client(), world, genuine)
        assert replay.status_code < 500
        replay.close()
        assert snapshot() == before


def test_a_forged_remember_cookie_opens_nothing(app, login_as):
    """Flask-Login's remember cookie is `key|hmac`: another user's key under this
    cookie's digest, or a changed digest, is no sign-in."""
    from flask_login.utils import encode_cookie

    from accounts.services import login_key
    from core.timeutil import utcnow
    from tests.factories import UserFactory

    sales = UserFactory(role="sales")
    admin = UserFactory(role="admin")
    genuine = encode_cookie(login_key(sales, now=utcnow()))
    someone_else = login_key(admin, now=utcnow()) + "|" + genuine.split("|")[1]
    before = snapshot()
    for cookie in (tampered(genuine), someone_else, genuine.split("|")[0]):
        client = app.test_client()
        client.set_cookie("remember_token", cookie)
        response = client.get("/admin/leads/")
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert snapshot() == before
    client = app.test_client()
    client.set_cookie("remember_token", genuine)
    assert client.get("/admin/leads/").status_code == 200


def test_a_tampered_session_cookie_opens_nothing(app, login_as):
    signed_in = login_as("admin")
    session = signed_in.get_cookie("session").value
    client = app.test_client()
    client.set_cookie("session", tampered(session))
    response = client.get("/admin/leads/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
