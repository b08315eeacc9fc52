"""The workers' registrations (heartbeats): held for the lease, so a dead worker (killed,
or a `flask serve` that never got its port) is removed once its lease has run out and
is not listed as a worker from then on."""

from datetime import timedelta

from sqlalchemy import select, update

from core.extensions import db
from core.timeutil import utcnow
from nurture import worker
from nurture.models import WorkerHeartbeat
from tests.nurture.conftest import tick


def registered() -> set[str]:
    return set(db.session.scalars(select(WorkerHeartbeat.name)))


def died(name: str, *, seconds_ago: float) -> None:
    """`name` registered, then its process died `seconds_ago` (real clock)."""
    worker.beat(name)
    db.session.execute(
        update(WorkerHeartbeat)
        .where(WorkerHeartbeat.name == name)
        .values(last_tick_at=utcnow() - timedelta(seconds=seconds_ago))
    )
    db.session.commit()


def test_a_dead_workers_registration_goes_when_its_lease_runs_out(app, smtp_sink):
    lease = app.config["NURTURE_LEASE_SECONDS"]
    died("dev:host:111", seconds_ago=lease + 1)
    died("host:222", seconds_ago=lease - 30)  # perhaps only in a long pass: still held
    tick(utcnow())
    assert registered() == {"test", "host:222"}


def test_the_queue_page_lists_only_workers_within_their_lease(app, login_as):
    lease = app.config["NURTURE_LEASE_SECONDS"]
    died("dev:host:111", seconds_ago=lease + 1)
    died("host:222", seconds_ago=5)
    page = login_as("marketer").get("/admin/nurture/queue").get_data(as_text=True)
    assert "host:222" in page
    assert "dev:host:111" not in page
    died("host:222", seconds_ago=lease + 1)
    page = login_as("marketer").get("/admin/nurture/queue").get_data(as_text=True)
    assert "没有正在运行的发送进程。" in page
