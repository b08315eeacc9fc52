"""Signed, expiring tokens (itsdangerous) for download links, tracking and unsubscribe.

Each use has its own salt, so a token made for one purpose is refused for another.
"""

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer


class InvalidToken(Exception):
    """A token that was tampered with, made for another purpose, or expired."""

    def __init__(self, message, *, expired=False, payload=None):
        super().__init__(message)
        self.expired = expired
        self.payload = payload


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"lodestar.{purpose}")


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
