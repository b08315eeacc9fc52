"""Score every demo mail with SpamAssassin, as the worker sends it.

    .venv/bin/python scripts/spamscore.py               # table; exit 1 if a mail scores > 0.5
    .venv/bin/python scripts/spamscore.py --keep DIR    # also keep each scored mail as DIR/*.eml

A throwaway instance (SQLite in a temporary folder) gets the demo (`flask demo load`: its
leads' downloads queue the download links and the demo request acknowledgement, and
enrol them in the white-paper sequence); a newsletter signup from an address with an
internationalised domain, under double opt-in, adds the confirmation mail and, once
confirmed, the English sequence; a test send of each sequence's first step, the insights
digest and a sales hand-off complete the set. Real `tick`s, moved a day at a time until
no mail is left, deliver everything to a local aiosmtpd sink, and the bytes the sink
received are what SpamAssassin scores: each kind of mail (template or sequence step) once
for each subject it was sent with (a subject differs by asset title or lead name, and
SpamAssassin reads it).

SpamAssassin (Debian package `spamassassin`, a development tool, not a dependency) runs
with `-L -t` (local tests only, a report) and bayes off, as `nobody` when this runs as
root: the score then depends on the mail only, not on what the machine has learnt.
"""

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

LIMIT = 0.5
SITE_URL = "https://lodestar.example"
NEWSLETTER_LEAD = ("emma.weber@bücher-schmidt.de", "Emma Weber")
SPAMASSASSIN = "spamassassin"
_TOTAL = re.compile(r"Content analysis details:\s+\((-?\d+(?:\.\d+)?) points")
_RULE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s+([A-Z0-9_]+)\s", re.MULTILINE)


@dataclass
class Mail:
    label: str
    subject: str
    to: str
    raw: bytes


@dataclass
class Score:
    points: float
    rules: list[tuple[str, float]]


def spamassassin_missing() -> str | None:
    """Why SpamAssassin cannot run here, or None."""
    if shutil.which(SPAMASSASSIN) is None:
        return "spamassassin is not installed (Debian: apt-get install spamassassin)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root and runuser (to score as nobody) is missing"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def demo_mails(folder: Path) -> list[Mail]:
    """Every kind of demo mail, delivered by the worker to a sink: one of each kind and
    subject, in the order they were sent."""
    from aiosmtpd.controller import Controller

    from app import create_app
    from core.extensions import db
    from core.mailsink import FolderSink

    port = _free_port()
    outbox = folder / "outbox"
    sink = Controller(FolderSink(outbox), hostname="127.0.0.1", port=port)
    sink.start()
    app = create_app(
        {
            "SECRET_KEY": "spamscore-" + "k" * 40,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'lodestar.db'}",
            "SITE_URL": SITE_URL,
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": port,
            "MAIL_SUPPRESS_SEND": False,
            "MAIL_RATE_PER_SECOND": 0,
            "INDEX_DIR": str(folder / "index"),
            "ASSET_DIR": str(folder / "assets"),
            "UPLOAD_DIR": str(folder / "uploads"),
            "OUTBOX_DIR": str(folder / "dev-outbox"),
        }
    )
    try:
        with app.app_context():
            db.create_all()
            result = app.test_cli_runner().invoke(args=["demo", "load"])
            if result.exit_code != 0:
                raise RuntimeError(f"flask demo load failed:\n{result.output}") from result.exception
            _queue_the_rest(app)
            _deliver_everything()
            return _one_of_each_subject(outbox)
    finally:
        with app.app_context():
            db.engine.dispose()
        sink.stop()


