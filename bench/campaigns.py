"""A 100,000-recipient campaign on PostgreSQL, as the issue's Speed section asks, in one run:

1. starting it: the time to fix the recipients and write their queued mails
   (campaigns.sending.start: two INSERT … SELECT and one UPDATE), against a bare
   `INSERT … SELECT` of one row per lead into a scratch table on the same database; the
   rows are checked: one recipient and one mail per consenting lead, every variant used;
2. delivering it: a fresh campaign to every consenting lead, started, then one in fifty
   recipients unsubscribes (after the start, before the worker comes); then 1 and 4
   `flask nurture tick` processes deliver it to one local aiosmtpd sink (in a process of
   its own), against raw smtplib sending the same finished mail over 1 and 4 connections
   to the same sink, as mails per second and ratios; counted at the sink: 0 duplicates,
   0 lost, every unsubscribed recipient skipped.

    .venv/bin/python bench/campaigns.py [--leads 100000] [--runs 3] [--workers 1,4]
                                        [--raw-mails 20000] [--no-delivery]

Each start run is a fresh campaign over the same leads (a new slug); the figure is the
best run. The raw smtplib rate is measured before and after the workers, and every ratio
is to their mean, so a shared machine still gives comparable ratios.
"""

import argparse
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import in_process_app, print_table, summary  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
BENCH_DB = "lodestar_bench_campaign_send"
PG_BENCH = f"postgresql://postgres@127.0.0.1:5432/{BENCH_DB}"
NOW = datetime(2026, 12, 1, 1, 0)
CHUNK = 20_000


def fresh_database() -> None:
    """An empty bench database: its schema emptied when it exists (DROP DATABASE waits
    for a checkpoint, which a busy shared server can take minutes to finish), else made."""
    import psycopg

    try:
        with psycopg.connect(PG_BENCH.replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("CREATE SCHEMA public")
            return
    except psycopg.OperationalError:
        pass
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {BENCH_DB}")


def fill(n: int) -> None:
    from sqlalchemy import insert

    from campaigns.models import Topic
    from core.extensions import db
    from gated.models import Lead

    db.create_all()
    db.session.add(Topic(slug="newsletter", name="新闻简报"))
    for start in range(0, n, CHUNK):
        db.session.execute(
            insert(Lead.__table__),
            [
                {
                    "email": f"lead{i}@example.com",
                    "company": "华东制造" if i % 2 else "软件公司",
                    "marketing_consent": i % 10 != 0,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for i in range(start, min(n, start + CHUNK))
            ],
        )
    db.session.commit()
    db.session.execute(db.text("ANALYZE"))
    db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", default="1,4", help="worker process counts (comma-separated)")
    parser.add_argument("--raw-mails", type=int, default=20_000, help="mails per raw smtplib measurement")
    parser.add_argument("--no-delivery", action="store_true", help="measure the start only")
    args = parser.parse_args()
    fresh_database()
    with tempfile.TemporaryDirectory() as folder:
        app = in_process_app(PG_BENCH, Path(folder))
        with app.app_context():
            from sqlalchemy import distinct, func, select, text

            from campaigns import sending, services
            from campaigns.models import Campaign
            from core.extensions import db
            from gated.models import Lead
            from nurture.models import Message

            fill(args.leads)
            expected = db.session.scalar(select(func.count()).select_from(Lead).where(Lead.marketing_consent))
            bare, start_times = [], []
            for run in range(args.runs):
                db.session.execute(text("DROP TABLE IF EXISTS scratch"))
                db.session.execute(text("CREATE TABLE scratch (lead_id integer, position bigint)"))
                db.session.commit()
                started = time.perf_counter()
                db.session.execute(
                    text(
                        "INSERT INTO scratch SELECT id, row_number() OVER (ORDER BY random()) "
                        "FROM leads WHERE marketing_consent"
                    )
                )
                db.session.commit()
                bare.append(time.perf_counter() - started)
                campaign, _ = services.save_campaign(
                    {
                        "slug": f"bench-{run}",
                        "topic": "newsletter",
                        "segment": {"all": [{"field": "email", "op": "contains", "value": "@example.com"}]},
                        "variants": [{"subject": "一"}, {"subject": "二"}],
                        "body": "正文",
                    },
                    now=NOW,
                )
                started = time.perf_counter()
                fixed = sending.start(campaign.id, now=NOW)
                start_times.append(time.perf_counter() - started)
                prefix = services.campaign_template(campaign.id)
                mails, people, variants = db.session.execute(
                    select(
                        func.count(),
                        func.count(distinct(Message.lead_id)),
                        func.count(distinct(Message.template)),
                    ).where(Message.template.startswith(prefix))
                ).one()
                assert fixed == mails == people == expected and variants == 2, (
                    fixed,
                    mails,
                    people,
                    expected,
                )
            best_bare, best_start = min(bare), min(start_times)
            print_table(
                f"Starting a campaign: {expected} recipients of {args.leads} leads, PostgreSQL (best of {args.runs})",
                [
                    {"what": "bare INSERT … SELECT of the recipients", "s": best_bare, "ratio": 1.0},
                    {
                        "what": "sending.start: recipients, variants and queued mails",
                        "s": best_start,
                        "ratio": best_start / best_bare,
                    },
                ],
                [("what", "step"), ("s", "seconds"), ("ratio", "× bare")],
            )
            print(
                f"\n{expected} recipients, {expected} mails, 0 duplicates, 0 lost, 2 variants used, in every run"
            )
            summary(
                f"campaign start, {expected:,} recipients of {args.leads:,} leads, PostgreSQL",
                f"{best_start:.2f} s to fix and queue",
                ceiling=f"bare INSERT … SELECT of the recipients: {best_bare:.2f} s",
                ratio=f"{best_start / best_bare:.1f}",
                aim="0 duplicates, 0 lost",
                holds=True,
            )
            # The start runs' mail is not for delivery: their campaigns are cancelled.
            for campaign_id in db.session.scalars(select(Campaign.id)):
                services.cancel(campaign_id, now=NOW)
            db.engine.dispose()
        if not args.no_delivery:
            from bench.campaign_delivery import measure_delivery

            counts = [int(n) for n in args.workers.split(",") if n]
            measure_delivery(app, PG_BENCH, Path(folder), expected, counts, args.raw_mails)


if __name__ == "__main__":
    main()
