"""Scale benchmark: how each figure moves from 1,000 to 10,000 to 100,000 rows.

    .venv/bin/python bench/scale.py                      # leads 1k/10k/100k, articles 1k/10k (6-8 min)
    .venv/bin/python bench/scale.py --sizes 1000,10000 --articles 1000 --backends sqlite
    .venv/bin/python bench/scale.py --explain            # also print the PostgreSQL plans

For each size N and each database (PostgreSQL first, then SQLite), a fresh schema
(`db.create_all()`, so the indexes the models declare) is filled in bulk (COPY on
PostgreSQL, executemany on SQLite) with N leads, N submissions, N due messages and 2N sent
ones, then timed through the app itself: the admin lead list (first page, two filtered
pages, a text search, a late page by `?page=` OFFSET and the same page by the keyset
cursor the Next links carry), a lead's page, the nurture worker's `claim()` of a batch,
and `upsert_lead` of new and of known addresses. Search: the corpus of bench/search.py
(imported, not copied) at each article size, full reindex time and `/api/search`
p50/p95, on SQLite (the index is Whoosh, the database does not matter).

Each size runs in a process of its own. Figures are the best of 15 repeats in ms (other
work on the machine only adds to them); the growth factor is the figure at the largest
size over the figure at the smallest: about 1 means an index serves it, about the size
ratio (100 for 1k -> 100k) means it reads the table. With --explain, EXPLAIN (ANALYZE,
BUFFERS) of the statements behind the hot paths is taken on PostgreSQL at the largest
size. docs/PERFORMANCE.md ("Scale") has the figures and plans.
"""

import argparse
import json
import math
import os
import random
import re
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import postgres_database, run_phase, summary, temp_instance  # noqa: E402

SEED = 20261201
REPEATS = 15
STAGE_WEIGHTS = {"new": 50, "engaged": 25, "mql": 10, "sql": 6, "customer": 4, "lost": 5}
SOURCES = [f"campaign-{n}" for n in range(40)]
CHANNELS = ("paid_search", "organic_search", "partner", "social", "email", "referral", "direct")


# Bulk data ----------------------------------------------------------------------------------


def _defaults(table, given: set) -> dict:
    """Python-side column defaults for the columns a generator does not give (create_all
    puts no server defaults in the schema, so COPY must send every NOT NULL column)."""
    values = {}
    for column in table.columns:
        if column.name in given or column.primary_key:
            continue
        default = column.default
        if default is None:
            values[column.name] = None
        elif default.is_scalar:
            values[column.name] = default.arg
        else:
            values[column.name] = default.arg(None)
    return values


def bulk(table, rows: list[dict]) -> None:
    """Insert rows into a table: COPY on PostgreSQL, executemany on SQLite."""
    from sqlalchemy import JSON

    from core.extensions import db

    if not rows:
        return
    extra = _defaults(table, set(rows[0]))
    names = list(rows[0]) + list(extra)
    json_columns = {c.name for c in table.columns if isinstance(c.type, JSON)}
    connection = db.session.connection()
    raw = connection.connection.dbapi_connection
    if connection.dialect.name == "postgresql":
        with raw.cursor() as cursor:
            # Generated rows are consistent by construction: skip the per-row foreign-key
            # triggers for the load (the bench connects as a superuser), as pg_restore can.
            cursor.execute("SET LOCAL session_replication_role = replica")
            with cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
                for row in rows:
                    values = {**row, **extra}
                    copy.write_row([json.dumps(values[n]) if n in json_columns else values[n] for n in names])
        return

    def sqlite_value(name, value):
        if name in json_columns:
            return json.dumps(value)
        if isinstance(value, datetime):
            return value.strftime("%Y-%m-%d %H:%M:%S.%f")
        return value

    def sqlite_row(row):
        values = {**row, **extra}
        return [sqlite_value(n, values[n]) for n in names]

    cursor = raw.cursor()
    cursor.executemany(
        f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
        map(sqlite_row, rows),
    )


