"""The delivery half of bench/campaigns.py: a started campaign delivered by 1 and 4
`flask nurture tick` processes to one local SMTP sink, against raw smtplib over 1 and 4
connections to the same sink; duplicates, losses and unsubscribed recipients counted at
the sink and in the message log."""

import multiprocessing
import smtplib
import subprocess
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from bench.harness import BIN, ROOT, instance_env, print_table, summary
from bench.sending import received, sample_message, sink_process, wait_received

UNSUBSCRIBE_EVERY = 50  # one recipient in fifty leaves after the start


def raw_sender(port, raw, count, go, done):
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        go.wait()
        for _ in range(count):
            smtp.sendmail("hello@lodestar.example", ["raw@example.com"], raw)
    done.put(count)


def raw_rate(port: int, raw: bytes, mails: int, connections: int) -> float:
    """Mails per second of raw smtplib over `connections` connections (one process each)."""
    spawn = multiprocessing.get_context("spawn")
    go, done = spawn.Event(), spawn.Queue()
    each = mails // connections
    senders = [spawn.Process(target=raw_sender, args=(port, raw, each, go, done)) for _ in range(connections)]
    for process in senders:
        process.start()
    time.sleep(1.0)  # the connections are open and waiting
    started = time.perf_counter()
    go.set()
    sent = sum(done.get(timeout=900) for _ in senders)
    elapsed = time.perf_counter() - started
    for process in senders:
        process.join(timeout=30)
    return sent / elapsed


def queue_campaign(slug: str, now) -> tuple[int, set[str]]:
    """A started campaign to every consenting lead, then one recipient in fifty
    unsubscribed; (recipients, the unsubscribed addresses)."""
    from sqlalchemy import insert, select

    from campaigns import sending, services
    from core.extensions import db
    from nurture.models import Message, Suppression, email_hash

    campaign, _ = services.save_campaign(
        {
            "slug": slug,
            "topic": "newsletter",
            "segment": {"all": [{"field": "email", "op": "contains", "value": "@example.com"}]},
            "subject": "{{ lead.first_name or '您好' }},十二月月刊",
            "body": "{{ lead.name or '您好' }}:\n\n本月三篇文章。[阅读全文](https://example.com/renewal)\n",
        },
        now=now,
    )
    recipients = sending.start(campaign.id, now=now)
    addresses = db.session.scalars(
        select(Message.to_address)
        .where(Message.template.startswith(services.campaign_template(campaign.id)))
        .order_by(Message.id)
    ).all()
    # Their suppressions in one statement, as the unsubscribe route writes each (the
    # worker checks the suppression list when it sends; this is not timed). Addresses an
    # earlier run suppressed stay suppressed and are counted among the unsubscribed.
    hashes = {email_hash(address): address for address in addresses}
    known = set(db.session.scalars(select(Suppression.email_hash)))
    new = [address for address in addresses[::UNSUBSCRIBE_EVERY] if email_hash(address) not in known]
    if new:
        db.session.execute(
            insert(Suppression),
            [
                {"email_hash": email_hash(a), "reason": "unsubscribed", "detail": "bench", "created_at": now}
                for a in new
            ],
        )
    leaving = {address for key, address in hashes.items() if key in known} | set(new)
    db.session.commit()
    return recipients, leaving


def statuses(slug: str) -> Counter:
    from sqlalchemy import func, select

    from campaigns.models import Campaign
    from campaigns.services import campaign_template
    from core.extensions import db
    from nurture.models import Message

    campaign_id = db.session.scalar(select(Campaign.id).where(Campaign.slug == slug))
    rows = db.session.execute(
        select(Message.status, func.count())
        .where(Message.template.startswith(campaign_template(campaign_id)))
        .group_by(Message.status)
    )
    return Counter(dict(rows.all()))


def tick_processes(env: dict, processes: int, now) -> float:
    """`flask nurture tick --now` in `processes` processes at once; seconds until all end."""
    command = [str(BIN / "flask"), "--app", "app", "nurture", "tick", "--now", now.isoformat()]
    started = time.perf_counter()
    running = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(processes)
    ]
    for process in running:
        _out, err = process.communicate(timeout=3600)
        if process.returncode != 0:
            raise RuntimeError(f"flask nurture tick failed:\n{err.decode()[-2000:]}")
    return time.perf_counter() - started