def _queue_the_rest(app) -> None:
    """The mails the demo load does not queue by itself, each through its own service."""
    from sqlalchemy import select

    from accounts.models import User
    from core.extensions import db
    from core.timeutil import utcnow
    from gated.capture import RequestMeta, capture_lead
    from gated.consent import confirm_lead
    from gated.models import Lead
    from insights.digest import send_digest
    from insights.scoring.handoff import hand_off
    from nurture import mailqueue
    from nurture.models import Message, Sequence

    now = utcnow()
    # A newsletter signup under double opt-in: the confirmation, then (confirmed) the
    # English sequence, to an address whose domain is internationalised (punycode in To).
    app.config["DOUBLE_OPT_IN"] = True
    email, name = NEWSLETTER_LEAD
    capture = capture_lead(
        "newsletter",
        {"email": email, "name": name, "consent": "y"},
        request_meta=RequestMeta(ip="203.0.113.7", user_agent="spamscore"),
        now=now,
    )
    confirmation = db.session.scalar(
        select(Message).where(Message.lead_id == capture.lead.id, Message.template == "gated/email/confirm")
    )
    if confirmation is None:
        raise RuntimeError("the newsletter signup queued no confirmation mail")
    token = confirmation.context["confirm_url"].rstrip("/").rpartition("/")[2]
    confirm_lead(token, now=now)
    db.session.commit()
    app.config["DOUBLE_OPT_IN"] = False

    marketer = db.session.scalar(select(User).where(User.role == "marketer").order_by(User.id))
    for sequence in db.session.scalars(select(Sequence).order_by(Sequence.slug)):
        first = min(sequence.steps, key=lambda step: step.position)
        mailqueue.queue_test(first.subject, first.body, to=marketer.email, locale=sequence.locale, now=now)
    send_digest(now=now, force=True)
    lead = db.session.scalar(select(Lead).where(Lead.email == "wang.fang@example.cn"))
    hand_off(lead, now=now)
    db.session.commit()


def _deliver_everything(days: int = 60) -> None:
    """Tick now, then each day at 09:30 UTC (inside both demo sequences' windows on a
    weekday) until nothing is due or waiting."""
    from sqlalchemy import func, or_, select

    from core.extensions import db
    from core.timeutil import utcnow
    from nurture import worker
    from nurture.models import Enrollment, Message

    now = utcnow()
    moments = [now] + [
        datetime.combine(now.date() + timedelta(days=day), datetime.min.time())
        + timedelta(hours=9, minutes=30)
        for day in range(1, days + 1)
    ]
    for moment in moments:
        worker.tick(moment, worker_name="spamscore")
        waiting = db.session.scalar(
            select(func.count(Enrollment.id)).where(
                Enrollment.status == "active", Enrollment.next_send_at.is_not(None)
            )
        ) + db.session.scalar(
            select(func.count(Message.id)).where(or_(Message.status == "queued", Message.status == "sending"))
        )
        if not waiting:
            break
    else:
        raise RuntimeError(f"mail still waiting after {days} days of ticks")
    # A mail that failed to render or was refused would be missing from the scores.
    failed = db.session.execute(
        select(Message.template, Message.error).where(Message.status == "failed")
    ).all()
    if failed:
        raise RuntimeError(f"mails failed: {failed}")


def _one_of_each_subject(outbox: Path) -> list[Mail]:
    from email import message_from_bytes, policy

    from sqlalchemy import select

    from core.extensions import db
    from nurture.models import Message, Sequence, Step

    kinds = {}
    rows = db.session.execute(
        select(Message.message_id, Message.template, Sequence.slug, Step.position)
        .outerjoin(Sequence, Sequence.id == Message.sequence_id)
        .outerjoin(Step, Step.id == Message.step_id)
        .where(Message.status == "sent")
    )
    for message_id, template, slug, position in rows:
        kinds[message_id] = f"{slug} step {position + 1}" if slug else template
    mails, seen = [], set()
    for path in sorted(outbox.glob("*.eml")):
        raw = path.read_bytes()
        parsed = message_from_bytes(raw, policy=policy.default)
        label, subject = kinds.get(parsed["Message-ID"], "?"), str(parsed["Subject"])
        if (label, subject) not in seen:
            seen.add((label, subject))
            mails.append(Mail(label=label, subject=subject, to=str(parsed["To"]), raw=raw))
    return mails


