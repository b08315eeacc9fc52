"""Pages: the home page, a help article and a white-paper landing page served by gunicorn
(the README's production settings), against a bare Flask route returning a page of the
same size from the same gunicorn settings. Load from wrk on 127.0.0.1.

    .venv/bin/python bench/pages.py [--seconds 4] [--runs 3] [--connections 32]

Both servers run at once; each page and its ceiling are loaded in turn (a warm-up, then
`--runs` rounds, each a run of both sides back to back, the order turning every round), and
the ratio is the median of the rounds' ratios (bench.harness.paired_ratio; the table also
prints each round's and the ratio of the two sides' medians). wrk sends a browser's
User-Agent; page views are counted by each page's beacon (core.beacon), a request of its
own that wrk does not send, so the page costs what it costs every visitor.

Aim (issue: benchmarks): every page at least 0.7 of the bare route's requests/s, p99 under
50 ms at 32 connections.

Then the same pages through the production front (deploy/nginx.conf, nginx on the same
cores) as repeat views (every public page is the same for every visitor: the app writes it
as a file, core.pagefiles, which nginx sends), against nginx serving the same bytes as a
static file; once as wrk asks (no Accept-Encoding) and once as browsers do (gzip: the
app's compressed copy, against those compressed bytes as a static file). Aim (issue 18):
at least 0.8 of nginx's static speed.
"""

import argparse
import re
import sys
import urllib.request
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (  # noqa: E402
    BROWSER,
    PAGE_FILES,
    SERVER_CPUS,
    WRK_CPU,
    alternate,
    demo_site,
    gunicorn,
    instance_env,
    nginx_front,
    paired_ratio,
    print_table,
    require,
    round_ratios,
    summary,
    temp_instance,
    wrk,
)


def fetch(url: str, **headers) -> bytes:
    """The response's bytes as sent (urllib does not decode gzip)."""
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:
        return response.read()


def first_link(html: str, prefix: str) -> str | None:
    match = re.search(rf'href="({re.escape(prefix)}[^"/?#]+)"', html)
    return match.group(1) if match else None


def load(url: str, args, seconds: float | None, *, user_agent: str = BROWSER, headers=None) -> dict:
    return wrk(
        url,
        connections=args.connections,
        seconds=seconds or args.seconds,
        user_agent=user_agent,
        headers=headers,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4, help="length of one run")
    parser.add_argument("--runs", type=int, default=3, help="runs per side (the median is kept)")
    parser.add_argument(
        "--front-runs",
        type=int,
        default=7,
        help="runs per side behind nginx (one 4-second run of a static file varies by ±10 %% "
        "on a shared VM: more runs steady the median)",
    )
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    require("wrk", "wrk")
    require("nginx", "nginx-light")
    rows, front_rows = [], []
    with temp_instance() as folder:
        # As deploy/nginx.conf on the same machine expects: pages as files where it looks.
        env = {**demo_site(folder), "LODESTAR_PAGE_FILES_DIR": str(folder / PAGE_FILES)}
        with (
            gunicorn("wsgi:app", env, probe="/healthz") as base,
            gunicorn("bench.bare_app:app", instance_env(folder)) as bare,
        ):
            home = fetch(base + "/").decode()
            help_index = fetch(base + "/help/").decode()
            targets = {"home": "/"}
            help_article = first_link(help_index, "/help/")
            whitepaper = first_link(home, "/library/") or first_link(
                fetch(base + "/library/").decode(), "/library/"
            )
            if help_article:
                targets["help article"] = help_article
            if whitepaper:
                targets["white-paper landing"] = whitepaper
            for name, path in targets.items():
                size = len(fetch(base + path))
                figures = alternate(
                    {
                        "page": partial(load, base + path, args),
                        "bare": partial(load, f"{bare}/{size}", args),
                    },
                    runs=args.runs,
                    warmup=min(1.0, args.seconds),
                )
                page, ceiling = figures["page"], figures["bare"]
                ratio = paired_ratio(figures, "page", "bare")
                rows.append(
                    {
                        "page": name,
                        "path": path,
                        "bytes": size,
                        **page,
                        "runs": " / ".join(f"{rps:.0f}" for rps in page["rps_runs"]),
                        "bare_rps": ceiling["rps"],
                        "bare_runs": " / ".join(f"{rps:.0f}" for rps in ceiling["rps_runs"]),
                        "bare_p99": ceiling["p99"],
                        "ratio": ratio,
                        "aim": "ok" if ratio >= 0.7 and page["p99"] < 50 else "below aim",
                    }
                )
                summary(
                    f"pages: {name}",
                    f"{page['rps']:,.0f} req/s, p99 {page['p99']:.0f} ms",
                    ceiling=f"bare Flask route of the same size, {ceiling['rps']:,.0f} req/s, "
                    f"p99 {ceiling['p99']:.0f} ms",
                    ratio=f"{ratio:.2f}",
                    aim="≥ 0.7, p99 < 50 ms",
                    holds=f"p99 {'yes' if page['p99'] < 50 else 'no'}, ratio {'yes' if ratio >= 0.7 else 'no'}",
                )
            front_rows = behind_nginx(folder, base, targets, args)
    print_table(
        f"Pages, gunicorn 4×2 gthread on CPU {','.join(map(str, SERVER_CPUS))}, wrk 1 thread on CPU "
        f"{WRK_CPU}, {args.connections} connections, median of {args.runs} × {args.seconds:g} s",
        rows,
        [
            ("page", "page"),
            ("bytes", "bytes"),
            ("rps", "req/s"),
            ("runs", "runs"),
            ("p50", "p50 ms"),
            ("p99", "p99 ms"),
            ("bare_rps", "bare req/s"),
            ("bare_runs", "bare runs"),
            ("bare_p99", "bare p99 ms"),
            ("ratio", "ratio to bare (median of rounds)"),
            ("non_2xx", "non-2xx"),
            ("aim", "aim (≥0.7, p99<50ms)"),
        ],
    )
    print_table(
        f"Repeat views through deploy/nginx.conf against nginx's static file of the same bytes, "
        f"{args.connections} connections, median of {args.front_runs} × {args.seconds:g} s",
        front_rows,
        [
            ("page", "page"),
            ("served_by", "served as"),
            ("bytes", "bytes"),
            ("rps", "req/s"),
            ("p99", "p99 ms"),
            ("static_rps", "static req/s"),
            ("static_p99", "static p99 ms"),
            ("ratio", "ratio to static (median of rounds)"),
            ("round_ratios", "each round's ratio"),
            ("ratio_of_medians", "ratio of the medians"),
            ("non_2xx", "non-2xx"),
            ("aim", "aim (≥0.8)"),
        ],
    )
    return 0


