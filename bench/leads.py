"""Lead capture: white-paper form POSTs per second through gunicorn (CSRF by Origin,
validation, upsert, submission, attribution, queued mail) on SQLite and on PostgreSQL,
against a bare insert of the same row through the same stack; afterwards the rows are
counted to show none was lost or duplicated.

    .venv/bin/python bench/leads.py [--seconds 4] [--runs 3] [--connections 16] [--no-postgres]

The form and the bare insert are loaded in turn (a warm-up, then `--runs` alternating
runs, each with its own addresses) and the medians compared; at the end the leads of the
form runs are counted against the POSTs wrk saw answered.

Aim: at least 0.5 of the bare insert, zero lost.
"""

import argparse
import http.cookiejar
import json
import subprocess
import sys
import time
import urllib.request
from itertools import count
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (  # noqa: E402
    BIN,
    ROOT,
    SERVER_CPUS,
    WRK_CPU,
    alternate,
    demo_site,
    gunicorn,
    postgres_database,
    print_table,
    require,
    summary,
    temp_instance,
    wrk,
)

VISITOR_COOKIE = "lodestar_vid"  # insights.tracking.VISITOR_COOKIE

LUA = r"""
local counter = 0
local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  counter = 0
end
request = function()
  counter = counter + 1
  local email = "bench-" .. RUN .. "-" .. tid .. "-" .. counter .. "%40example.com"
  -- each POST a new person, so a new browser too: its own 32-character visitor id
  local vid = string.format("v%010d%04d%s", counter, tid, RUN)
  vid = vid .. string.rep("0", 32 - #vid)
  local body = "started=" .. STARTED .. "&email=" .. email ..
    "&name=Bench&company=Acme&job_title=CTO&role=decision_maker&website=" ..
    "&utm_source=baidu&utm_medium=cpc&utm_campaign=bench"
  return wrk.format("POST", PATH, {["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = COOKIE .. "; " .. VISITOR_COOKIE .. "=" .. vid, ["User-Agent"] = wrk.headers["User-Agent"]}, body)
end
"""


