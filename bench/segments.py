"""Segment counts at 100,000 leads on PostgreSQL: how long the builder's live count takes
for a field-only segment and for the issue's example (decision makers in manufacturing
who downloaded the renewal paper in the last 30 days and did not open a mail in them),
against a bare `SELECT count(*) FROM leads` on the same database.

    .venv/bin/python bench/segments.py [--leads 100000] [--repeats 7]

A fresh database (`db.create_all()`, so the indexes the models declare) is filled in
bulk: N leads, N/2 downloads, 2N page views, N sent mails (a third opened). Each count
is the best of `--repeats` (other work on the machine only adds to it), after one
warm-up. Aim: under a second for the example segment at 100,000 leads.
"""

import argparse
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import in_process_app, print_table  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_BENCH = "postgresql://postgres@127.0.0.1:5432/lodestar_bench_segments"
NOW = datetime(2026, 12, 1, 9, 0)
SEED = 20261205
CHUNK = 10_000

FIELDS_ONLY = {
    "all": [
        {"field": "role", "op": "eq", "value": "decision_maker"},
        {"field": "company", "op": "contains", "value": "制造"},
    ]
}
EXAMPLE = {
    "all": [
        {
            "any": [
                {"field": "role", "op": "eq", "value": "decision_maker"},
                {"field": "job_title", "op": "in", "value": ["CEO", "CTO"]},
            ]
        },
        {
            "any": [
                {"field": "company", "op": "contains", "value": "制造"},
                {"field": "company", "op": "contains", "value": "manufactur"},
            ]
        },
        {"event": "download", "asset": "renewal-paper", "within": "30d"},
        {"not": [{"event": "mail_open", "within": "30d"}]},
        {"event": "page_view", "path": "/help/", "within": "90d"},
    ]
}


def fresh_database() -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS lodestar_bench_segments WITH (FORCE)")
        conn.execute("CREATE DATABASE lodestar_bench_segments")


def fill(n: int) -> None:
    from sqlalchemy import insert

    from core.extensions import db
    from gated.models import Asset, Download, Lead
    from insights.models import Event
    from nurture.models import Message

    rng = random.Random(SEED)
    db.create_all()
    db.session.execute(
        insert(Asset),
        [
            {
                "slug": slug,
                "title": slug,
                "filename": f"{slug}.pdf",
                "stored_name": slug,
                "content_type": "application/pdf",
                "size": 1,
                "sha256": "0" * 64,
            }
            for slug in ("renewal-paper", "pricing-guide")
        ],
    )
    companies = ["华东制造", "Acme Manufacturing", "软件公司", "物流集团", "银行"]
    roles = ["decision_maker", "user", "requester", "other", ""]
    for start in range(0, n, CHUNK):
        db.session.execute(
            insert(Lead),
            [
                {
                    "email": f"lead{i}@example.com",
                    "company": rng.choice(companies),
                    "role": rng.choice(roles),
                    "job_title": rng.choice(["CEO", "CTO", "工程师", ""]),
                    "created_at": NOW - timedelta(days=rng.randint(0, 400)),
                    "updated_at": NOW,
                }
                for i in range(start, min(n, start + CHUNK))
            ],
        )
    for start in range(1, n + 1, CHUNK):
        ids = range(start, min(n + 1, start + CHUNK))
        db.session.execute(
            insert(Download),
            [
                {
                    "lead_id": i,
                    "asset_id": rng.choice((1, 2)),
                    "created_at": NOW - timedelta(days=rng.randint(0, 90)),
                }
                for i in ids
                if i % 2
            ],
        )
        db.session.execute(
            insert(Event),
            [
                {
                    "kind": "page_view",
                    "lead_id": i,
                    "path": rng.choice(("/help/a", "/library/x", "/")),
                    "occurred_at": NOW - timedelta(days=rng.randint(0, 120)),
                }
                for i in ids
                for _ in range(2)
            ],
        )
        db.session.execute(
            insert(Message),
            [
                {
                    "kind": "nurture",
                    "lead_id": i,
                    "to_address": f"lead{i}@example.com",
                    "status": "sent",
                    "sent_at": NOW - timedelta(days=20),
                    "opened_at": NOW - timedelta(days=19) if i % 3 == 0 else None,
                }
                for i in ids
            ],
        )
    db.session.commit()
    db.session.execute(db.text("ANALYZE"))
    db.session.commit()


def best(function, repeats: int) -> tuple[float, object]:
    result = function()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return min(times) * 1000, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    fresh_database()
    with tempfile.TemporaryDirectory() as folder:
        app = in_process_app(PG_BENCH, Path(folder))
        with app.app_context():
            from sqlalchemy import func, select

            from campaigns import audience
            from campaigns.rules import clean_rules
            from core.extensions import db
            from gated.models import Lead

            started = time.perf_counter()
            fill(args.leads)
            print(f"filled {args.leads} leads in {time.perf_counter() - started:.1f}s")
            bare_ms, total = best(
                lambda: db.session.scalar(select(func.count()).select_from(Lead)), args.repeats
            )
            rows = [{"what": "count(*) of every lead", "ms": bare_ms, "leads": total, "ratio": 1.0}]
            for name, rules in (("field conditions only", FIELDS_ONLY), ("the issue's example", EXAMPLE)):
                clean = clean_rules(rules)
                ms, found = best(lambda clean=clean: audience.count(clean, now=NOW), args.repeats)
                rows.append({"what": name, "ms": ms, "leads": found, "ratio": ms / bare_ms})
            sample_ms, _ = best(lambda: audience.sample(clean_rules(EXAMPLE), now=NOW), args.repeats)
            rows.append(
                {
                    "what": "ten sample members of the example",
                    "ms": sample_ms,
                    "leads": 10,
                    "ratio": sample_ms / bare_ms,
                }
            )
            print_table(
                f"Segment counts, {args.leads} leads, PostgreSQL (best of {args.repeats})",
                rows,
                [("what", "query"), ("ms", "ms"), ("leads", "leads"), ("ratio", "× count(*)")],
            )
            db.engine.dispose()


if __name__ == "__main__":
    main()