# What every browser sends: the front then serves the app's compressed copy of the page.
GZIP = {"Accept-Encoding": "gzip"}


# Each page through the front: as wrk asks, as browsers ask, and under a query string
# (utm tags, ?page=2), which the front never looks up as a file: its micro-cache serves it.
FRONT_WAYS = (("", None, ""), ("gzip", GZIP, ""), ("micro-cache, a query string", None, "?via=bench"))


def behind_nginx(folder: Path, base: str, targets: dict, args) -> list[dict]:
    """Each page's repeat views through the nginx front against the same bytes from disk:
    as wrk asks (no Accept-Encoding), then as browsers do (gzip) against the compressed
    bytes as a static file (what the front sends, so the same bytes on the wire), then
    under a query string."""
    static_dir = folder / "static-copies"
    static_dir.mkdir()
    rows = []
    with nginx_front(folder, base, static_dir, cpus=SERVER_CPUS) as front:
        for name, path in targets.items():
            for way, headers, query in FRONT_WAYS:
                url = front + path + query
                body = fetch(url, **(headers or {}))
                copy = f"page-{len(rows)}.html"
                (static_dir / copy).write_bytes(body)
                figures = alternate(
                    {
                        "front": partial(load, url, args, user_agent="", headers=headers),
                        "static": partial(load, f"{front}/static/{copy}", args, user_agent=""),
                    },
                    runs=args.front_runs,
                    warmup=min(1.0, args.seconds),
                )
                served_by = served_from(url, **(headers or {}))
                rows.append(
                    _front_row(f"{name}, {way}" if way else name, body, figures, served_by, aimed=not query)
                )
    return rows


def served_from(url: str, **headers) -> str:
    """Where the front took a repeat view from (its X-Cache-Status: FILE, HIT…): the
    second of two views, the first may be a new window's."""
    for _ in range(2):
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:
            status = response.headers.get("X-Cache-Status", "app")
    return status


def _front_row(name: str, body: bytes, figures: dict, served_by: str, *, aimed: bool) -> dict:
    page, static = figures["front"], figures["static"]
    ratio = paired_ratio(figures, "front", "static")
    summary(
        f"pages behind nginx: {name}",
        f"{page['rps']:,.0f} req/s, p99 {page['p99']:.1f} ms",
        ceiling=f"nginx's static file of the same bytes, {static['rps']:,.0f} req/s, p99 {static['p99']:.1f} ms",
        ratio=f"{ratio:.2f}",
        aim="≥ 0.8" if aimed else "",
        holds=("yes" if ratio >= 0.8 else "no") if aimed else "",
    )
    return {
        "page": name,
        "served_by": served_by,
        "bytes": len(body),
        **page,
        "static_rps": static["rps"],
        "static_p99": static["p99"],
        "ratio": ratio,
        "ratio_of_medians": page["rps"] / static["rps"],
        # Each round's front against the static file of the same round.
        "round_ratios": " / ".join(f"{each:.2f}" for each in round_ratios(figures, "front", "static")),
        "aim": ("ok" if ratio >= 0.8 else "below aim") if aimed else "",
    }


if __name__ == "__main__":
    sys.exit(main())
