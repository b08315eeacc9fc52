"""How fast the nurture worker delivers, against what SMTP itself allows.

    python bench/sending.py [--small | --mails N] [--database URL] [--pg URL | --no-postgres]
                            [--processes 1,2,4]

Measures, in one run and against one local aiosmtpd sink running in its own process:
1. the ceiling: raw smtplib sending the same finished message over one connection;
2. the render path alone: personalise + layout + MIME (+ DKIM when configured), per mail;
3. one worker (`tick`) delivering N due enrollments from the database (SQLite file by
   default, or --database), and on PostgreSQL (--pg) with synchronous_commit on (the
   default) and off (NURTURE_SYNCHRONOUS_COMMIT=off), as rates and as shares of the ceiling;
4. 1, 2 and 4 worker processes on PostgreSQL over M due enrollments, counting
   duplicates by recipient and Message-ID (must be 0), with the workers' CPU time per
   mail and how busy the machine's cores were.
The ceiling is measured before and after the worker runs and every ratio is to their
mean, so a machine shared with other work still gives comparable ratios. Every phase is
bounded in size, so the run is bounded in time.
"""

import argparse
import contextlib
import multiprocessing
import os
import re
import smtplib
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import SECRET, postgres_database, summary, temp_instance  # noqa: E402

MESSAGE_ID = re.compile(rb"^Message-ID: (<[^>]+>)", re.M)
STEP = {
    "delay": "0h",
    "subject": "{{ lead.first_name or '您好' }},这是您要的白皮书",
    "body": (
        "{{ lead.first_name or '您好' }}:\n\n感谢下载《如何提高 SaaS 续费率》。[重新下载]({{ download_url }})\n\n"
        "- **从一个指标开始**:先选一个最影响续费的指标。\n- **把健康度放进日常**。\n\n"
        "更多案例见我们的[客户案例]({{ site_url }}/cases/)。\n"
    ),
}


# -- the sink, in its own process so it does not share our GIL -------------------------


class CountingSink:
    def __init__(self, path):
        self.out = open(path, "ab", buffering=0)  # noqa: SIM115 - open for the process's life

    async def handle_DATA(self, server, session, envelope):
        found = MESSAGE_ID.search(envelope.content)
        line = b"%s\t%s\n" % (",".join(envelope.rcpt_tos).encode(), found.group(1) if found else b"-")
        self.out.write(line)
        return "250 OK"