@contextmanager
def preferences():
    """A preferences file of our own with bayes off, in a fresh folder under the system's
    temporary folder, readable by the user nobody: nothing of the user's is read, and
    nothing is written to a home folder. (Not under the caller's folder: TemporaryDirectory and
    pytest's tmp_path are 0700, and SpamAssassin run as nobody would silently skip it.)"""
    with tempfile.TemporaryDirectory(prefix="spamscore-prefs-") as tmp:
        folder = Path(tmp)
        folder.chmod(0o755)
        prefs = folder / "user_prefs"
        prefs.write_text("use_bayes 0\nbayes_auto_learn 0\n", encoding="ascii")
        prefs.chmod(0o644)
        yield prefs


def command(prefs: Path, *extra: str) -> list[str]:
    """SpamAssassin as score() runs it: local tests, a report, our preferences file, as
    nobody when this runs as root."""
    args = [SPAMASSASSIN, "-L", "-t", "-x", "-p", str(prefs), "--cf=use_bayes 0", *extra]
    return ["runuser", "-u", "nobody", "--", *args] if os.geteuid() == 0 else args


def run(prefs: Path, raw: bytes, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        command(prefs, *extra),
        input=raw,
        capture_output=True,
        check=True,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(prefs.parent), "LANG": "C.UTF-8"},
    )


def score(raw: bytes, *, prefs: Path) -> Score:
    """SpamAssassin's score and rules for one message: local tests, bayes off, as an
    unprivileged user."""
    result = run(prefs, raw)
    report = result.stdout.decode("utf-8", "replace")
    total = _TOTAL.search(report)
    if total is None:
        raise RuntimeError(f"no score in SpamAssassin's report:\n{report[-2000:]}\n{result.stderr.decode()}")
    rules = [(name, float(points) + 0.0) for points, name in _RULE.findall(report[total.end() :])]
    return Score(points=float(total.group(1)) + 0.0, rules=rules)  # + 0.0: no "-0"


def score_all(mails: list[Mail]) -> list[Score]:
    """Scores in the order of `mails`, two SpamAssassin processes at a time (each spends
    most of its second loading its rules)."""
    with preferences() as prefs, ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(lambda mail: score(mail.raw, prefs=prefs), mails))


def _rules_text(rules: list[tuple[str, float]]) -> str:
    return ", ".join(f"{name} {points:g}" for name, points in rules)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", type=Path, help="also write each scored mail to this folder")
    args = parser.parse_args(argv)
    missing = spamassassin_missing()
    if missing:
        print(missing, file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="spamscore-") as tmp:
        folder = Path(tmp)
        mails = demo_mails(folder)
        scores = score_all(mails)
    version = subprocess.run([SPAMASSASSIN, "--version"], capture_output=True, text=True).stdout
    print(version.splitlines()[0] if version else SPAMASSASSIN)
    print("| mail | subject | to | score | rules |\n|---|---|---|---|---|")
    for number, (mail, result) in enumerate(zip(mails, scores, strict=True), 1):
        print(
            f"| {mail.label} | {mail.subject} | {mail.to} | {result.points:g} | {_rules_text(result.rules)} |"
        )
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            (args.keep / f"{number:02d}-{mail.label.replace('/', '-').replace(' ', '-')}.eml").write_bytes(
                mail.raw
            )
    over = [mail.label for mail, result in zip(mails, scores, strict=True) if result.points > LIMIT]
    if over:
        print(f"{len(over)} of {len(mails)} mails score above {LIMIT}: {', '.join(over)}", file=sys.stderr)
        return 1
    print(f"{len(mails)} mails, each at {LIMIT} or below")
    return 0


if __name__ == "__main__":
    sys.exit(main())
