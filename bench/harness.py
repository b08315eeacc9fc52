"""What the benchmarks share: a throw-away Lodestar instance (database, index, assets in
a temp folder), gunicorn with the production settings the README documents, wrk load on
127.0.0.1, and the printing of figures as ratios to a ceiling measured in the same run.

On a 2-core machine the load generator competes with the servers for the CPU: wrk runs
with one thread pinned to the last core (WRK_CPU) and the servers to the others
(SERVER_CPUS), the same for Lodestar and for its ceiling, so a cheap ceiling does not get
less CPU because wrk works harder for it. `alternate` runs the two sides in turn after a
warm-up and keeps the median of several short runs.

Every run is bounded: wrk runs for a fixed number of seconds, servers are stopped at exit.
"""

import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# The production settings documented in the README.
GUNICORN_ARGS = ["--workers", "4", "--worker-class", "gthread", "--threads", "2", "--log-level", "warning"]
SECRET = "bench-secret-key-0123456789-0123456789-abcdef"
# The PostgreSQL server the benchmarks make their throw-away databases on (its admin database).
PG_ADMIN = os.environ.get("LODESTAR_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
# `make bench` (bench/run.py) names a file here; each benchmark adds its summary rows to it.
SUMMARY_FILE = "LODESTAR_BENCH_SUMMARY"
# ... and a folder here, where the first benchmark to need the demo site leaves it for the others.
DEMO_CACHE = "LODESTAR_BENCH_DEMO"
CPUS = sorted(os.sched_getaffinity(0))
# wrk on the last core, the servers on the rest (on one core: everything shares it).
WRK_CPU = CPUS[-1]
SERVER_CPUS = CPUS[:-1] or CPUS


def pinned(command: list[str], cpus) -> list[str]:
    """`command` run on the given cores (taskset), or as is where taskset is missing."""
    if not shutil.which("taskset"):
        return command
    return ["taskset", "--cpu-list", ",".join(str(cpu) for cpu in cpus), *command]


LOOPBACK_HOSTS = "127.0.0.1,localhost"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def instance_env(folder: Path, database_url: str | None = None, **extra) -> dict:
    """Environment for a Lodestar process whose state lives in `folder`."""
    env = dict(os.environ)
    env.update(
        {
            "LODESTAR_SECRET_KEY": SECRET,
            "DATABASE_URL": database_url or f"sqlite:///{folder / 'bench.db'}",
            "LODESTAR_INDEX_DIR": str(folder / "index"),
            "LODESTAR_ASSET_DIR": str(folder / "assets"),
            "LODESTAR_UPLOAD_DIR": str(folder / "uploads"),
            "LODESTAR_OUTBOX_DIR": str(folder / "outbox"),
            "LODESTAR_RATELIMIT_ENABLED": "false",
            # Production settings serve only SITE_URL's host; benchmarks call loopback.
            "LODESTAR_TRUSTED_HOSTS": LOOPBACK_HOSTS,
            "PYTHONPATH": str(ROOT),
        }
    )
    env.update({key: str(value) for key, value in extra.items()})
    return env


def flask(env: dict, *args: str, timeout: int = 600) -> str:
    result = subprocess.run(
        [str(BIN / "flask"), "--app", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def demo_site(folder: Path, database_url: str | None = None) -> dict:
    """Migrate the instance in `folder` and load the demo; returns its environment.

    Loading the demo (articles, PDFs, the search index) takes 10-30 s, so within one
    `make bench` run the first SQLite demo site is kept in the runner's folder
    (LODESTAR_BENCH_DEMO) and later ones are copies of it (the database, index and files
    hold no absolute path; the settings of `instance_env` point at the copy).
    """
    env = instance_env(folder, database_url)
    cache = os.environ.get(DEMO_CACHE)
    if database_url or not cache:
        load_demo(env)
        return env
    cache = Path(cache)
    if not cache.exists():
        made = cache.with_name(cache.name + ".partial")
        made.mkdir(parents=True)
        load_demo(instance_env(made))
        made.rename(cache)
    shutil.copytree(cache, folder, dirs_exist_ok=True)
    return env


def load_demo(env: dict) -> None:
    flask(env, "db", "upgrade")
    flask(env, "demo", "load")


@contextmanager
def postgres_database(purpose: str):
    """A new, empty PostgreSQL database for one run, dropped afterwards; yields its URL, or
    None (with the reason printed) when the server is not there.

    The name is unique per run (purpose, process id, random suffix), so two runs at once,
    or a run beside the test suite, never drop each other's data.
    """
    import psycopg

    name = f"lodestar_bench_{purpose}_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(
            f"PostgreSQL skipped: not reachable at {PG_ADMIN} ({reason}); set LODESTAR_BENCH_POSTGRES",
            file=sys.stderr,
        )
        yield None
        return
    try:
        yield urlsplit(PG_ADMIN)._replace(scheme="postgresql+psycopg", path=f"/{name}").geturl()
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def summary(
    benchmark: str, figure: str, *, ceiling: str = "", ratio: str = "", aim: str = "", holds=""
) -> None:
    """One row of the summary table `make bench` prints (the table at the top of
    docs/PERFORMANCE.md): a figure with its ceiling and ratio from the same run.

    Written to the file named by LODESTAR_BENCH_SUMMARY when the runner set it; a benchmark
    run on its own prints its detailed tables only. `holds` is True, False or a word.
    """
    path = os.environ.get(SUMMARY_FILE)
    if not path:
        return
    if isinstance(holds, bool):
        holds = "yes" if holds else "no"
    row = {
        "benchmark": benchmark,
        "figure": figure,
        "ceiling": ceiling,
        "ratio": ratio,
        "aim": aim,
        "holds": holds,
    }
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")


def require(command: str, package: str) -> None:
    """Stop with a clear message (exit 2) when a command the benchmark needs is missing."""
    if shutil.which(command) is None:
        print(
            f"{command} is not installed (Debian package {package}): run `make bench-deps`, "
            f"or apt-get install {package}",
            file=sys.stderr,
        )
        raise SystemExit(2)


@contextmanager
def temp_instance(keep: bool = False):
    folder = Path(tempfile.mkdtemp(prefix="lodestar-bench-"))
    try:
        yield folder
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)


def wait_for(url: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                response.read()
                return
        except urllib.error.HTTPError:
            return  # it answers; what it says is the benchmark's business
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


@contextmanager
def gunicorn(app_spec: str, env: dict, *, probe: str = "/", extra_args=()):
    """Run gunicorn serving `app_spec` on a free port; yields the base URL."""
    port = free_port()
    process = subprocess.Popen(
        pinned(
            [str(BIN / "gunicorn"), *GUNICORN_ARGS, *extra_args, "--bind", f"127.0.0.1:{port}", app_spec],
            SERVER_CPUS,
        ),
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + probe)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


# The folder, beside the front's config, of the pages the app writes for it (core.pagefiles).
PAGE_FILES = "page-files"


def nginx_config(folder: Path, *, port: int, upstream_port: int, static_dir: Path) -> Path:
    """deploy/nginx.conf as shipped, its machine paths and ports pointed at `folder`, the
    given ports and `static_dir` (a missing one fails loudly: the shipped file changed)."""
    text = (ROOT / "deploy" / "nginx.conf").read_text()
    for production, here in [
        ("/run/nginx-lodestar.pid", str(folder / "nginx.pid")),
        ("/var/log/nginx/lodestar-", str(folder / "nginx-")),
        ("/var/cache/nginx/lodestar", str(folder / "nginx-cache")),
        ("/srv/lodestar/static/", f"{static_dir}/"),
        ("/var/cache/lodestar/pages;", f"{folder / PAGE_FILES};"),
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream_port};"),
        ("listen 80;", f"listen 127.0.0.1:{port};"),
    ]:
        if production not in text:
            raise RuntimeError(f"deploy/nginx.conf no longer has {production!r}")
        text = text.replace(production, here)
    config = folder / "nginx.conf"
    config.write_text(text)
    return config


@contextmanager
def nginx_front(folder: Path, upstream: str, static_dir: Path, *, cpus=None):
    """nginx with deploy/nginx.conf in front of `upstream` (a base URL), in the foreground
    as this user; yields its base URL."""
    port = free_port()
    config = nginx_config(folder, port=port, upstream_port=urlsplit(upstream).port, static_dir=static_dir)
    nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    command = [nginx, "-c", str(config), "-g", "daemon off; master_process off;"]
    process = subprocess.Popen(pinned(command, cpus) if cpus else command)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + "/static/")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    match = re.match(r"([\d.]+)(us|ms|s)", text)
    return float(match.group(1)) * _UNITS[match.group(2)]