def run_sink(port, path, ready, stop):
    from aiosmtpd.controller import Controller

    controller = Controller(CountingSink(path), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


@contextlib.contextmanager
def sink_process(path):
    """The counting sink in a process of its own, on a free loopback port; yields the port."""
    from tests.conftest import free_port

    port = free_port()
    spawn = multiprocessing.get_context("spawn")
    ready, stop = spawn.Event(), spawn.Event()
    sink = spawn.Process(target=run_sink, args=(port, path, ready, stop), daemon=True)
    sink.start()
    ready.wait(30)
    try:
        yield port
    finally:
        stop.set()
        sink.join(timeout=10)


def received(path) -> list[tuple[str, str]]:
    if not Path(path).exists():
        return []
    return [tuple(line.split("\t")) for line in Path(path).read_text().splitlines()]


def wait_received(path, count, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(received(path)) < count:
        time.sleep(0.02)
    return received(path)


# -- app and data -----------------------------------------------------------------------


def make_app(database_url, port, tmp, **overrides):
    from app import create_app

    return create_app(
        overrides
        | {
            "SECRET_KEY": SECRET,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": port,
            "MAIL_RATE_PER_SECOND": 0,
            "NURTURE_BATCH_SIZE": 200,
            "SITE_URL": "http://localhost",
            "DEV_SMTP_SINK": False,
            "INDEX_DIR": os.path.join(tmp, "index"),
            "OUTBOX_DIR": os.path.join(tmp, "outbox"),
        }
    )


def seed(count):
    """A fresh schema, one always-open sequence and `count` due enrollments."""
    from sqlalchemy import insert, select

    from core.extensions import db
    from core.timeutil import utcnow
    from gated.models import Lead
    from nurture import sequences
    from nurture.models import DAYS, Enrollment

    db.drop_all()
    db.create_all()
    now = utcnow()
    window = {"days": list(DAYS), "start": "00:00", "end": "24:00", "timezone": "UTC"}
    sequence, _ = sequences.save_sequence(
        {"slug": "bench", "status": "active", "send_window": window, "steps": [STEP]}, now=now
    )
    db.session.execute(
        insert(Lead),
        [{"email": f"p{i}@example.com", "name": f"读者{i}", "marketing_consent": True} for i in range(count)],
    )
    ids = db.session.scalars(select(Lead.id)).all()
    db.session.execute(
        insert(Enrollment),
        [
            {
                "lead_id": lead_id,
                "sequence_id": sequence.id,
                "status": "active",
                "next_send_at": now,
                "enrolled_at": now,
            }
            for lead_id in ids
        ],
    )
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # Statistics as a running database has them (autovacuum analyzes a table within
        # a minute of such a change): planned on the empty tables' estimates, the
        # worker's joins read every lead per row, which measures the planner's lag.
        with db.engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE leads, enrollments, messages, sequences, steps, suppressions")
            connection.commit()
    return now


# -- phases -----------------------------------------------------------------------------


def sample_message(app):
    """One finished message, as the worker builds it, and the per-mail build cost."""
    from types import SimpleNamespace

    from nurture import compose, email

    lead = SimpleNamespace(
        id=1, email="p1@example.com", name="读者1", first_name="读者1", company="", job_title="", role=""
    )
    step = SimpleNamespace(subject=STEP["subject"], body=STEP["body"])
    with app.test_request_context(base_url="http://localhost"):

        def build(message_id):
            rendered = compose.compose_step(step, lead, message_id=message_id, asset_id=None, locale="zh-CN")
            return email.build(
                rendered,
                sender=app.config["MAIL_DEFAULT_SENDER"],
                to=lead.email,
                message_id=email.new_message_id("lodestar.example"),
                list_id="Lodestar <nurture.lodestar.example>",
                unsubscribe_url=compose.unsubscribe_url(message_id),
                unsubscribe_mailto="mailto:unsubscribe@lodestar.example",
            )

        raw = build(1)
        runs = 2000
        started = time.perf_counter()
        for i in range(runs):
            build(i)
        per_mail = (time.perf_counter() - started) / runs
    return raw, per_mail


def raw_ceiling(port, raw, count):
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        started = time.perf_counter()
        for _ in range(count):
            smtp.sendmail("hello@lodestar.example", ["p1@example.com"], raw)
        elapsed = time.perf_counter() - started
    return count / elapsed


def cores_busy() -> tuple[int, int]:
    """(busy, total) jiffies of all cores so far, from /proc/stat (0, 0 elsewhere)."""
    try:
        fields = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    except OSError:
        return 0, 0
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def one_worker(app, count, sink_path):
    from core.extensions import db
    from core.memory import freeze_startup_objects
    from nurture import worker

    with app.app_context():
        now = seed(count)
        before = len(received(sink_path))
        freeze_startup_objects()  # as `flask nurture worker` and `tick` do
        started = time.perf_counter()
        counts = worker.tick(now, worker_name="bench")
        elapsed = time.perf_counter() - started
        db.session.remove()
    wait_received(sink_path, before + count)
    return counts["sent"], count / elapsed


def child(database_url, port, tmp, index, go, results):
    app = make_app(database_url, port, tmp)
    from core.memory import freeze_startup_objects
    from nurture import worker

    with app.app_context():
        from core.timeutil import utcnow

        freeze_startup_objects()  # as `flask nurture worker` and `tick` do
        results.put(("ready", index))
        go.wait()
        cpu = time.process_time()
        counts = worker.tick(utcnow(), worker_name=f"bench-{index}")
        results.put(("done", dict(counts), time.process_time() - cpu))


def many_workers(pg_url, port, tmp, processes, count, sink_path):
    app = make_app(pg_url, port, tmp)
    with app.app_context():
        seed(count)
        from core.extensions import db

        db.engine.dispose()
    before = len(received(sink_path))
    spawn = multiprocessing.get_context("spawn")
    go, results = spawn.Event(), spawn.Queue()
    workers = [
        spawn.Process(target=child, args=(pg_url, port, tmp, i, go, results)) for i in range(processes)
    ]
    for process in workers:
        process.start()
    for _ in workers:
        results.get(timeout=120)
    started, busy_before = time.perf_counter(), cores_busy()
    go.set()
    done = [results.get(timeout=600) for _ in workers]
    elapsed = time.perf_counter() - started
    busy, total = (after - before for after, before in zip(cores_busy(), busy_before, strict=True))
    sent = sum(counts.get("sent", 0) for _done, counts, _cpu in done)
    cpu_per_mail = sum(cpu for _done, _counts, cpu in done) / max(sent, 1)
    for process in workers:
        process.join(timeout=30)
    mails = wait_received(sink_path, before + count)[before:]
    duplicates = sum(n - 1 for n in Counter(rcpt for rcpt, _ in mails).values() if n > 1)
    duplicates += sum(n - 1 for n in Counter(mid for _, mid in mails).values() if n > 1)
    cores = (os.cpu_count() or 1) * busy / total if total else float("nan")
    return sent, count / elapsed, duplicates, len(mails), cpu_per_mail, cores


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--small", action="store_true", help="a quick run (fewer messages)")
    parser.add_argument(
        "--database", help="database of the one-worker run (default: a temporary SQLite file)"
    )
    parser.add_argument(
        "--pg", help="PostgreSQL for the PostgreSQL runs (default: a throw-away database, dropped afterwards)"
    )
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument(
        "--mails", type=int, help="mails per run (default 2,000 for one worker, 5,000 for processes)"
    )
    parser.add_argument(
        "--processes", default="1,2,4", help="worker process counts of the PostgreSQL runs (comma-separated)"
    )
    args = parser.parse_args()
    one_count = args.mails or (300 if args.small else 2000)
    many_count = args.mails or (500 if args.small else 5000)
    processes = [int(n) for n in args.processes.split(",") if n]

    with temp_instance() as tmp, contextlib.ExitStack() as stack:
        if args.no_postgres:
            pg = None
        elif args.pg:
            pg = args.pg.replace("postgresql://", "postgresql+psycopg://")
        else:
            pg = stack.enter_context(postgres_database("sending"))
        measure(str(tmp), args.database or f"sqlite:///{tmp}/bench.db", pg, one_count, many_count, processes)


def measure(
    tmp: str, database: str, pg: str | None, one_count: int, many_count: int, processes: list[int]
) -> None:
    sink_path = os.path.join(tmp, "received.tsv")
    with sink_process(sink_path) as port:
        app = make_app(database, port, tmp)
        raw, per_mail = sample_message(app)
        print(
            f"message: {len(raw)} bytes; build (personalise + layout + MIME): {per_mail * 1000:.2f} ms/mail"
        )
        before = raw_ceiling(port, raw, one_count)
        runs = [(database.split(":", 1)[0].split("+")[0], *one_worker(app, one_count, sink_path))]
        if pg:
            for setting in ("on", "off"):
                pg_app = make_app(pg, port, tmp, NURTURE_SYNCHRONOUS_COMMIT=setting)
                runs.append(
                    (f"postgresql, synchronous_commit {setting}", *one_worker(pg_app, one_count, sink_path))
                )
                with pg_app.app_context():
                    from core.extensions import db

                    db.engine.dispose()
        after = raw_ceiling(port, raw, one_count)
        ceiling = (before + after) / 2
        print(
            f"raw smtplib, one connection, same message: {ceiling:,.0f} mails/s "
            f"(the ceiling; {before:,.0f} before the worker runs, {after:,.0f} after)"
        )
        for engine, sent, rate in runs:
            print(
                f"one worker ({engine}, {sent} sent): {rate:,.0f} mails/s = {rate / ceiling:.0%} of the ceiling"
            )
            summary(
                f"sending, one worker, {engine}, {one_count:,} due",
                f"{rate:,.0f} mails/s ({sent:,} sent)",
                ceiling=f"raw smtplib, one connection, same message: {ceiling:,.0f} mails/s",
                ratio=f"{rate / ceiling:.2f}",
                aim="≥ 0.6",
                holds=rate / ceiling >= 0.6,
            )
        if pg:
            base = None
            rates, duplicated, received_all = [], 0, True
            for count in processes:
                sent, rate, duplicates, got, cpu, cores = many_workers(
                    pg, port, tmp, count, many_count, sink_path
                )
                base = base or rate
                rates.append(rate)
                duplicated += duplicates
                received_all = received_all and got == many_count
                print(
                    f"{count} worker process(es) on PostgreSQL, {many_count} due: {rate:,.0f} mails/s "
                    f"(x{rate / base:.2f}, {rate / ceiling:.0%} of the ceiling), received {got}, "
                    f"duplicates {duplicates}; worker CPU {cpu * 1000:.2f} ms/mail, cores busy {cores:.1f}"
                )
            summary(
                f"sending, {' / '.join(map(str, processes))} worker processes, PostgreSQL, {many_count:,} due",
                " / ".join(f"{rate:,.0f}" for rate in rates)
                + f" mails/s, {'all' if received_all else 'NOT all'} received, {duplicated} duplicates",
                ceiling=f"{ceiling:,.0f} mails/s",
                ratio=" / ".join(f"{rate / ceiling:.2f}" for rate in rates),
                aim="0 duplicates",
                holds=duplicated == 0 and received_all,
            )
        else:
            print("PostgreSQL runs skipped")


if __name__ == "__main__":
    main()