def measure_delivery(
    app, pg_url: str, folder: Path, expected: int, counts: list[int], raw_mails: int
) -> None:
    from core.extensions import db

    sink_path = str(folder / "received.tsv")
    with sink_process(sink_path) as port:
        env = instance_env(
            folder,
            pg_url,
            LODESTAR_MAIL_SERVER="127.0.0.1",
            LODESTAR_MAIL_PORT=port,
            LODESTAR_MAIL_RATE_PER_SECOND=0,
            LODESTAR_NURTURE_BATCH_SIZE=200,
            LODESTAR_SITE_URL="http://localhost",
        )
        raw, _per_mail = sample_message(app)
        raw_mails = max(4, min(raw_mails, expected))
        raw_before = {n: raw_rate(port, raw, raw_mails, n) for n in (1, 4)}
        runs = []
        for processes in counts:
            with app.app_context():
                from bench.campaigns import NOW

                slug = f"deliver-{processes}"
                recipients, leaving = queue_campaign(slug, NOW)
                db.session.remove()
            before = len(received(sink_path))
            seconds = tick_processes(env, processes, NOW + timedelta(minutes=1))
            mails = wait_received(sink_path, before + recipients - len(leaving), timeout=120)[before:]
            got = Counter(rcpt for rcpt, _mid in mails)
            with app.app_context():
                outcome = statuses(slug)
                db.session.remove()
            runs.append(
                {
                    "processes": processes,
                    "recipients": recipients,
                    "delivered": len(mails),
                    "rate": len(mails) / seconds,
                    "duplicates": sum(n - 1 for n in got.values() if n > 1)
                    + sum(n - 1 for n in Counter(mid for _rcpt, mid in mails).values() if n > 1),
                    "lost": len(set(map(str.lower, _addresses_expected(app, slug, leaving))) - set(got)),
                    "unsubscribed": len(leaving),
                    "skipped": outcome["suppressed"],
                    "reached_unsubscribed": len(leaving & set(got)),
                }
            )
        raw_after = {n: raw_rate(port, raw, raw_mails, n) for n in (1, 4)}
    ceiling = {n: (raw_before[n] + raw_after[n]) / 2 for n in (1, 4)}
    rows = [
        {
            "what": f"raw smtplib, {n} connection(s), same mail",
            "rate": ceiling[n],
            "r1": ceiling[n] / ceiling[1],
        }
        for n in (1, 4)
    ]
    for run in runs:
        rows.append(
            {
                "what": f"{run['processes']} × flask nurture tick",
                "rate": run["rate"],
                "r1": run["rate"] / ceiling[1],
                "r4": run["rate"] / ceiling[4],
            }
        )
    print_table(
        f"Delivering a {expected:,}-recipient campaign to one local sink, PostgreSQL (mails/s)",
        rows,
        [("what", "sender"), ("rate", "mails/s"), ("r1", "× raw 1 conn."), ("r4", "× raw 4 conn.")],
    )
    for run in runs:
        print(
            f"{run['processes']} process(es): {run['recipients']:,} recipients, {run['delivered']:,} delivered, "
            f"{run['unsubscribed']} unsubscribed after the start and {run['skipped']} skipped as suppressed, "
            f"{run['reached_unsubscribed']} unsubscribed reached, {run['duplicates']} duplicates, {run['lost']} lost"
        )
        summary(
            f"campaign delivery, {run['processes']} × flask nurture tick, {run['recipients']:,} recipients, PostgreSQL",
            f"{run['rate']:,.0f} mails/s; {run['duplicates']} duplicates, {run['lost']} lost, "
            f"{run['skipped']}/{run['unsubscribed']} unsubscribed skipped",
            ceiling=f"raw smtplib: {ceiling[1]:,.0f} mails/s (1 conn.), {ceiling[4]:,.0f} (4 conn.)",
            ratio=f"{run['rate'] / ceiling[1]:.2f} / {run['rate'] / ceiling[4]:.2f}",
            aim="0 duplicates, 0 lost, every unsubscribed skipped",
            holds=run["duplicates"] == 0
            and run["lost"] == 0
            and run["skipped"] == run["unsubscribed"]
            and run["reached_unsubscribed"] == 0,
        )


def _addresses_expected(app, slug: str, leaving: set[str]) -> set[str]:
    """The recipients who should have got the mail: every one but the unsubscribed."""
    from sqlalchemy import select

    from campaigns.models import Campaign, Recipient
    from core.extensions import db
    from gated.models import Lead

    with app.app_context():
        rows = db.session.scalars(
            select(Lead.email)
            .join(Recipient, Recipient.lead_id == Lead.id)
            .join(Campaign, Campaign.id == Recipient.campaign_id)
            .where(Campaign.slug == slug)
        ).all()
        db.session.remove()
    return {address.lower() for address in rows} - {address.lower() for address in leaving}