def seed(size: int, now: datetime) -> dict:
    """size leads with one submission each, size due messages and 2*size sent ones."""
    from sqlalchemy import select

    from core.extensions import db
    from gated.models import Asset, Lead, Submission
    from nurture.models import Message

    rng = random.Random(SEED)
    start = now - timedelta(days=730)
    step = timedelta(days=729) / size
    stages = rng.choices(list(STAGE_WEIGHTS), weights=list(STAGE_WEIGHTS.values()), k=size)
    assets = [
        {
            "slug": f"paper-{n}",
            "title": f"白皮书 {n}",
            "filename": f"paper-{n}.pdf",
            "stored_name": f"paper-{n}.pdf",
            "content_type": "application/pdf",
            "size": 1000,
            "sha256": "0" * 64,
            "created_at": start,
        }
        for n in range(5)
    ]
    bulk(Asset.__table__, assets)
    leads = []
    for n in range(size):
        created = start + step * n
        channel = rng.choice(CHANNELS)
        leads.append(
            {
                "email": f"lead{n}@company{n % 997}.example.com",
                "name": f"读者 {n}" if n % 3 else f"Reader {n}",
                "company": f"Company {n % 997}",
                "stage": stages[n],
                "source": rng.choice(SOURCES),
                "marketing_consent": n % 4 != 0,
                "first_channel": channel,
                "last_channel": rng.choice(CHANNELS),
                "created_at": created,
                "updated_at": created,
                "first_touch_at": created,
                "last_touch_at": created,
            }
        )
    bulk(Lead.__table__, leads)
    del leads
    ids = db.session.scalars(select(Lead.id).order_by(Lead.id)).all()
    asset_ids = db.session.scalars(select(Asset.id)).all()
    bulk(
        Submission.__table__,
        [
            {
                "lead_id": lead_id,
                "form": "whitepaper",
                "asset_id": asset_ids[n % len(asset_ids)],
                "fields": {"email": f"lead{n}@company{n % 997}.example.com"},
                "channel": "direct",
                "created_at": start + step * n,
            }
            for n, lead_id in enumerate(ids)
        ],
    )
    messages = []
    for n in range(3 * size):
        lead_id = ids[n % size]
        sent = n >= size
        messages.append(
            {
                "kind": "nurture" if n % 5 else "transactional",
                "priority": 1 if n % 5 else 0,
                "lead_id": lead_id,
                "to_address": f"lead{n % size}@company{n % size % 997}.example.com",
                "template": "",
                "subject": f"第 {n} 封邮件",
                "status": "sent" if sent else "queued",
                "next_attempt_at": start + step * (n % size) if sent else now - timedelta(seconds=n % 3600),
                "sent_at": start + step * (n % size) if sent else None,
                "created_at": start + step * (n % size),
            }
        )
    bulk(Message.__table__, messages)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    return {"lead_ids": ids}


# One size on one database (its own process) -----------------------------------------------


@contextmanager
def database(backend: str, size: int, folder: Path):
    """The URL of a fresh database for one size (None: PostgreSQL is not there)."""
    if backend == "postgresql":
        with postgres_database("scale") as url:
            yield url
    else:
        yield f"sqlite:///{folder / f'scale-{size}.db'}"


def make_app(database_url: str, folder: Path):
    from bench.harness import in_process_app

    return in_process_app(database_url, folder, TESTING=False, WTF_CSRF_ENABLED=False, DEV_SMTP_SINK=False)


