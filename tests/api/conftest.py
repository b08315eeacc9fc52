"""API keys for the API's tests, and a client that sends one."""

import pytest

from api.keys import create_key
from api.models import SCOPES
from core.timeutil import utcnow


@pytest.fixture
def make_token(app):
    """make_token("leads:read", …) -> a new key's Bearer token with those scopes."""

    def make(*scopes: str, name: str = "test key", expires_in=None) -> str:
        _key, token = create_key(name, list(scopes or SCOPES), now=utcnow(), expires_in=expires_in)
        return token

    return make


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api(app, make_token):
    """A test client whose requests carry a key with every scope."""
    headers = bearer(make_token())
    client = app.test_client()

    class Caller:
        def __getattr__(self, method):
            call = getattr(client, method)

            def send(url, **kwargs):
                kwargs["headers"] = {**headers, **kwargs.get("headers", {})}
                return call(url, **kwargs)

            return send

    return Caller()