def form_tokens(base: str, path: str) -> tuple[str, str]:
    """The start time and the cookies of one visitor who opened the form and focused it
    (without the visitor id, which the Lua script gives each POST). The form carries no
    CSRF token: it is checked by Origin, and wrk sends none."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(base + path, timeout=10).read()
    started = json.loads(opener.open(base + "/forms/start", timeout=10).read())["started"]
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar if c.name != VISITOR_COOKIE)
    return started, cookie


def lua_script(folder: Path, run: str, path: str, started: str, cookie: str) -> str:
    script = folder / f"post-{run}.lua"
    header = "\n".join(
        f'{name} = "{value}"'
        for name, value in (
            ("RUN", run),
            ("PATH", path),
            ("STARTED", started),
            ("COOKIE", cookie),
            ("VISITOR_COOKIE", VISITOR_COOKIE),
        )
    )
    script.write_text(header + "\n" + LUA)
    return str(script)


def query(env: dict, sql: str) -> list[int]:
    """The first row of `sql`, read by a separate process with the instance's settings."""
    script = (
        "from sqlalchemy import text\nfrom app import create_app\nfrom core.extensions import db\n"
        "with create_app().app_context():\n"
        f'    print(*db.session.execute(text("{sql}")).one())'
    )
    result = subprocess.run(
        [str(BIN / "python"), "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    if result.returncode:
        raise RuntimeError(result.stderr)
    return [int(value) for value in result.stdout.strip().splitlines()[-1].split()]


def run_backend(label: str, folder: Path, database_url: str | None, args) -> dict:
    env = demo_site(folder, database_url)
    row = {"database": label}
    with gunicorn("bench.lead_app:app", env, probe="/healthz") as base:
        path = "/library/saas-renewal"
        started, cookie = form_tokens(base, path)
        time.sleep(3.2)  # the form's minimum fill time
        runs = count(1)

        def post(target: str, kind: str, seconds: float | None) -> dict:
            # Each run its own addresses (bench-<kind><n>-…): every POST is a new person.
            script = lua_script(folder, f"{kind}{next(runs)}", target, started, cookie)
            return wrk(
                base + target, connections=args.connections, seconds=seconds or args.seconds, script=script
            )

        answered = {"form": 0, "bare": 0}

        def measure(kind: str, target: str):
            def run(seconds):
                figures = post(target, kind, seconds)
                answered[kind] += figures["requests"]
                return figures

            return run

        figures = alternate(
            {"form": measure("form", path), "bare": measure("bare", "/bench/bare-lead")},
            runs=args.runs,
            warmup=min(1.0, args.seconds),
        )
        time.sleep(1)
        # One statement, so one snapshot: POSTs still in flight when wrk stopped may land
        # between two queries and would show as submissions without a lead.
        leads, people, submissions = query(
            env,
            "SELECT count(*), count(DISTINCT lower(email)), (SELECT count(*) FROM submissions "
            "JOIN leads ON leads.id = submissions.lead_id WHERE leads.email LIKE 'bench-form%') "
            "FROM leads WHERE email LIKE 'bench-form%'",
        )
        (bare_rows,) = query(env, "SELECT count(*) FROM leads WHERE email LIKE 'bench-bare%'")
    form, bare = figures["form"], figures["bare"]
    row.update(
        {
            "form_rps": form["rps"],
            "form_runs": " / ".join(f"{rps:.0f}" for rps in form["rps_runs"]),
            "form_p99": form["p99"],
            "bare_rps": bare["rps"],
            "bare_runs": " / ".join(f"{rps:.0f}" for rps in bare["rps_runs"]),
            "ratio": form["rps"] / bare["rps"],
            "errors": form["non_2xx"],
            "answered": answered["form"],
            "leads": leads,
            "submissions": submissions,
            "duplicated": leads - people + max(0, submissions - leads),
            "bare_rows": bare_rows,
        }
    )
    # Every answered POST must have its lead; a few more rows are requests still in
    # flight when wrk stopped (at most one per connection and run).
    row["lost"] = max(0, answered["form"] - leads) if form["non_2xx"] == 0 else "see errors"
    row["aim"] = "ok" if row["ratio"] >= 0.5 and row["lost"] == 0 and not row["duplicated"] else "below aim"
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4, help="length of one run")
    parser.add_argument("--runs", type=int, default=3, help="runs per side (the median is kept)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    require("wrk", "wrk")
    rows = []
    with temp_instance() as folder:
        rows.append(run_backend("SQLite", folder, None, args))
    if not args.no_postgres:
        with postgres_database("leads") as url, temp_instance() as folder:
            if url:
                rows.append(run_backend("PostgreSQL", folder, url, args))
    for row in rows:
        summary(
            f"lead capture, {row['database']}",
            f"{row['form_rps']:,.0f} POST/s, p99 {row['form_p99']:.0f} ms; {row['answered']:,} answered, "
            f"{row['leads']:,} stored, {row['lost']} lost, {row['duplicated']} duplicated",
            ceiling=f"bare insert through the same stack, {row['bare_rps']:,.0f}/s",
            ratio=f"{row['ratio']:.2f}",
            aim="≥ 0.5, 0 lost",
            holds=f"0 lost {'yes' if row['lost'] == 0 else 'no'}, ratio {'yes' if row['ratio'] >= 0.5 else 'no'}",
        )
    print_table(
        f"Lead capture, gunicorn 4×2 gthread on CPU {','.join(map(str, SERVER_CPUS))}, wrk 1 thread on CPU "
        f"{WRK_CPU}, {args.connections} connections, median of {args.runs} × {args.seconds:g} s",
        rows,
        [
            ("database", "database"),
            ("form_rps", "form POST/s"),
            ("form_runs", "runs"),
            ("form_p99", "p99 ms"),
            ("bare_rps", "bare insert/s"),
            ("bare_runs", "bare runs"),
            ("ratio", "ratio"),
            ("errors", "non-2xx/3xx"),
            ("answered", "answered"),
            ("leads", "leads stored"),
            ("submissions", "submissions"),
            ("duplicated", "duplicated"),
            ("lost", "lost"),
            ("aim", "aim (≥0.5, 0 lost)"),
        ],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