class Recorder:
    """The statements one block of code sends, for EXPLAIN."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.engine, self.event, self.statements, self.on = engine, event, [], False
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, conn, cursor, statement, parameters, context, executemany):
        if (
            self.on
            and not executemany
            and statement.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE"))
        ):
            self.statements.append((statement, parameters))

    def capture(self, fn):
        self.statements, self.on = [], True
        try:
            fn()
        finally:
            self.on = False
        return list(self.statements)


def timed(fn, repeats: int = REPEATS) -> float:
    fn()  # warm: compiled statement cache, template cache
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        timings.append((time.perf_counter() - started) * 1000)
    # The best of the repeats: on a shared machine it is the figure the code itself sets
    # (the median carries the neighbours' load).
    return min(timings)


def next_link(html: str) -> str | None:
    import re

    found = re.search(r'<a class="button" rel="next" href="([^"]+)"', html)
    return found.group(1).replace("&amp;", "&") if found else None


def phase_db(backend: str, size: int, folder: Path, explain: bool) -> dict:
    import logging

    logging.disable(logging.WARNING)
    with database(backend, size, folder) as url:
        if url is None:
            return {}
        return measure_db(url, backend, size, folder, explain)


def measure_db(url: str, backend: str, size: int, folder: Path, explain: bool) -> dict:
    from sqlalchemy import update

    from accounts.models import User
    from accounts.services import login_key
    from core.extensions import db
    from core.timeutil import utcnow
    from gated.leads import upsert_lead
    from nurture import delivery
    from nurture.models import Message

    app = make_app(url, folder)
    out: dict = {"backend": backend, "size": size, "figures": {}, "plans": {}}
    with app.app_context():
        db.drop_all()
        db.create_all()
        now = utcnow()
        started = time.perf_counter()
        seeded = seed(size, now)
        out["seed_s"] = time.perf_counter() - started
        admin = User(email="admin@example.com", name="Admin", role="admin", password_hash="x")
        db.session.add(admin)
        db.session.commit()
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"], session["_fresh"] = login_key(admin, now=utcnow()), True
        per_page = app.config["LEADS_PER_PAGE"]
        late = max(1, size // per_page - 1)
        middle = seeded["lead_ids"][size // 2]

        # The late page reached by the Next links: walk from page 1 with the cursor only
        # where cheap (the link on page late-1 is what a marketer would click).
        html = client.get(f"/admin/leads/?page={late - 1}").get_data(as_text=True) if late > 1 else ""
        keyset_url = next_link(html) if late > 1 else None

        def get(path):
            def run():
                response = client.get(path)
                if response.status_code != 200:
                    raise RuntimeError(f"{path} answered {response.status_code}")
                db.session.remove()

            return run

        pages = {
            "list: first page": "/admin/leads/",
            "list: stage=mql": "/admin/leads/?stage=mql",
            "list: source+channel": f"/admin/leads/?source={SOURCES[7]}&channel=paid_search",
            "list: text search q=": "/admin/leads/?q=lead4242",
            "list: late page ?page= (OFFSET)": f"/admin/leads/?page={late}",
            "lead page": f"/admin/leads/{middle}",
        }
        if keyset_url:
            pages["list: late page by Next link (keyset)"] = keyset_url
        recorder = Recorder(db.engine) if explain else None
        for name, path in pages.items():
            out["figures"][name] = timed(get(path))
            if recorder:
                out["plans"][name] = recorder.capture(get(path))

        batch = app.config["NURTURE_BATCH_SIZE"]

        def claim_once():
            jobs = delivery.claim(now, limit=batch, worker="bench", lease_seconds=300)
            assert len(jobs) == min(batch, size), len(jobs)
            db.session.execute(
                update(Message)
                .where(Message.id.in_([job.id for job in jobs]))
                .values(status="queued", claimed_by="", lease_until=None, attempts=0)
            )
            db.session.commit()

        out["figures"][f"worker claim() of {batch}"] = timed(claim_once)
        if recorder:
            out["plans"][f"worker claim() of {batch}"] = recorder.capture(claim_once)

        counter = iter(range(10**9))

        def upsert_new():
            upsert_lead(f"new{next(counter)}@bench.example.com", now=now, source="bench")
            db.session.commit()

        def upsert_known():
            upsert_lead(f"lead{size // 3}@company{size // 3 % 997}.example.com", now=now, source="bench")
            db.session.commit()

        out["figures"]["upsert_lead (new)"] = timed(upsert_new, 20)
        out["figures"]["upsert_lead (known)"] = timed(upsert_known, 20)
        if recorder:
            out["plans"]["upsert_lead (known)"] = recorder.capture(upsert_known)
            out["plans"] = {name: explain_all(statements) for name, statements in out["plans"].items()}
        db.session.remove()
        db.engine.dispose()
    return out


def explain_all(statements) -> list[dict]:
    """EXPLAIN (ANALYZE, BUFFERS) of each distinct statement, in a transaction rolled back
    (claim's UPDATE and the upsert's INSERT do run under ANALYZE)."""
    from core.extensions import db

    plans, seen = [], set()
    for statement, parameters in statements:
        if statement in seen:
            continue
        seen.add(statement)
        connection = db.engine.connect()
        try:
            rows = connection.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", parameters).all()
            plans.append({"sql": " ".join(statement.split()), "plan": "\n".join(row[0] for row in rows)})
        finally:
            connection.rollback()
            connection.close()
    return plans


def phase_search(size: int, folder: Path, queries: int) -> dict:
    from sqlalchemy import insert

    from bench import search
    from content.models import Article
    from content.search.upkeep import reindex
    from core.extensions import db
    from core.timeutil import utcnow

    app = search.make_app(folder)
    with app.app_context():
        db.create_all()
        rows = search.generate_corpus(size)
        for start in range(0, len(rows), 1000):
            db.session.execute(insert(Article), rows[start : start + 1000])
        db.session.commit()
        started = time.perf_counter()
        indexed = reindex(now=utcnow())
        seconds = time.perf_counter() - started
    return {"articles": size, "indexed": indexed, "reindex_s": seconds}


# Report -------------------------------------------------------------------------------------


def short_sql(sql: str) -> str:
    """A statement with its long column and id lists folded, for reading."""
    sql = re.sub(r"SELECT (?:[\w.]+(?: AS \w+)?, ){6,}[\w.]+(?: AS \w+)? FROM", "SELECT … FROM", sql)
    sql = re.sub(
        r"INSERT INTO (\w+) \(.*?\) VALUES \(.*?\) ON CONFLICT",
        r"INSERT INTO \1 (…) VALUES (…) ON CONFLICT",
        sql,
    )
    sql = re.sub(r"RETURNING (?:[\w.]+, ){6,}[\w.]+$", "RETURNING …", sql)
    sql = re.sub(r"SET (?:\w+=.*?, ){2,}\w+=.*? WHERE", "SET … WHERE", sql)
    return re.sub(r"\((?:%\(\w+\)s::INTEGER, ){5,}%\(\w+\)s::INTEGER\)", "(…ids…)", sql)


def short_plan(plan: str) -> str:
    return "\n".join(line if len(line) < 240 else line[:236] + " …" for line in plan.splitlines())


def growth_table(title: str, by_size: dict[int, dict], unit: str) -> None:
    sizes = sorted(by_size)
    names = list(by_size[sizes[0]])
    print(f"\n### {title}\n")
    last = f" | last step ({sizes[-1] // sizes[-2]}x rows)" if len(sizes) > 2 else ""
    print(
        "| | "
        + " | ".join(f"{s:,} {unit}" for s in sizes)
        + f" | growth ({sizes[-1] // sizes[0]}x rows){last} |"
    )
    print("|---|" + "---:|" * (len(sizes) + 1 + bool(last)))
    for name in names:
        values = [by_size[s].get(name) for s in sizes]
        if None in values:
            continue
        growths = [values[-1] / values[0]] + ([values[-1] / values[-2]] if last else [])
        print(
            f"| {name} | "
            + " | ".join(f"{v:.1f}" for v in values)
            + "".join(f" | {g:.1f}x" for g in growths)
            + " |"
        )


def per_tenfold(values: dict[int, float]) -> float:
    """How much a figure grows per 10x rows, from its smallest to its largest size."""
    small, large = min(values), max(values)
    return (values[large] / values[small]) ** (1 / math.log10(large / small))


def summarise(backend: str, by_size: dict[int, dict]) -> None:
    """The summary rows: the text search, the worker's claim, and the rest of the lead pages
    and upserts (the old OFFSET link aside), each as its growth per 10x rows; flat holds
    up to 1.5x."""
    if len(by_size) < 2:
        return
    sizes = sorted(by_size)
    names = [name for name in by_size[sizes[0]] if all(name in by_size[size] for size in sizes)]
    growth = {name: per_tenfold({size: by_size[size][name] for size in sizes}) for name in names}
    span = f"{sizes[0]:,} → {sizes[-1]:,} leads, {backend}"
    for name in ("list: text search q=", next(n for n in names if n.startswith("worker claim()"))):
        summary(
            f"scale: {name.removeprefix('list: ')}, {span}",
            f"{by_size[sizes[0]][name]:.1f} → {by_size[sizes[-1]][name]:.1f} ms",
            ratio=f"{growth[name]:.1f}× per 10×",
            aim="flat",
            holds=growth[name] <= 1.5,
        )
    rest = [n for n in names if n != "list: text search q=" and not n.startswith("worker claim()")]
    kept = [growth[n] for n in rest if "OFFSET" not in n]
    offset = [f"{growth[n]:.1f}×" for n in rest if "OFFSET" in n]
    summary(
        f"scale: every other lead list page, lead page, upsert, {span}",
        f"within {min(kept):.1f}–{max(kept):.1f}× per 10× step"
        + (f" (an old `?page=` link to a late page: {offset[0]})" if offset else ""),
        aim="flat",
        holds=max(kept) <= 1.5,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="lead counts (comma-separated)")
    parser.add_argument("--articles", default="1000,10000", help="article counts; 30000 adds ~3 min")
    parser.add_argument("--backends", default="postgresql,sqlite")
    parser.add_argument("--queries", type=int, default=150, help="search queries per size")
    parser.add_argument("--explain", action="store_true", help="print PostgreSQL plans at the largest size")
    parser.add_argument("--phase", choices=["db", "search", "api"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--backend", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase:
        folder = Path(args.folder)
        if args.phase == "db":
            out = phase_db(args.backend, args.size, folder, args.explain)
        else:
            out = phase_search(args.size, folder, args.queries)
        print(json.dumps(out, default=str))
        return

    from bench import search

    sizes = [int(s) for s in args.sizes.split(",") if s]
    article_sizes = [int(s) for s in args.articles.split(",") if s]
    began = time.perf_counter()
    print(f"# Scale ({os.cpu_count()} cores; leads {sizes}, articles {article_sizes})")
    plans = {}
    for backend in [b for b in args.backends.split(",") if b]:
        by_size, seeds = {}, {}
        for size in sizes:
            with temp_instance() as tmp:
                extra = (
                    ["--explain"] if args.explain and backend == "postgresql" and size == sizes[-1] else []
                )
                out = run_phase(
                    Path(__file__),
                    *(
                        "--phase",
                        "db",
                        "--backend",
                        backend,
                        "--size",
                        str(size),
                        "--folder",
                        str(tmp),
                        *extra,
                    ),
                )
            if not out:
                print(f"- {backend}: skipped (PostgreSQL not reachable; set LODESTAR_BENCH_POSTGRES)")
                break
            by_size[size], seeds[size] = out["figures"], out["seed_s"]
            plans.update(out.get("plans") or {})
            print(f"- {backend} {size:,} leads: bulk load {out['seed_s']:.1f} s", flush=True)
        if by_size:
            growth_table(f"{backend}: ms per request or call (best of {REPEATS})", by_size, "leads")
            summarise(backend, by_size)
    search_by_size = {}
    for size in article_sizes:
        with temp_instance() as tmp:
            build = run_phase(Path(__file__), "--phase", "search", "--size", str(size), "--folder", str(tmp))
            api = search.run_phase("api", tmp, size, args.queries)
        search_by_size[size] = {
            "full reindex (s)": build["reindex_s"],
            "`/api/search` p50 (ms)": api["p50_ms"],
            "`/api/search` p95 (ms)": api["p95_ms"],
        }
        print(f"- search {size:,} articles: {build['indexed']:,} public indexed", flush=True)
    if search_by_size:
        growth_table(f"search (Whoosh; {args.queries} mixed queries)", search_by_size, "articles")
    for name, statements in plans.items():
        print(f"\n#### {name} (PostgreSQL, {sizes[-1]:,} leads)\n")
        for item in statements:
            print("```sql\n" + short_sql(item["sql"]) + "\n```\n```\n" + short_plan(item["plan"]) + "\n```")
    print(f"\nwhole run: {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
