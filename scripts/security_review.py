"""The SQL-injection part of the security review (docs/SECURITY.md, Review): start a
development instance with the demo content on a free port, sign a staff user in, and run
sqlmap against every public form and every admin list filter.

    python3 -m venv /tmp/sqlmap-venv && /tmp/sqlmap-venv/bin/pip install sqlmap
    .venv/bin/python scripts/security_review.py                       # SQLite
    .venv/bin/python scripts/security_review.py --database-url postgresql://…/lodestar_review

sqlmap is a review tool, not a dependency of the project: it is run from its own venv
(--sqlmap). The instance runs with the form challenge and the rate limits off, so sqlmap's
requests reach the code that queries the database instead of a 429. The database named by
--database-url is emptied first (its tables are dropped): give it one of its own.
Prints one line per target and exits 1 when sqlmap finds any parameter injectable.
"""

import argparse
import http.cookiejar
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAFF_EMAIL = "review@lodestar.example"

# (name, path, POST data or None, staff session needed). Every parameter of each is tested.
LEAD = (
    "email=a@example.com&name=A&company=B&job_title=C&phone=13800138000&role=decision_maker&consent=y"
    "&referrer=https://example.com/&landing_page=/blog/x&utm_source=x&utm_medium=y&utm_campaign=z"
    "&utm_term=t&utm_content=c"
)
PUBLIC = [
    ("white paper form", "/library/{whitepaper}", LEAD, False),
    ("demo request form", "/demo-request", LEAD + "&message=hi", False),
    ("newsletter form", "/newsletter", "email=a@example.com&name=A&consent=y&utm_source=x", False),
    ("search page", "/search?q=sso&kind=blog&locale=zh&page=1", None, False),
    ("search API", "/api/search?q=sso&kind=blog&locale=zh&page=1&limit=5&typeahead=1", None, False),
    ("assistant question", "/help/ask", "question=How+do+I+set+up+SSO", False),
    ("assistant answer", "/help/ask/{conversation}/answer", "answer=no&question=SSO+with+Okta", False),
    (
        "assistant contact",
        "/help/ask/{conversation}/contact",
        "email=a@example.com&name=A&message=hi&consent=y",
        False,
    ),
    ("download fresh link", "/download/fresh", "token=x", False),
]
STAFF = [
    (
        "leads list",
        "/admin/leads/?q=li&stage=new&channel=x&source=x&asset=1&since=2026-01-01&until=2026-12-31"
        "&page=1&after=2026-11-16T10:00:00_5",
        None,
        True,
    ),
    ("held submissions", "/admin/leads/held?page=1&before=2026-11-16T10:00:00_5", None, True),
    ("content list", "/admin/content/?kind=blog&status=published&owner=1&stale=1&page=1", None, True),
    ("segments", "/admin/campaigns/segments/", None, True),
    ("segment preview", "/admin/campaigns/segments/preview", "name=x&slug=x&rules=stage+is+new", True),
    ("campaigns", "/admin/campaigns/?page=1", None, True),
    (
        "insights",
        "/admin/insights/?since=2026-01-01&until=2026-12-31&channel=x&source=x&asset=1&stage=new",
        None,
        True,
    ),
    ("search report", "/admin/search/?days=30&filter=zero", None, True),
    ("nurture messages", "/admin/nurture/messages?sequence=1&status=sent&q=x&page=1", None, True),
    ("assistant tickets", "/admin/assistant/?status=open&days=30&page=1", None, True),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(folder: Path, database_url: str, port: int) -> dict:
    env = dict(os.environ)
    env.update(
        LODESTAR_DEVELOPMENT="1",
        LODESTAR_DEV_SMTP_SINK="true",
        LODESTAR_MAIL_PORT=str(free_port()),
        LODESTAR_SECRET_KEY=secrets.token_urlsafe(48),
        LODESTAR_DATABASE_URL=database_url,
        LODESTAR_INDEX_DIR=str(folder / "index"),
        LODESTAR_ASSET_DIR=str(folder / "assets"),
        LODESTAR_UPLOAD_DIR=str(folder / "uploads"),
        LODESTAR_OUTBOX_DIR=str(folder / "outbox"),
        LODESTAR_FORM_CHALLENGE="off",
        LODESTAR_RATELIMIT_ENABLED="false",
        LODESTAR_MAIL_PER_RECIPIENT_PER_HOUR="0",
        LODESTAR_MAIL_PER_RECIPIENT_PER_DAY="0",
        FLASK_RUN_HOST="127.0.0.1",
        FLASK_RUN_PORT=str(port),
    )
    return env


def flask(env, *args, **kwargs):
    return subprocess.run(
        [str(Path(sys.executable).parent / "flask"), *args], cwd=ROOT, env=env, check=True, **kwargs
    )


def empty_database(env) -> None:
    script = "from core.extensions import db\nwith app.app_context():\n db.reflect()\n db.drop_all()\n"
    subprocess.run(
        [sys.executable, "-c", "from app import create_app\napp = create_app()\n" + script],
        cwd=ROOT,
        env=env,
        check=True,
    )


def start(env, base: str) -> subprocess.Popen:
    log = open(Path(env["LODESTAR_OUTBOX_DIR"]).parent / "server.log", "w")  # noqa: SIM115 -- the server's life
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "flask"), "serve"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    for _ in range(120):
        try:
            urllib.request.urlopen(base + "/healthz", timeout=2).close()
            return server
        except OSError:
            time.sleep(0.5)
    server.kill()
    raise SystemExit("the instance did not start")


