"""Insights: the dashboards with 1,000,000 events and 100,000 leads, and what recording a
page view adds to a request, in process (no server: these are per-request costs).

    .venv/bin/python bench/insights.py [--events 1000000] [--leads 100000] [--days 90] [--no-postgres]

The data set is bulk-inserted: 90 days (`--days`) of visits over 200 articles (a few pages get most
views), forms, submissions and stage changes, a fifth of the events already a lead's.
Then `flask insights rollup` runs once, as cron would each night, and the dashboard page
(every table and chart, the default 56 days, and 7 days) is timed through the test client
as a marketer, against a bare route of the same app. The page-view cost is the tracking
hook's time in a request (bot check, cookies, the buffer), against one bare INSERT + COMMIT
of an event; and the background flusher's cost per row.

Aim (issue 9): dashboards under 300 ms; recording an event adds under 1 ms to a request.
"""

import argparse
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, text  # noqa: E402

from bench.harness import in_process_app, postgres_database, print_table, summary, temp_instance  # noqa: E402

CHUNK = 20_000


def median_ms(run, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def fill(events: int, leads: int, days: int, now) -> None:
    """Articles, leads and events, bulk-inserted."""
    from content.models import Article
    from core.extensions import db
    from gated.models import CHANNELS, Lead
    from insights.models import Event

    rng = random.Random(9)
    db.session.execute(
        insert(Article),
        [
            {
                "kind": "help" if n % 4 else "whitepaper",
                "slug": f"article-{n}",
                "title": f"Article {n}",
                "status": "published",
                "published_at": now - timedelta(days=200),
                "body_md": "x",
                "body_html": "<p>x</p>",
            }
            for n in range(200)
        ],
    )
    db.session.commit()
    paths = [f"/{'library' if n % 4 == 0 else 'help'}/article-{n}" for n in range(200)] + ["/", "/help/"]
    weights = [1 / (rank + 1) for rank in range(len(paths))]
    channels = list(CHANNELS)
    for start in range(0, leads, CHUNK):
        db.session.execute(
            insert(Lead),
            [
                {
                    "email": f"lead{n}@example.com",
                    "first_channel": rng.choice(channels),
                    "created_at": now - timedelta(days=rng.random() * days),
                    "stage": "new",
                }
                for n in range(start, min(start + CHUNK, leads))
            ],
        )
        db.session.commit()
    kinds = ["page_view"] * 90 + ["form_view"] * 6 + ["form_submit"] * 2 + ["stage_change"] * 1 + ["search"]
    columns = (
        "kind",
        "occurred_at",
        "visitor_id",
        "lead_id",
        "path",
        "value",
        "channel",
        "visit_seq",
        "landing",
    )
    mark = "?" if db.engine.dialect.name == "sqlite" else "%s"
    sql = f"INSERT INTO {Event.__tablename__} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"
    connection = db.engine.raw_connection()  # plain executemany: the ORM would double the fill time
    for start in range(0, events, CHUNK):
        rows = []
        for n in range(start, min(start + CHUNK, events)):
            kind = rng.choice(kinds)
            value = ""
            if kind == "stage_change":
                value = rng.choice(("new>mql", "mql>sql", "sql>customer"))
            elif kind.startswith("form"):
                value = "whitepaper"
            rows.append(
                (
                    kind,
                    now - timedelta(seconds=rng.random() * days * 86400),
                    f"{n // 4:032x}",
                    rng.randint(1, leads) if rng.random() < 0.2 else None,
                    rng.choices(paths, weights)[0],
                    value,
                    rng.choice(channels),
                    rng.choice((1, 1, 2, 3)) if kind in ("page_view", "search") else 0,
                    rng.choices(paths, weights)[0],
                )
            )
        cursor = connection.cursor()
        cursor.executemany(sql, rows)
        connection.commit()
    connection.close()


def measure(url: str, label: str, args) -> list[dict]:
    from accounts.services import login_key
    from core import beacon
    from core.extensions import db
    from core.timeutil import utcnow
    from insights import dashboards, rollups, tracking
    from insights.models import Event

    with temp_instance() as folder:
        app = in_process_app(url, folder, INSIGHTS_FLUSH_SECONDS=0, INSIGHTS_BATCH_SIZE=10**9)
        app.add_url_rule("/bench-bare", "bench_bare", lambda: "ok")
        rows = []
        with app.app_context():
            db.drop_all()
            db.create_all()
            now = utcnow()
            start = time.perf_counter()
            fill(args.events, args.leads, args.days, now)
            print(
                f"{label}: {args.events:,} events and {args.leads:,} leads in {time.perf_counter() - start:.0f} s"
            )
            from tests.factories import UserFactory

            marketer = UserFactory(role="marketer", email="m@example.com")
            start = time.perf_counter()
            days = rollups.rollup(now=now)
            print(f"{label}: rollup of {days} days in {time.perf_counter() - start:.1f} s", flush=True)
            # The planner's statistics, as a database in use has them (autovacuum, or
            # SQLite's ANALYZE that `PRAGMA optimize` runs).
            db.session.execute(text("ANALYZE"))
            db.session.commit()
            filters = dashboards.Filters.from_args({}, today=now.date())
            for name, build in dashboards.TABLES.items():
                print(f"{label}: table {name}: {median_ms(lambda b=build: b(filters), 3):.0f} ms", flush=True)
            client = app.test_client()
            with client.session_transaction() as session:
                session["_user_id"] = login_key(marketer, now=utcnow())
                session["_fresh"] = True
            bare = median_ms(lambda: client.get("/bench-bare"), 200)
            for period, query in (("56 days", ""), ("7 days", f"?since={(now - timedelta(days=6)).date()}")):
                assert client.get("/admin/insights/" + query).status_code == 200
                page = median_ms(lambda q=query: client.get("/admin/insights/" + q), 7)
                rows.append(
                    {
                        "database": label,
                        "what": f"dashboard, {period}",
                        "ms": page,
                        "baseline ms": bare,
                        "ratio": page / bare,
                    }
                )

            headers = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0"}
            with app.test_request_context("/beacon", method="POST", headers=headers):
                response = app.response_class(status=204)
                page = beacon.page_of("/help/article-1", "")
                tracking.record_page(app, page=page, response=response)
                start = time.perf_counter()
                for _ in range(10_000):
                    tracking.record_page(app, page=page, response=response)
                per_view = (time.perf_counter() - start) / 10_000 * 1000
                tracking.buffer(app).clear()

            def bare_insert():
                db.session.execute(
                    insert(Event), {"kind": "page_view", "path": "/help/article-1", "visit_seq": 1}
                )
                db.session.commit()

            insert_ms = median_ms(bare_insert, 500)
            rows.append(
                {
                    "database": label,
                    "what": "page view recorded (in the beacon)",
                    "ms": per_view,
                    "baseline ms": insert_ms,
                    "ratio": per_view / insert_ms,
                }
            )
            start = time.perf_counter()
            written = tracking.buffer(app)
            for _ in range(5000):
                written.rows.append(
                    {
                        "kind": "page_view",
                        "occurred_at": now,
                        "visitor_id": None,
                        "lead_id": None,
                        "path": "/help/article-1",
                        "value": "",
                        "channel": "direct",
                        "visit_seq": 1,
                        "landing": "/help/article-1",
                    }
                )
            written.flush()
            per_row = (time.perf_counter() - start) / 5000 * 1000
            rows.append(
                {
                    "database": label,
                    "what": "page view written by the flusher (per row, batches of 5,000)",
                    "ms": per_row,
                    "baseline ms": insert_ms,
                    "ratio": per_row / insert_ms,
                }
            )
            db.session.remove()
            db.engine.dispose()
        return rows


def summarise(rows: list[dict], args) -> None:
    """The summary rows: the default dashboard and a recorded page view, per database."""
    by = {(row["database"], row["what"]): row for row in rows}
    for database in dict.fromkeys(row["database"] for row in rows):
        page, week = by[database, "dashboard, 56 days"], by[database, "dashboard, 7 days"]
        view = by[database, "page view recorded (in the beacon)"]
        for title, figure, row, ceiling, ratio, limit in (
            (
                f"insights dashboard, {args.events:,} events, {args.leads:,} leads, 56 days",
                f"{page['ms']:.0f} ms (7 days: {week['ms']:.0f} ms)",
                page,
                "bare route of the same app",
                f"{page['ratio']:,.0f}",
                300,
            ),
            (
                "insights, a page view recorded",
                f"{view['ms']:.2f} ms in the request",
                view,
                "bare INSERT + COMMIT of an event",
                f"{view['ratio']:.2f}",
                1,
            ),
        ):
            summary(
                f"{title}, {database}",
                figure,
                ceiling=f"{ceiling}, {row['baseline ms']:.2f} ms",
                ratio=ratio,
                aim=f"< {limit} ms",
                holds=row["ms"] < limit,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=90, help="days of history (each one rolled up)")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    rows = []
    if not args.no_sqlite:
        with temp_instance() as folder:
            rows += measure(f"sqlite:///{folder}/bench.db", "SQLite", args)
    if not args.no_postgres:
        with postgres_database("insights") as url:
            if url:
                rows += measure(url, "PostgreSQL", args)
    summarise(rows, args)
    print_table(
        "Insights",
        rows,
        [
            ("database", "database"),
            ("what", "what"),
            ("ms", "ms"),
            ("baseline ms", "baseline ms"),
            ("ratio", "ratio"),
        ],
    )


if __name__ == "__main__":
    main()
