"""Signed, expiring tokens (itsdangerous) for download links, tracking and unsubscribe.

Each use has its own salt, so a token made for one purpose is refused for another.
"""

import hmac
import os
import threading
import zlib

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode, want_bytes
from itsdangerous.signer import HMACAlgorithm
from itsdangerous.timed import TimedSerializer, TimestampSigner

# Payloads shorter than this are never compressed (see CompactSerializer).
COMPRESS_FROM = 512
RANDOM_POOL_BYTES = 4096


class RandomPool:
    """os.urandom read 4 KiB at a time. With four busy gunicorn workers one getrandom call
    took 5-10 us here (py-spy: more than signing the CSRF token it seeds), and a cached
    page asks for one or two per new visitor. A forked child starts with an empty pool and
    a fresh lock (os.register_at_fork), so no two processes ever hand out the same bytes
    and a fork taken while another thread held the lock cannot leave the child stuck."""

    def __init__(self):
        self.reset()
        os.register_at_fork(after_in_child=self.reset)

    def reset(self) -> None:
        self.lock = threading.Lock()
        self.data = b""
        self.offset = 0

    def take(self, count: int) -> bytes:
        with self.lock:
            if self.offset + count > len(self.data):
                self.data = os.urandom(max(RANDOM_POOL_BYTES, count))
                self.offset = 0
            start = self.offset
            self.offset += count
            return self.data[start : self.offset]


_RANDOM = RandomPool()


def random_hex(count: int) -> str:
    """`count` cryptographically random bytes as hex (secrets.token_hex, pooled)."""
    return _RANDOM.take(count).hex()


class KeyCachingSigner(TimestampSigner):
    """itsdangerous' timestamp signer with each derived key computed once, and the HMAC
    state after that key kept to copy: it derives the key (an HMAC of key and salt) and
    starts a new HMAC from the raw key for every signature, and builds a new signer for
    every token. Same keys, same signatures."""

    derived: dict[tuple, bytes] = {}
    keyed: dict[tuple, object] = {}

    def derive_key(self, secret_key=None) -> bytes:
        secret = self.secret_keys[-1] if secret_key is None else want_bytes(secret_key)
        key = (secret, self.salt, self.key_derivation, self.digest_method)
        derived = self.derived.get(key)
        if derived is None:
            derived = self.derived[key] = super().derive_key(secret)
        return derived

    def get_signature(self, value) -> bytes:
        if type(self.algorithm) is not HMACAlgorithm:
            return super().get_signature(value)
        key = (self.derive_key(), self.algorithm.digest_method)
        keyed = self.keyed.get(key)
        if keyed is None:
            keyed = self.keyed[key] = hmac.new(key[0], digestmod=key[1])
        mac = keyed.copy()
        mac.update(want_bytes(value))
        return base64_encode(mac.digest())


class CompactSerializer(URLSafeTimedSerializer):
    """itsdangerous' URL-safe timed serializer that compresses long payloads only:
    zlib.compress sets up its whole state on every call (0.15 ms here, more than the rest
    of signing), and a short payload (a CSRF token, an id, a new visitor's session) never
    shrinks by it; its derived keys are cached (KeyCachingSigner). Its tokens load with
    any URLSafeTimedSerializer, and it loads theirs."""

    default_signer = KeyCachingSigner

    def make_signer(self, salt=None):
        """One signer per serializer for its own salt (it keeps no state per token)."""
        if salt is not None:
            return super().make_signer(salt)
        signer = self.__dict__.get("_signer")
        if signer is None:
            signer = self._signer = super().make_signer(None)
        return signer

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


def serializer_for(secret: str, salt: str) -> CompactSerializer:
    """One serializer per key and salt: building one costs a trial dump, and a landing
    page signs a token for every visitor."""
    serializer = _SERIALIZERS.get((secret, salt))
    if serializer is None:
        serializer = _SERIALIZERS[(secret, salt)] = CompactSerializer(secret, salt=salt)
    return serializer


def _serializer(purpose: str) -> CompactSerializer:
    return serializer_for(current_app.config["SECRET_KEY"], f"lodestar.{purpose}")


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