def staff_cookie(base: str, password: str) -> str:
    """Sign in through the login form; the session cookie as sqlmap's --cookie wants it."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode({"csrf_token": token, "email": STAFF_EMAIL, "password": password}).encode()
    opener.open(base + "/login", data=body).read()
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    with opener.open(base + "/admin/") as answer:
        if "/login" in answer.url:
            raise SystemExit("could not sign in")
    return cookie


def first_whitepaper(base: str) -> str:
    page = urllib.request.urlopen(base + "/library/").read().decode()
    return re.search(r'href="/library/([^"/?]+)"', page).group(1)


def conversation(base: str) -> str:
    """A help-assistant conversation's token, for the routes that answer inside one."""

    class Stay(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    body = urllib.parse.urlencode({"question": "How do I set up SSO?"}).encode()
    try:
        urllib.request.build_opener(Stay).open(base + "/help/ask", data=body)
    except urllib.error.HTTPError as redirect:
        return redirect.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
    raise SystemExit("the assistant did not open a conversation")


def sqlmap_command(sqlmap, base, path, data, cookie, args, output) -> list[str]:
    command = [
        sqlmap,
        "--batch",
        "-u",
        base + path,
        f"--level={args.level}",
        f"--risk={args.risk}",
        f"--technique={args.technique}",
        f"--time-sec={args.time_sec}",
        "--threads=4",
        "--flush-session",
        "--disable-coloring",
        f"--output-dir={output}",
        # A form's answer is a redirect to its thank-you page: judge the redirect itself.
        "--answers=follow=N",
    ]
    if data is not None:
        command += ["--method=POST", f"--data={data}"]
    if cookie:
        # Stay signed in: sqlmap must not replace the session with a Set-Cookie it is sent.
        command += [f"--cookie={cookie}", "--drop-set-cookie"]
    return command


def verdict(output: str) -> str:
    """sqlmap's conclusion. Only its confirmation counts as a finding: on a page whose
    content changes between requests it says "appears to be UNION injectable" while it
    counts columns, and then "does not seem to be injectable"."""
    if re.search(
        r"sqlmap identified the following injection point|parameter '[^']+' is '[^']+' injectable", output
    ):
        return "INJECTABLE"
    if "do not appear to be injectable" in output:
        return "not injectable"
    return "inconclusive"


def tested(output: str) -> str:
    """The parameters sqlmap finished with, for a target cut off by --timeout."""
    return ", ".join(re.findall(r"parameter '([^']+)' does not seem to be injectable", output))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url", help="a database of the review's own (default: SQLite in a temp dir)"
    )
    parser.add_argument("--sqlmap", default="/tmp/sqlmap-venv/bin/sqlmap")
    parser.add_argument("--level", type=int, default=1)
    parser.add_argument("--risk", type=int, default=1)
    parser.add_argument("--technique", default="BEUST")
    parser.add_argument("--time-sec", type=int, default=2)
    parser.add_argument("--timeout", type=int, default=900, help="seconds per target")
    parser.add_argument(
        "--only", help="run only the targets whose name contains one of these (comma-separated)"
    )
    args = parser.parse_args()
    if not shutil.which(args.sqlmap):
        raise SystemExit(f"sqlmap not found at {args.sqlmap}: see this script's docstring")

    folder = Path(tempfile.mkdtemp(prefix="lodestar-review-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = environment(folder, args.database_url or f"sqlite:///{folder / 'review.db'}", port)
    if args.database_url:
        empty_database(env)
    flask(env, "db", "upgrade")
    flask(env, "demo", "load", stdout=subprocess.DEVNULL)
    password = "review " + secrets.token_urlsafe(18)
    flask(
        env,
        "users",
        "create",
        STAFF_EMAIL,
        "--role",
        "admin",
        "--password",
        password,
        stdout=subprocess.DEVNULL,
    )
    server = start(env, base)
    # A timeout's SIGTERM must still stop the instance (it runs in a session of its own).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    found = 0
    try:
        cookie = staff_cookie(base, password)
        names = {"whitepaper": first_whitepaper(base), "conversation": conversation(base)}
        print(f"instance {base} on {env['LODESTAR_DATABASE_URL'].split('@')[-1]}; sqlmap output in {folder}")
        for name, path, data, staff in PUBLIC + STAFF:
            if args.only and not any(part in name for part in args.only.split(",")):
                continue
            command = sqlmap_command(
                args.sqlmap, base, path.format(**names), data, cookie if staff else "", args, folder
            )
            started = time.monotonic()
            try:
                ran = subprocess.run(command, capture_output=True, text=True, timeout=args.timeout)
                output = ran.stdout + ran.stderr
                result = verdict(ran.stdout)
            except subprocess.TimeoutExpired as late:
                output = "".join(
                    part.decode() if isinstance(part, bytes) else part or ""
                    for part in (late.stdout, late.stderr)
                )
                result = (
                    "INJECTABLE"
                    if verdict(output) == "INJECTABLE"
                    else f"timed out (not injectable: {tested(output)})"
                )
            found += result == "INJECTABLE"
            print(
                f"{name:22} {result:15} {time.monotonic() - started:6.0f} s  {' '.join(command[1:])}",
                flush=True,
            )
            (folder / f"{name.replace(' ', '-')}.log").write_text(output)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait()
    print(f"{found} injectable target(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
