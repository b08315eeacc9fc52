"""A chaos run of the mail workers: does any mail get lost, or repeated under a new
Message-ID, when a worker is killed, the SMTP server goes away and PostgreSQL restarts?

    python bench/chaos.py            # 2,000 leads, 3 workers, a 20 s SMTP outage
    python bench/chaos.py --smoke    # 100 leads, a 3 s outage: well under a minute

The run needs a PostgreSQL it may restart, so it makes a cluster of its own
(`pg_createcluster <version> lodestar_chaos --port 5439`, trust for 127.0.0.1) and drops
it at the end; that takes root and Debian's postgresql-common. Without them it says why
and exits 0 (its summary row reads "skipped"), so `make bench-smoke` runs it where it can.

A gunicorn web app (wsgi.py, the production settings of bench.harness) runs beside the
workers on the same database, and a client thread posts the demo-request form to it, one
new address after another, from before the first disturbance until the mail has drained
after the last. The run reports the POSTs answered, those thanked (303 to the thank-you
page), the leads stored, the thanked-but-not-stored (must be 0), the 5xx answers while
PostgreSQL restarts, and how long after the restart the app thanked a visitor again,
without being restarted itself.

It migrates a fresh database, imports the leads into an always-open sequence through the
lead admin's bulk enroll (nurture.enrolment.enroll) and queues their first step
(nurture.delivery.materialise, as a worker's pass does), so every mail has its
Message-ID before any worker starts. A real aiosmtpd sink records each mail's recipient
and Message-ID. Three `flask nurture worker` processes send at MAIL_RATE_PER_SECOND with a
short NURTURE_LEASE_SECONDS; as the mails arrive the run SIGKILLs one worker (and starts a
replacement), stops the sink for the outage and starts it again on the same port, then
restarts the cluster. It stops when every mail is sent or failed, or at the time limit.

It exits 1 when a mail is lost (queued, never received, not failed with a reason), when a
repeat carries a new Message-ID, when there are more repeats than killed workers, when a
message is left 'sending', when a disturbance did not happen, when a visitor was thanked
for a lead that was not stored, or when the web app did not answer normally again after
the restart; docs/PERFORMANCE.md
("Chaos run") and docs/SECURITY.md ("Sending: at most one repeat") say what it proves.
"""

import argparse
import contextlib
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import (  # noqa: E402
    BIN,
    flask,
    free_port,
    gunicorn,
    in_process_app,
    instance_env,
    summary,
    temp_instance,
)
from bench.sending import STEP, received, run_sink  # noqa: E402

CLUSTER = "lodestar_chaos"
PORT = 5439
SITE_URL = "http://localhost"
SIZES = {
    # leads, outage seconds, mails per second (all workers), lease seconds, time limit
    "full": (2000, 20, 40.0, 10, 420),
    "smoke": (100, 3, 15.0, 5, 120),
}
# The disturbances, each when this share of the mails has been received.
SCHEDULE = [(0.15, "kill"), (0.35, "smtp"), (0.6, "postgres")]


def why_not() -> str | None:
    """The reason this machine cannot run the chaos run, or None."""
    if os.geteuid() != 0:
        return "not root (pg_createcluster and pg_ctlcluster need it)"
    for command in ("pg_createcluster", "pg_ctlcluster", "pg_dropcluster"):
        if shutil.which(command) is None:
            return f"{command} is missing (Debian's postgresql-common)"
    return None


def run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True, text=True, timeout=120)


@contextlib.contextmanager
def own_cluster(version: str):
    """A PostgreSQL cluster of this run's own on PORT, trusting 127.0.0.1; dropped at the
    end. A cluster of that name left by an interrupted run is dropped first."""
    with contextlib.suppress(subprocess.CalledProcessError):
        run("pg_dropcluster", "--stop", version, CLUSTER)
    run("pg_createcluster", version, CLUSTER, "--port", str(PORT))
    try:
        hba = Path(f"/etc/postgresql/{version}/{CLUSTER}/pg_hba.conf")
        hba.write_text("host all all 127.0.0.1/32 trust\n" + hba.read_text())
        run("pg_ctlcluster", version, CLUSTER, "start")
        import psycopg

        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{PORT}/postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE lodestar_chaos")
        yield f"postgresql+psycopg://postgres@127.0.0.1:{PORT}/lodestar_chaos"
    finally:
        run("pg_dropcluster", "--stop", version, CLUSTER)


