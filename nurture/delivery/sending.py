"""Sending: a claimed batch goes over one SMTP connection, each mail checked against
suppression, its topic, its sequence and its attempts, and each outcome committed on
its own by the batch's Recorder the moment it is known; transient trouble is retried
with backoff, a refusal fails the mail (and a bounce suppresses the address).

Each mail's final "." goes only after the previous outcome's commit, and the next mail
is rendered while this one's content travels (nurture.delivery states the rules; one
mail's SMTP exchange is nurture.wire).
"""

import contextlib
import logging
import smtplib
import socket
import time
from collections import Counter
from datetime import datetime, timedelta
from functools import partial

from flask import current_app
from sqlalchemy import select

from core.extensions import db, mail
from nurture import email, topics, wire
from nurture.delivery import rendering
from nurture.delivery.claiming import LEASE_SAFETY
from nurture.models import Suppression, email_hash
from nurture.recorder import Recorder
from nurture.suppression import suppress

log = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(hours=6)


def deliver(
    messages: list, now: datetime, *, pacer=None, stop=None, counts: Counter | None = None
) -> Counter:
    """Send the claimed messages over one SMTP connection; each outcome is committed
    on its own as soon as it is known, by the batch's Recorder. `pacer.wait()` runs
    before each send (the provider's rate limit); the outcomes are counted into
    `counts` as they happen, so a caller still knows what went when this raises."""
    hashes = {email_hash(m.to_address) for m in messages}
    suppressed = set(
        db.session.scalars(select(Suppression.email_hash).where(Suppression.email_hash.in_(hashes)))
    )
    # Whose recipient has left the mail's topic (or never chose an opt-in-only one): the
    # choices as they are now, for the whole batch in one query.
    unwanted = topics.unwanted([m.id for m in messages])
    db.session.commit()
    config = current_app.config
    recorder = Recorder(
        db.engine,
        synchronous_commit=config["NURTURE_SYNCHRONOUS_COMMIT"],
        reconnect_seconds=config["NURTURE_LEASE_SECONDS"],
    )
    batch = _Batch(recorder, messages, now, suppressed, unwanted, Counter() if counts is None else counts)
    try:
        return batch.send(pacer=pacer, stop=stop)
    finally:
        recorder.close()


class _SuppressedMeanwhile(Exception):
    """The mail at the server was suppressed after the batch was claimed; it was
    abandoned before its final ".", so the server dropped it."""


class _LeaseRunningOut(Exception):
    """The batch's lease is nearly gone: the mail at the server was abandoned before its
    final ".", and the rest of the batch goes back to the queue."""


def _open():
    """A Flask-Mail connection whose socket sends small writes at once (the final "."
    goes on its own after the previous outcome's commit, and Nagle's algorithm would
    hold it for the server's delayed ACK) and gives up on a silent server within a
    share of the lease (Flask-Mail sets no timeout: a hung server would hold the
    batch past its lease, and another worker would send it again)."""
    connection = mail.connect().__enter__()
    if connection.host is not None and connection.host.sock is not None:
        connection.host.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connection.host.sock.settimeout(current_app.config["NURTURE_LEASE_SECONDS"] * LEASE_SAFETY / 2)
    return connection


def _close(connection) -> None:
    with contextlib.suppress(OSError, smtplib.SMTPException):
        connection.__exit__(None, None, None)


