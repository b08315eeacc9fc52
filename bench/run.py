"""Every benchmark in one run, then the summary table docs/PERFORMANCE.md shows: each
figure with its ceiling and ratio from the same run, and the machine, commit and time.

    .venv/bin/python -m bench.run               # `make bench`: each at its documented size
    .venv/bin/python -m bench.run --smoke       # `make bench-smoke`: each at a tiny size
    .venv/bin/python -m bench.run --only pages,search

Each benchmark runs in a process of its own and adds its summary rows to a file the
runner names (LODESTAR_BENCH_SUMMARY, see bench.harness.summary); the demo site is
loaded once per run and copied for each benchmark that serves it (bench.harness.demo_site).
A benchmark has run when it exits 0 having written at least one row; a missed aim is a
figure, not a failure.
The smoke sizes only prove that every benchmark still runs and prints its figures (CI
runs them); their figures mean nothing. The full sizes need a quiet machine.
"""

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import DEMO_CACHE, ROOT, SUMMARY_FILE  # noqa: E402


@dataclass(frozen=True)
class Benchmark:
    name: str
    script: str
    full: tuple[str, ...]  # the documented size (docs/PERFORMANCE.md)
    smoke: tuple[str, ...]  # seconds, not minutes


BENCHMARKS = [
    Benchmark("pages", "bench/pages.py", (), ("--seconds", "1", "--runs", "1", "--front-runs", "1")),
    # Lead capture's PostgreSQL side differs from SQLite only by its URL, and loading the
    # demo into a fresh PostgreSQL database takes longest of all: the smoke run leaves it out.
    Benchmark("leads", "bench/leads.py", (), ("--seconds", "1", "--runs", "1", "--no-postgres")),
    Benchmark("sending", "bench/sending.py", (), ("--mails", "100", "--processes", "2")),
    Benchmark(
        "campaigns",
        "bench/campaigns.py",
        (),
        ("--leads", "200", "--runs", "1", "--raw-mails", "100", "--workers", "1,4"),
    ),
    Benchmark("search", "bench/search.py", (), ("--articles", "200", "--queries", "20")),
    Benchmark("insights", "bench/insights.py", (), ("--events", "5000", "--leads", "500", "--days", "7")),
    Benchmark(
        "scale",
        "bench/scale.py",
        ("--explain",),
        ("--sizes", "100,1000", "--articles", "100", "--queries", "20"),
    ),
    Benchmark("page_quality", "bench/page_quality.py", (), ("--smoke",)),
    # Makes and drops a PostgreSQL cluster of its own: as root with Debian's
    # postgresql-common only; elsewhere it says why and writes a "skipped" row.
    Benchmark("chaos", "bench/chaos.py", (), ("--smoke",)),
]
COLUMNS = ["benchmark", "figure", "ceiling", "ratio", "aim", "holds"]
HEADINGS = ["benchmark", "figure", "ceiling in the same run", "ratio", "aim", "holds"]


def read_rows(path: Path) -> list[dict]:
    import json

    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def git(*args: str) -> str:
    result = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
    return result.stdout.strip() if result.returncode == 0 else ""


def machine() -> str:
    """CPU model and cores, memory, OS and Python: what a reader needs to compare figures."""
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        model = next(
            (
                line.split(":", 1)[1].strip()
                for line in cpuinfo.read_text().splitlines()
                if line.startswith("model name")
            ),
            "",
        )
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split("MemTotal:", 1)[1].split()[0])
        memory = f", {kib / 1024 / 1024:.1f} GiB"
    cores = len(os.sched_getaffinity(0))
    return (
        f"{model or platform.processor() or platform.machine()}, {cores} core(s){memory}; "
        f"{platform.system()} {platform.release()}; Python {platform.python_version()}"
    )


def commit() -> str:
    sha = git("rev-parse", "--short=10", "HEAD") or "unknown (not a git checkout)"
    dirty = " with uncommitted changes" if git("status", "--porcelain", "--untracked-files=no") else ""
    return sha + dirty


def children_cpu() -> float:
    """CPU seconds used by finished child processes (and theirs): with the wall time, what
    a benchmark would take on a quiet machine."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def load() -> str:
    return " / ".join(f"{value:.1f}" for value in os.getloadavg())


def print_summary(
    rows: list[dict], *, began: datetime, ended: datetime, load_before: str, smoke: bool
) -> None:
    size = "smoke sizes (the figures mean nothing)" if smoke else "documented sizes"
    print(f"\n## Summary: `make {'bench-smoke' if smoke else 'bench'}`, {size}\n")
    print(f"- time: {began:%Y-%m-%d %H:%M}–{ended:%H:%M} UTC")
    print(f"- commit: {commit()}")
    print(f"- machine: {machine()}")
    print(f"- load average (1 / 5 / 15 min): {load_before} before, {load()} after\n")
    print("| " + " | ".join(HEADINGS) + " |")
    print("|---|---|---|---:|---|---|")
    for row in rows:
        cells = [str(row.get(column, "")).replace("|", "\\|") for column in COLUMNS]
        print("| " + " | ".join(cells) + " |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="each benchmark at a tiny size")
    parser.add_argument(
        "--only", help="benchmark names, comma-separated: " + ", ".join(b.name for b in BENCHMARKS)
    )
    args = parser.parse_args()
    chosen = BENCHMARKS
    if args.only:
        names = {name.strip() for name in args.only.split(",")}
        unknown = names - {b.name for b in BENCHMARKS}
        if unknown:
            parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
        chosen = [b for b in BENCHMARKS if b.name in names]
    began, load_before = datetime.now(UTC), load()
    rows, failed = [], []
    with tempfile.TemporaryDirectory(prefix="lodestar-bench-run-") as folder:
        demo = str(Path(folder) / "demo")
        for benchmark in chosen:
            summary = Path(folder) / f"{benchmark.name}.jsonl"
            command = [sys.executable, benchmark.script, *(benchmark.smoke if args.smoke else benchmark.full)]
            print(f"\n# {benchmark.name}: {' '.join(command[1:])}", flush=True)
            started, cpu = time.monotonic(), children_cpu()
            result = subprocess.run(
                command, cwd=ROOT, env=dict(os.environ, **{SUMMARY_FILE: str(summary), DEMO_CACHE: demo})
            )
            written = read_rows(summary)
            print(
                f"# {benchmark.name}: exit {result.returncode}, {len(written)} figure(s), "
                f"{time.monotonic() - started:.0f} s, {children_cpu() - cpu:.0f} s of CPU",
                flush=True,
            )
            if result.returncode != 0 or not written:
                failed.append(f"{benchmark.name} (exit {result.returncode}, {len(written)} figures)")
            rows += written
    print_summary(rows, began=began, ended=datetime.now(UTC), load_before=load_before, smoke=args.smoke)
    if failed:
        print(f"\ndid not run to the end: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