class Sink:
    """The aiosmtpd sink (bench.sending's) in a process of its own, on one port for the
    whole run, so an outage is stopping it and starting it again on the same port."""

    def __init__(self, path: Path):
        self.path, self.port, self.process = path, free_port(), None

    def start(self) -> None:
        spawn = multiprocessing.get_context("spawn")
        ready, self.stop_event = spawn.Event(), spawn.Event()
        self.process = spawn.Process(
            target=run_sink, args=(self.port, str(self.path), ready, self.stop_event), daemon=True
        )
        self.process.start()
        if not ready.wait(30):
            raise RuntimeError("the SMTP sink did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.stop_event.set()
            self.process.join(timeout=10)
            self.process = None


def seed(database_url: str, folder: Path, leads: int) -> dict[str, str]:
    """The leads, enrolled and with their first mail queued; returns {address: Message-ID}."""
    from sqlalchemy import insert, select

    from core.extensions import db
    from core.timeutil import utcnow
    from gated.models import Lead
    from nurture import delivery, enrolment, sequences
    from nurture.models import DAYS, Message

    app = in_process_app(database_url, folder, SITE_URL=SITE_URL)
    with app.app_context(), app.test_request_context(base_url=SITE_URL):
        now = utcnow()
        window = {"days": list(DAYS), "start": "00:00", "end": "24:00", "timezone": "UTC"}
        sequence, _ = sequences.save_sequence(
            {"slug": "chaos", "status": "active", "send_window": window, "steps": [STEP]}, now=now
        )
        db.session.execute(
            insert(Lead),
            [
                {"email": f"c{i}@example.com", "name": f"读者{i}", "marketing_consent": True}
                for i in range(leads)
            ],
        )
        ids = db.session.scalars(select(Lead.id)).all()
        enrolment.enroll(ids, sequence.id, now=now, source="import")
        while sum(delivery.materialise(now, limit=500).values()):
            pass
        queued = dict(db.session.execute(select(Message.to_address, Message.message_id)).all())
        db.engine.dispose()
    return queued


def statuses(database_url: str) -> Counter | None:
    """Messages by status, or None while the database does not answer (it restarts)."""
    import psycopg

    url = database_url.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            return Counter(dict(conn.execute("SELECT status, count(*) FROM messages GROUP BY status")))
    except psycopg.Error:
        return None


def final_rows(database_url: str) -> list[tuple[str, str, str, str]]:
    import psycopg

    with psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        return conn.execute("SELECT to_address, message_id, status, error FROM messages").fetchall()


class Workers:
    """`flask nurture worker` processes, as production runs them; their output goes to a log."""

    def __init__(self, env: dict, log: Path):
        self.env, self.log, self.processes, self.started = env, log, {}, 0

    def start(self) -> None:
        name = f"chaos-{self.started}"
        self.started += 1
        with open(self.log, "ab") as out:
            self.processes[name] = subprocess.Popen(
                [
                    str(BIN / "flask"),
                    "--app",
                    "app",
                    "nurture",
                    "worker",
                    "--interval",
                    "0.5",
                    "--name",
                    name,
                ],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def kill_one(self) -> str:
        name, process = next(iter(self.processes.items()))
        process.send_signal(signal.SIGKILL)
        process.wait()
        del self.processes[name]
        return name

    def stop(self) -> None:
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class FormClient:
    """A visitor after another posting the demo-request form, each with a new address,
    in a thread, until stopped: (time, address, status or None for no answer, thanked)."""

    def __init__(self, base: str):
        self.base, self.answers, self.stopping = base, [], threading.Event()
        self.opener = urllib.request.build_opener(NoRedirect)
        self.thread = threading.Thread(target=self.run, daemon=True)

    def post(self, number: int) -> None:
        address = f"web{number}@visitors.example"
        body = urllib.parse.urlencode(
            {"email": address, "name": f"访客{number}", "company": "混沌测试", "message": "想看演示"}
        ).encode()
        status, location = None, ""
        try:
            with self.opener.open(self.base + "/demo-request", data=body, timeout=15) as response:
                status = response.status
        except urllib.error.HTTPError as answer:
            status, location = answer.code, answer.headers.get("Location", "")
            answer.close()
        except OSError:
            pass
        self.answers.append((time.monotonic(), address, status, status == 303 and "/thanks" in location))

    def run(self) -> None:
        number = 0
        while not self.stopping.is_set():
            self.post(number)
            number += 1
            time.sleep(0.05)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=30)


def web_figures(answers, stored: set[str], restart: tuple[float, float] | None) -> dict:
    """What the visitors got, and how the web app came through the PostgreSQL restart."""
    thanked = {address for _at, address, _status, ok in answers if ok}
    figures = {
        "posted": len(answers),
        "answered": sum(1 for answer in answers if answer[2] is not None),
        "thanked": len(thanked),
        "stored": len({address for _at, address, _status, _ok in answers} & stored),
        "thanked_not_stored": len(thanked - stored),
        "5xx": sum(1 for answer in answers if answer[2] is not None and answer[2] >= 500),
        "statuses": Counter(answer[2] for answer in answers),
        "5xx_restart": 0,
        "recovered_after": None,
        "failed_after_recovery": 0,
    }
    if restart is not None:
        began, ended = restart
        # While PostgreSQL restarts and until the app thanks a visitor again.
        after = [answer for answer in answers if answer[0] >= began]
        first_ok = next((answer[0] for answer in after if answer[0] >= ended and answer[3]), None)
        window_end = first_ok if first_ok is not None else float("inf")
        figures["5xx_restart"] = sum(
            1 for at, _a, status, _ok in after if at < window_end and status is not None and status >= 500
        )
        if first_ok is not None:
            figures["recovered_after"] = first_ok - ended
            figures["failed_after_recovery"] = sum(1 for at, _a, _s, ok in after if at > first_ok and not ok)
    return figures


def stored_addresses(database_url: str) -> set[str]:
    import psycopg

    with psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        return {
            row[0] for row in conn.execute("SELECT email FROM leads WHERE email LIKE 'web%@visitors.example'")
        }


def chaos(args, version: str, folder: Path) -> int:
    leads, outage, rate, lease, limit = SIZES["smoke" if args.smoke else "full"]
    leads = args.leads or leads
    sink = Sink(folder / "received.tsv")
    with own_cluster(version) as database_url:
        env = instance_env(
            folder,
            database_url,
            LODESTAR_SITE_URL=SITE_URL,
            LODESTAR_MAIL_SERVER="127.0.0.1",
            LODESTAR_MAIL_PORT=sink.port,
            LODESTAR_MAIL_RATE_PER_SECOND=rate,
            LODESTAR_MAIL_RETRY_SECONDS=2,
            LODESTAR_NURTURE_BATCH_SIZE=10,
            LODESTAR_NURTURE_LEASE_SECONDS=lease,
        )
        flask(env, "db", "upgrade")
        queued = seed(database_url, folder, leads)
        print(f"{len(queued):,} mails queued for {leads:,} leads; {rate:g} mails/s, lease {lease} s")
        sink.start()
        web_env = {**env, "LODESTAR_FORM_CHALLENGE": "off"}
        with gunicorn("wsgi:app", web_env, probe="/robots.txt") as base:
            return disturb(version, env, database_url, queued, sink, base, folder, (outage, limit))


def disturb(version, env, database_url, queued, sink, base, folder, sizes) -> int:
    """The workers and the visitors through the disturbances; the report."""
    outage, limit = sizes
    workers = Workers(env, folder / "workers.log")
    visitors = FormClient(base)
    visitors.start()
    restart = None
    for _ in range(3):
        workers.start()
    began, pending, done, killed = time.monotonic(), list(SCHEDULE), [], 0
    try:
        while time.monotonic() - began < limit:
            time.sleep(0.5)
            got = len(received(sink.path))
            if pending and got >= pending[0][0] * len(queued):
                _, event = pending.pop(0)
                at = f"{time.monotonic() - began:5.1f} s, {got:,} received"
                if event == "kill":
                    name = workers.kill_one()
                    workers.start()
                    killed += 1
                    print(f"{at}: SIGKILL {name}, a replacement started")
                elif event == "smtp":
                    sink.stop()
                    print(f"{at}: SMTP sink down for {outage} s")
                    time.sleep(outage)
                    sink.start()
                else:
                    stopped = time.monotonic()
                    run("pg_ctlcluster", version, CLUSTER, "restart")
                    restart = (stopped, time.monotonic())
                    print(f"{at}: PostgreSQL restarted ({restart[1] - stopped:.1f} s)")
                done.append(event)
            if restart and not visitors.stopping.is_set() and time.monotonic() - restart[1] > 10:
                # Ten seconds of visitors after the restart, then the mail drains.
                visitors.stop()
            counts = statuses(database_url)
            if (
                not pending
                and visitors.stopping.is_set()
                and counts is not None
                and not counts["queued"] + counts["sending"]
            ):
                break
        elapsed = time.monotonic() - began
    finally:
        visitors.stop()
        workers.stop()
        sink.stop()
    web = web_figures(visitors.answers, stored_addresses(database_url), restart)
    return report(queued, received(sink.path), final_rows(database_url), killed, done, elapsed, web)


def report(queued, mails, rows, killed: int, done: list[str], elapsed: float, web: dict) -> int:
    # The visitors' receipts are mail too: counted in the database's states, but the
    # mail figures are the seeded sequence's.
    receipts = [mail for mail in mails if mail[0] not in queued]
    mails = [mail for mail in mails if mail[0] in queued]
    by_address = {}
    for rcpt, message_id in mails:
        by_address.setdefault(rcpt, []).append(message_id)
    failed = {address for address, _mid, status, error in rows if status == "failed" and error.strip()}
    lost = [address for address in queued if address not in by_address and address not in failed]
    repeats = sum(len(ids) - 1 for ids in by_address.values())
    new_ids = sum(
        1 for address, ids in by_address.items() if len(ids) > 1 and set(ids) != {queued.get(address)}
    )
    foreign = sum(1 for address, ids in by_address.items() if queued.get(address) not in ids)
    states = Counter(status for _address, _mid, status, _error in rows)
    stuck = states["sending"] + states["queued"]
    missed = [event for _share, event in SCHEDULE if event not in done]
    print(
        f"\nafter {elapsed:.0f} s: queued {len(queued):,}, received {len(mails):,} "
        f"({len(by_address):,} recipients), lost {len(lost)}, repeats {repeats} "
        f"(killed workers: {killed}), repeats with a new Message-ID {new_ids}, "
        f"received under a Message-ID other than the queued one {foreign}"
    )
    print("database: " + ", ".join(f"{status} {count:,}" for status, count in sorted(states.items())))
    if lost:
        print(f"lost: {', '.join(lost[:10])}{' …' if len(lost) > 10 else ''}")
    if missed:
        print(f"disturbances that did not happen: {', '.join(missed)}")
    recovered = web["recovered_after"]
    print(
        f"web app: {web['posted']:,} demo-request POSTs, {web['answered']:,} answered, "
        f"{web['thanked']:,} thanked, {web['stored']:,} leads stored, "
        f"{web['thanked_not_stored']} thanked but not stored, {web['5xx']} 5xx "
        f"({web['5xx_restart']} during the PostgreSQL restart), "
        + (
            f"thanked again {recovered:.1f} s after the restart without a restart of its own, "
            f"{web['failed_after_recovery']} not thanked after that"
            if recovered is not None
            else "never thanked a visitor again after the restart"
        )
        + f"; {len(receipts):,} receipts mailed; answers by status: "
        + ", ".join(
            f"{status or 'none'} {count}" for status, count in sorted(web["statuses"].items(), key=str)
        )
    )
    web_holds = not web["thanked_not_stored"] and recovered is not None and not web["failed_after_recovery"]
    holds = (
        not lost
        and not new_ids
        and not foreign
        and repeats <= killed
        and not stuck
        and not missed
        and web_holds
    )
    summary(
        f"chaos: 3 workers, {len(queued):,} mails, SIGKILL + SMTP outage + PostgreSQL restart",
        f"{len(mails):,} received, {len(lost)} lost, {repeats} repeat(s), {new_ids} with a new Message-ID, "
        f"{stuck} left queued or sending; web: {web['thanked']:,}/{web['posted']:,} thanked, "
        f"{web['thanked_not_stored']} thanked not stored, {web['5xx_restart']} 5xx in the restart, "
        + (f"recovered {recovered:.1f} s after it" if recovered is not None else "did not recover"),
        aim="0 lost, repeats ≤ killed workers, same Message-ID; 0 thanked not stored, web recovers",
        holds=holds,
    )
    print("holds" if holds else "DOES NOT HOLD")
    return 0 if holds else 1


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--smoke", action="store_true", help="100 leads, a 3 s outage")
    parser.add_argument("--leads", type=int, help="leads (mails) instead of the size's")
    parser.add_argument("--pg-version", default="15", help="PostgreSQL major version of the cluster")
    parser.add_argument(
        "--keep", action="store_true", help="keep the temp folder (worker log, received mail)"
    )
    args = parser.parse_args()
    reason = why_not()
    if reason:
        print(f"chaos run skipped: {reason}")
        summary("chaos", f"skipped: {reason}", holds="skipped")
        return 0
    with temp_instance(keep=args.keep) as folder:
        if args.keep:
            print(f"folder: {folder}")
        return chaos(args, args.pg_version, folder)


if __name__ == "__main__":
    sys.exit(main())