# wrk sends no User-Agent, which Lodestar (insights) takes for a bot and does not count:
# the benchmarks load the pages as a browser would, page-view recording included.
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


def wrk(
    url: str,
    *,
    connections: int = 32,
    seconds: float = 8,
    threads: int = 1,
    script: str | None = None,
    user_agent: str = BROWSER,
    headers: dict | None = None,
) -> dict:
    """Load `url` with wrk (pinned to WRK_CPU), as a browser unless told otherwise ("" for
    wrk's none), with `headers` besides; returns requests/s, p50 and p99 in ms, and error
    counts."""
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s", "--latency"]
    if user_agent:
        command += ["-H", f"User-Agent: {user_agent}"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script:
        command += ["-s", script]
    output = subprocess.run(
        pinned([*command, url], [WRK_CPU]), capture_output=True, text=True, timeout=seconds + 60
    ).stdout
    figures = {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
    }
    for label, key in (("50%", "p50"), ("99%", "p99")):
        figures[key] = _ms(re.search(rf"{re.escape(label)}\s+([\d.]+(?:us|ms|s))", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    figures["non_2xx"] = int(errors.group(1)) if errors else 0
    socket_errors = re.search(r"Socket errors: (.*)", output)
    figures["socket_errors"] = socket_errors.group(1) if socket_errors else ""
    return figures


def alternate(sides: dict, *, runs: int = 3, warmup: float = 1.0) -> dict:
    """Run each side's `measure(seconds)` in turn, `runs` times, after one warm-up each;
    returns per side the run with the median requests/s, the median p99, the non-2xx
    of all runs and every run's requests/s (`rps_runs`, in round order: a round's runs
    are back to back, so `paired_ratio` can compare them). `sides` maps a name to a
    callable taking the duration in seconds.

    The order turns round every round (A B, B A, A B…): a side that always ran second
    would always meet what the first left behind (a busy neighbour, a warm cache)."""
    for measure in sides.values():
        measure(warmup)
    results = {name: [] for name in sides}
    order = list(sides.items())
    for round_number in range(runs):
        for name, measure in order if round_number % 2 == 0 else reversed(order):
            results[name].append(measure(None))
    medians = {}
    for name, figures in results.items():
        middle = statistics.median_low([f["rps"] for f in figures])
        chosen = next(f for f in figures if f["rps"] == middle)
        medians[name] = {
            **chosen,
            "p99": statistics.median(f["p99"] for f in figures),
            "non_2xx": sum(f["non_2xx"] for f in figures),
            "rps_runs": [f["rps"] for f in figures],
        }
    return medians


def round_ratios(figures: dict, side: str, ceiling: str) -> list[float]:
    """Each of `alternate`'s rounds: `side`'s requests/s over `ceiling`'s in that round."""
    pairs = zip(figures[side]["rps_runs"], figures[ceiling]["rps_runs"], strict=True)
    return [ours / theirs for ours, theirs in pairs]


def paired_ratio(figures: dict, side: str, ceiling: str) -> float:
    """The median of the rounds' own ratios (round_ratios).

    On a shared VM a 4-second run varies by ±10 %, and a neighbour's burst slows both runs
    of a round alike: the ratio within a round cancels it, where the ratio of the two
    sides' medians can pair one side's fast round with the other's slow one."""
    return statistics.median(round_ratios(figures, side, ceiling))


def print_table(title: str, rows: list[dict], columns: list[tuple[str, str]]) -> None:
    print(f"\n## {title}\n")
    print("| " + " | ".join(label for _key, label in columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        cells = []
        for key, _label in columns:
            value = row.get(key, "")
            cells.append(f"{value:.2f}" if isinstance(value, float) else str(value))
        print("| " + " | ".join(cells) + " |")


def run_phase(script: Path, *args: str, timeout: int = 1200) -> dict:
    """Run one phase of a benchmark script in a fresh interpreter (its own imports, caches
    and memory, so phases do not warm each other up) and return the JSON it prints last."""
    result = subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )
    if result.returncode != 0:
        raise RuntimeError(f"{script.name} phase {args} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def in_process_app(database_url: str, folder: Path, **overrides):
    """A Lodestar app in this process (driven through its test client and services, no
    server) whose index, files, uploads and outbox live in `folder`; rate limits off.
    `overrides` are further settings."""
    from app import create_app

    settings = {
        "SECRET_KEY": SECRET,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "RATELIMIT_ENABLED": False,
        "TRUSTED_HOSTS": LOOPBACK_HOSTS,  # the test client's "localhost" and loopback servers
        "INDEX_DIR": str(folder / "index"),
        "ASSET_DIR": str(folder / "assets"),
        "UPLOAD_DIR": str(folder / "uploads"),
        "OUTBOX_DIR": str(folder / "outbox"),
    }
    return create_app({**settings, **overrides})
