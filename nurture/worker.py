"""The delivery loop: `tick` is one pass (materialise what is due, then claim and send
in batches until nothing due is left); `run` ticks forever until asked to stop.

A worker records a heartbeat per pass, so the admin and /healthz can tell a silent
scheduler (the most common reason mail "doesn't go out") from an empty queue. The
heartbeat is the worker's registration, held for NURTURE_LEASE_SECONDS like the mail it
claims: a live worker renews it after every batch and every pass, and the registration
of one that stopped or died (killed, or a `flask serve` that never got its port) is no
longer listed once its lease has run out, and is removed by the next live worker's beat.
The newest one stays until then, so "when did a worker last run" keeps its answer.
"""

import contextlib
import os
import signal
import socket
import threading
from collections import Counter
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete

from core.extensions import db
from core.hooks import hooks
from core.schema import upsert_insert
from core.timeutil import utcnow
from gated.webhooks import deliver_due_webhooks
from nurture import delivery, ratelimit, signals
from nurture.models import WorkerHeartbeat
from nurture.sms import queue as sms_queue


def default_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def tick(
    now: datetime, *, batch_size: int | None = None, worker_name: str | None = None, stop=None
) -> Counter:
    """Deliver everything due at `now`. Returns counts by outcome (queued, sent,
    retry, failed, suppressed, skipped, waiting, capped, ...)."""
    config = current_app.config
    batch_size = batch_size or config["NURTURE_BATCH_SIZE"]
    worker_name = worker_name or default_name()
    counts = Counter()
    signals.pass_started.send(current_app._get_current_object(), now=now)
    # Rendering a mail may need a request (templates, translations): one on SITE_URL,
    # as every absolute URL is (core.urls).
    with current_app.test_request_context(base_url=config["SITE_URL"]):
        while not (stop is not None and stop.is_set()):
            made = delivery.materialise(now, limit=batch_size)
            counts.update(made)
            if sum(made.values()) < batch_size:
                break
        # The provider's limits, shared with every other worker through the database.
        rate = ratelimit.from_config(config, db.engine)
        while not (stop is not None and stop.is_set()):
            limit = rate.reserve(now, batch_size)
            batch = delivery.claim(
                now, limit=limit, worker=worker_name, lease_seconds=config["NURTURE_LEASE_SECONDS"]
            )
            if not batch:
                rate.give_back(now, limit)
                break
            done = Counter()
            try:
                delivery.deliver(batch, now, pacer=rate, stop=stop, counts=done)
            except BaseException:
                # Only what the server accepted counts against the hour, even when the
                # batch ended in an error (else errors would drain every worker's budget);
                # the batch's own error is the one to report.
                with contextlib.suppress(Exception):
                    rate.give_back(now, limit - done["sent"])
                raise
            finally:
                counts.update(done)
            rate.give_back(now, limit - done["sent"])
            beat(worker_name, passes=0)  # a pass of many batches may outlast the lease
            if counts["retry"] and not counts["sent"]:
                break  # the server is down: no point claiming the next batch now
    # The hand-off webhooks share the worker, so no second scheduler is needed.
    webhooks = deliver_due_webhooks(now)
    counts.update({f"webhook_{outcome}": number for outcome, number in webhooks.items() if number})
    # Texts (codes, links) too: one queue worker for every outgoing message.
    counts.update(sms_queue.deliver_due(now))
    counts.update(run_background_jobs(now, stop=stop))
    beat(worker_name, counts)
    return counts


def run_background_jobs(now: datetime, *, stop=None) -> Counter:
    """The jobs earlier packages declared (core.hooks.add_background_job), each in its
    own try: one failing job neither stops the mail nor the other jobs."""
    counts = Counter()
    for name, job in hooks(current_app).background_jobs:
        if stop is not None and stop.is_set():
            break
        try:
            done = job(now, stop) or {}
        except Exception:  # noqa: BLE001 - retried on the next pass; the worker goes on
            db.session.rollback()
            current_app.logger.exception("background job %s failed", name)
            counts[f"{name}_failed"] += 1
            continue
        counts.update({f"{name}_{outcome}": number for outcome, number in done.items() if number})
    return counts


def registration_lease() -> timedelta:
    return timedelta(seconds=current_app.config["NURTURE_LEASE_SECONDS"])


def beat(name: str, counts: Counter | None = None, *, passes: int = 1) -> None:
    """Upsert this worker's heartbeat, adding `passes` and the pass's counts, and remove
    the registrations of workers whose lease ran out (the real clock: it says whether a
    worker runs)."""
    counts = counts or Counter()
    moment = utcnow()
    name = name[:120]
    values = {
        "name": name,
        "last_tick_at": moment,
        "ticks": passes,
        "sent": counts["sent"],
        "failed": counts["failed"],
    }
    statement = upsert_insert(db.engine, WorkerHeartbeat.__table__).values(**values)
    excluded = statement.excluded
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["name"],
            set_={
                "last_tick_at": excluded.last_tick_at,
                "ticks": WorkerHeartbeat.__table__.c.ticks + excluded.ticks,
                "sent": WorkerHeartbeat.__table__.c.sent + excluded.sent,
                "failed": WorkerHeartbeat.__table__.c.failed + excluded.failed,
            },
        )
    )
    db.session.execute(
        delete(WorkerHeartbeat).where(
            WorkerHeartbeat.last_tick_at < moment - registration_lease(), WorkerHeartbeat.name != name
        )
    )
    db.session.commit()


def run(*, interval: float, stop: threading.Event, worker_name: str | None = None, on_tick=None) -> None:
    """Tick every `interval` seconds until `stop` is set; the message in flight is
    finished first, and claimed messages not yet tried are given back at once."""
    name = worker_name or default_name()
    while not stop.is_set():
        try:
            counts = tick(utcnow(), worker_name=name, stop=stop)
            if on_tick:
                on_tick(counts)
        except Exception:  # noqa: BLE001 - a bad pass must not end the worker; it is logged
            db.session.rollback()
            current_app.logger.exception("nurture worker pass failed")
        finally:
            db.session.remove()
        stop.wait(interval)


def stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM and SIGINT set `stop`: the loop ends after the current message."""

    def handle(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)


def start_dev_worker(app):
    """The worker in a daemon thread for `flask serve`; returns its stop()."""
    stop = threading.Event()

    def loop():
        with app.app_context():
            run(
                interval=app.config["NURTURE_WORKER_INTERVAL"], stop=stop, worker_name=f"dev:{default_name()}"
            )

    thread = threading.Thread(target=loop, name="nurture-worker", daemon=True)
    thread.start()

    def halt():
        stop.set()
        thread.join(timeout=10)

    return halt
