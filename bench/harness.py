"""What the benchmarks share: a throw-away Lodestar instance (database, index, assets in
a temp folder), gunicorn with the production settings the README documents, wrk load on
127.0.0.1, and the printing of figures as ratios to a ceiling measured in the same run.

Every run is bounded: wrk runs for a fixed number of seconds, servers are stopped at exit.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# The production settings documented in the README.
GUNICORN_ARGS = ["--workers", "4", "--worker-class", "gthread", "--threads", "2", "--log-level", "warning"]
SECRET = "bench-secret-key-0123456789-0123456789-abcdef"


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


@contextmanager
def temp_instance(keep: bool = False):
    folder = Path(tempfile.mkdtemp(prefix="lodestar-bench-"))
    try:
        yield folder
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)


def wait_for(url: str, timeout: float = 30.0) -> None:
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
        [str(BIN / "gunicorn"), *GUNICORN_ARGS, *extra_args, "--bind", f"127.0.0.1:{port}", app_spec],
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


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    match = re.match(r"([\d.]+)(us|ms|s)", text)
    return float(match.group(1)) * _UNITS[match.group(2)]


def wrk(
    url: str, *, connections: int = 32, seconds: int = 8, threads: int = 2, script: str | None = None
) -> dict:
    """Load `url` with wrk; returns requests/s, p50 and p99 in ms, and error counts."""
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency"]
    if script:
        command += ["-s", script]
    output = subprocess.run([*command, url], capture_output=True, text=True, timeout=seconds + 60).stdout
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
