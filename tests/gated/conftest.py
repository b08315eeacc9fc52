"""Fixtures of the gated tests: a published white paper with its file, a signal recorder,
cheap proof-of-work (the white paper and the form data themselves: tests.factories)."""

import altcha
import pytest

from core.extensions import db
from gated import signals
from tests.factories import make_whitepaper


@pytest.fixture
def whitepaper(app):
    return make_whitepaper()


class Recorder:
    """Collects the signals gated sends, with what the receiver could see at that time."""

    def __init__(self, app):
        self.app = app
        self.calls = []

    def __call__(self, name):
        def receive(sender, **payload):
            self.calls.append((name, payload, db.session().in_transaction()))

        return receive

    def of(self, name):
        return [payload for signal_name, payload, _ in self.calls if signal_name == name]

    def mailed_link(self) -> str:
        """The path of the last download link asked for by mail (opening it proves the
        address, so the browser becomes a known visitor)."""
        (*_, mail) = [m for m in self.of("mail_requested") if m["template"] == "gated/email/download_link"]
        return mail["context"]["download_url"].replace("http://localhost", "")


@pytest.fixture
def recorder(app):
    recording = Recorder(app)
    receivers = []
    for name in ("lead_captured", "mail_requested", "lead_stage_changed", "lead_erased", "download_recorded"):
        receiver = recording(name)
        getattr(signals, name).connect(receiver, sender=app, weak=False)
        receivers.append((name, receiver))
    yield recording
    for name, receiver in receivers:
        getattr(signals, name).disconnect(receiver, sender=app)


@pytest.fixture
def cheap_challenges(app, monkeypatch):
    """Proof-of-work as cheap as it gets: the tests solve it in Python, the check is the same."""
    monkeypatch.setitem(app.config, "FORM_CHALLENGE_COST", 1)


@pytest.fixture
def solve(client, cheap_challenges):
    """solve() -> the payload a browser's widget sends: a challenge fetched from the site's
    own endpoint and solved with the ALTCHA library."""

    def solved() -> str:
        challenge = altcha.Challenge.from_dict(client.get("/forms/challenge").get_json())
        return altcha.Payload(challenge, altcha.solve_challenge(challenge)).to_base64()

    return solved


@pytest.fixture(params=["auto", "always", "off"])
def challenge_mode(request, app, monkeypatch):
    """Each value of FORM_CHALLENGE in turn."""
    monkeypatch.setitem(app.config, "FORM_CHALLENGE", request.param)
    return request.param
