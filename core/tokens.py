"""Signed, expiring tokens (itsdangerous) for download links, tracking and unsubscribe.

Each use has its own salt, so a token made for one purpose is refused for another.
"""

import zlib

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode
from itsdangerous.timed import TimedSerializer

# Payloads shorter than this are never compressed (see CompactSerializer).
COMPRESS_FROM = 512


class CompactSerializer(URLSafeTimedSerializer):
    """itsdangerous' URL-safe timed serializer that compresses long payloads only:
    zlib.compress sets up its whole state on every call (0.15 ms here, more than the rest
    of signing), and a short payload (a CSRF token, an id, a new visitor's session) never
    shrinks by it. Its tokens load with any URLSafeTimedSerializer, and it loads theirs."""

    def dump_payload(self, obj) -> bytes:
        json = TimedSerializer.dump_payload(self, obj)
        if len(json) >= COMPRESS_FROM:
            compressed = zlib.compress(json)
            if len(compressed) < len(json) - 1:
                return b"." + base64_encode(compressed)
        return base64_encode(json)


class InvalidToken(Exception):
    """A token that was tampered with, made for another purpose, or expired."""

    def __init__(self, message, *, expired=False, payload=None):
        super().__init__(message)
        self.expired = expired
        self.payload = payload


_SERIALIZERS: dict[tuple[str, str], CompactSerializer] = {}


def _serializer(purpose: str) -> CompactSerializer:
    """One serializer per key and purpose: building one costs a trial dump, and a landing
    page signs a token for every visitor."""
    key = (current_app.config["SECRET_KEY"], purpose)
    serializer = _SERIALIZERS.get(key)
    if serializer is None:
        serializer = CompactSerializer(key[0], salt=f"lodestar.{purpose}")
        _SERIALIZERS[key] = serializer
    return serializer


def sign(purpose: str, payload) -> str:
    """A URL-safe token carrying `payload` (anything JSON can hold)."""
    return _serializer(purpose).dumps(payload)


def unsign(purpose: str, token: str, *, max_age: int | None = None):
    """The payload of a valid token. Raises InvalidToken; on expiry the exception carries
    the payload so a page can offer a fresh link."""
    serializer = _serializer(purpose)
    try:
        return serializer.loads(token, max_age=max_age)
    except SignatureExpired as exc:
        payload = None
        try:
            payload = serializer.loads_unsafe(token)[1]
        except Exception:  # noqa: BLE001 - a broken payload is simply not offered
            payload = None
        raise InvalidToken("expired", expired=True, payload=payload) from exc
    except BadSignature as exc:
        raise InvalidToken("invalid") from exc