class _Batch:
    """One claimed batch on its way: the mail still to send, the next one made ready
    while the current one travels, and the outcomes counted as they are recorded."""

    def __init__(
        self, recorder: Recorder, messages: list, now: datetime, suppressed: set, unwanted: set, counts
    ):
        self.recorder = recorder
        self.now = now
        self.suppressed = suppressed
        self.unwanted = unwanted
        self.counts = counts
        self.letterhead = rendering.Letterhead.from_config(current_app.config)
        self.max_attempts = current_app.config["MAIL_MAX_ATTEMPTS"]
        self.lease_ends = min((message.lease_ends for message in messages), default=float("inf"))
        self.pending = list(messages)
        self.connection = None
        # The next mail, rendered and built while the previous one's content travelled.
        self.ready: rendering.Ready | None = None
        # An unexpected error while doing so is raised only once the mail at the server
        # has gone and its outcome is recorded: raised inside the SMTP exchange, it would
        # abandon that mail for the next one's fault.
        self.deferred: list[Exception] = []

    def send(self, *, pacer, stop) -> Counter:
        """Send every mail of the batch, or record why not; the counts."""
        try:
            self.connection = _open()
        except (OSError, smtplib.SMTPException) as exc:
            for message in self.pending:
                self._retry(message, f"SMTP unreachable: {exc}")
            return self.counts
        try:
            while self.pending or self.ready or self.deferred:
                if self.deferred:
                    raise self.deferred[0]
                if (stop is not None and stop.is_set()) or time.monotonic() > self.lease_ends:
                    self._give_back(*self._ready_message())
                    break
                current, self.ready = self.ready or self._next_ready(), None
                if current is None:
                    break
                if pacer is not None:
                    pacer.wait()
                if not self._send_one(current):
                    break
        except (OSError, smtplib.SMTPException) as exc:
            # The connection is gone: the rest waits for the next try.
            self.pending[:0] = self._ready_message()
            for message in self.pending:
                self._retry(message, f"SMTP connection lost: {exc}")
        finally:
            _close(self.connection)
        return self.counts

    def _ready_message(self) -> list:
        return [self.ready.message] if self.ready else []

    # -- making the next mail ready ---------------------------------------------------

    def _next_ready(self) -> rendering.Ready | None:
        """The next pending message that may go, rendered and built (None: none left);
        the ones that may not are recorded on the way."""
        while self.pending:
            message = self.pending.pop(0)
            if self._barred(message):
                continue
            ready = self._build(message)
            if ready is not None:
                return ready
        return None

    def _render_next(self) -> None:
        """What the SMTP exchange does while a mail's content travels."""
        try:
            self.ready = self._next_ready()
        except Exception as exc:  # noqa: BLE001 - re-raised by the sending loop
            self.deferred.append(exc)

    def _barred(self, message) -> bool:
        """Whether the message must not go (suppressed, its topic left, its sequence's
        say, too many attempts); its outcome is then recorded."""
        if email_hash(message.to_address) in self.suppressed:
            self._record_suppressed(message)
            return True
        if message.id in self.unwanted:
            self.recorder.record(message, status="skipped", error=f"left the topic: {message.topic.slug}")
            self.counts["skipped"] += 1
            return True
        refusal = rendering.why_not(message, self.now)
        if refusal:
            self.recorder.record(message, **refusal)
            self.counts[refusal["status"] if refusal["status"] != "queued" else "held"] += 1
            return True
        if message.attempts > self.max_attempts:
            # Claimed again after its lease ran out, each time: the worker sending it
            # died or hung (it may have been delivered). Never again, and visible.
            self.recorder.record(
                message,
                status="failed",
                error=f"gave up after {self.max_attempts} attempts: the worker stopped while sending it",
            )
            self.counts["failed"] += 1
            return True
        return False

    def _build(self, message) -> rendering.Ready | None:
        """The mail built, or None when it cannot be (its outcome is then recorded)."""
        try:
            return rendering.build(message, self.letterhead)
        except rendering.BUILD_ERRORS as exc:
            self.recorder.record(message, status="failed", error=f"could not render: {exc}")
            self.counts["failed"] += 1
        except Exception as exc:  # noqa: BLE001 - one mail's bug must not stop the batch
            # Not a known fault of the mail (a bad setting, a bug): it waits for a
            # retry with its reason, gives up after MAIL_MAX_ATTEMPTS, and the rest of
            # the batch goes; raised, it would stop every pass at this mail.
            log.exception("message %s could not be built", message.id)
            self._retry(message, f"could not build: {exc.__class__.__name__}: {exc}")
        return None

    # -- one mail at the server -------------------------------------------------------

    def _send_one(self, ready: rendering.Ready) -> bool:
        """Send one mail and record its outcome; False when the batch must stop."""
        message = ready.message
        try:
            self._transmit(ready)
        except _LeaseRunningOut:
            # The next mail was rendered while this one's content travelled.
            self._give_back(message, *self._ready_message())
            self.ready = None
            return False
        except _SuppressedMeanwhile:
            self.suppressed.add(email_hash(message.to_address))
            self._record_suppressed(message)
            if self.connection.host is not None:
                _close(self.connection)
                self.connection = _open()
            return True
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            self._refused(message, code, reply, bad_address=True)
            return True
        except smtplib.SMTPResponseException as exc:
            self._refused(message, exc.smtp_code, exc.smtp_error, bad_address=False)
            if exc.smtp_code == 421:
                raise
            return True
        except (OSError, smtplib.SMTPException) as exc:
            self._retry(message, f"SMTP: {exc}")
            raise
        self._record_sent(ready)
        return True

    def _transmit(self, ready: rendering.Ready) -> None:
        message = ready.message
        before_dot = partial(self._before_dot, message.to_address)
        if self.connection.host is None:  # MAIL_SUPPRESS_SEND: Flask-Mail only records it
            before_dot()
            self.connection.send(
                email.PreparedMessage(ready.raw, sender=self.letterhead.sender, recipient=message.to_address)
            )
            return
        wire.send(
            self.connection.host,
            self.letterhead.address,
            email.envelope_address(message.to_address),
            ready.raw,
            before_dot=before_dot,
            meanwhile=self._render_next,
        )

    def _before_dot(self, address: str) -> None:
        """Once the content is at the server, before the "." that makes it take the
        mail: the previous outcome committed, the address still wanted, and time left on
        the lease (the reply then comes within the socket's timeout)."""
        if self.recorder.suppressed(address):
            raise _SuppressedMeanwhile
        if time.monotonic() > self.lease_ends:
            raise _LeaseRunningOut

    # -- outcomes ---------------------------------------------------------------------

    def _record_sent(self, ready: rendering.Ready) -> None:
        # Committed while the next mail travels; settled before its final ".".
        self.recorder.record_later(
            ready.message,
            check_address=self.ready.message.to_address if self.ready else None,
            status="sent",
            sent_at=self.now,
            message_id=ready.message_id,
            subject=ready.rendered.subject[:998],
            body_text=ready.rendered.text,
            body_html=ready.rendered.html,
            error="",
        )
        self.counts["sent"] += 1

    def _record_suppressed(self, message) -> None:
        self.recorder.record(message, status="suppressed", error="the address is suppressed")
        self.counts["suppressed"] += 1

    def _give_back(self, *first) -> None:
        """Stopping, or the lease running out (another worker may take the rows back
        then): what was not tried goes back to the queue, due at once."""
        rest = [*first, *self.pending]
        for message in rest:
            self.recorder.record(message, status="queued", attempts=message.attempts - 1, claimed_by="")
        self.counts["released"] += len(rest)
        self.pending.clear()

    def _retry(self, message, error: str) -> None:
        """Transient trouble: try again later with exponential backoff, or give up."""
        if message.attempts >= self.max_attempts:
            self.recorder.record(
                message, status="failed", error=f"gave up after {message.attempts} attempts: {error}"
            )
            self.counts["failed"] += 1
            return
        backoff = min(
            timedelta(seconds=current_app.config["MAIL_RETRY_SECONDS"] * 2 ** (message.attempts - 1)),
            MAX_BACKOFF,
        )
        self.recorder.record(message, status="queued", next_attempt_at=self.now + backoff, error=error)
        self.counts["retry"] += 1

    def _refused(self, message, code: int, reply, *, bad_address: bool) -> None:
        """The server refused the mail: a 4xx is retried; a 5xx fails it, and a bad
        address (550, 551, 553) is suppressed as bounced."""
        text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
        error = f"{code} {text}".strip()
        if 400 <= code < 500:
            self._retry(message, error)
            return
        bounced = bad_address and code in (550, 551, 553)
        self.recorder.record(
            message, status="failed", error=error, **({"bounced_at": self.now} if bounced else {})
        )
        self.counts["failed"] += 1
        if bounced:
            suppress(message.to_address, "bounced", now=self.now, detail=error)
