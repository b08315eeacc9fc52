"""The sync between leads and the CRM, run by the worker (core.hooks.add_background_job).

The rules, before the code that keeps them:
- A lead is tied to a CRM record by the record's own id (crm_links), never by email: a
  lead whose address changes updates the same record, so the CRM never gets a duplicate.
- A lead is queued for a push (push_due_at) inside the transaction that changed it (a
  capture, an import, an API upsert, a stage change). A push sends the lead's values only
  if they differ from the last ones pushed (pushed_hash): a re-run sends nothing.
- A CRM that answers 429, 5xx or not at all leaves the lead queued with a growing delay
  (the CRM's Retry-After when it gives one), up to CRM_MAX_ATTEMPTS; a refusal is logged
  and waits for the lead's next change. Each lead commits on its own, so one failure
  never loses another's progress.
- A stage pulled from the CRM (or reported by the signed webhook) moves the lead through
  gated's own set_stage, so insights records the change (attribution, the digest) as for
  a move in the admin; the lead is then in step and is not pushed back.
- Every push, pull and webhook writes entries to the sync log: what went where, or why not.
"""

import hashlib
import json
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from api.crm import hubspot
from api.crm.adapter import CRM_STAGES, CrmRefused, CrmUnavailable, Person, RecordGone
from api.crm.models import CrmLink, CrmSyncEntry, CrmSyncRun
from core.extensions import db
from core.schema import upsert_insert
from gated.models import Lead
from gated.stages import set_stage

BATCH = 50
ADAPTERS = {"hubspot": hubspot.from_config}


def adapter():
    """The configured adapter (CRM_ADAPTER), or None when the sync is off."""
    make = ADAPTERS.get(current_app.config["CRM_ADAPTER"])
    return make(current_app.config) if make else None


def crm_name() -> str:
    return current_app.config["CRM_ADAPTER"]


def person(lead: Lead) -> Person:
    return Person(lead.email, lead.name, lead.company, lead.job_title, lead.phone, lead.stage)


def digest(values: Person) -> str:
    return hashlib.sha256(json.dumps(values.__dict__, sort_keys=True).encode()).hexdigest()


def queue_push(lead_id: int, *, now: datetime) -> None:
    """Inside the caller's transaction: the lead waits to be pushed."""
    if not crm_name():
        return
    statement = upsert_insert(db.session.get_bind(), CrmLink).values(
        crm=crm_name(), lead_id=lead_id, push_due_at=now, attempts=0, pushed_hash="", last_error=""
    )
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["crm", "lead_id"], set_={"push_due_at": now, "attempts": 0}
        )
    )


def _log(
    run: CrmSyncRun | None,
    outcome: str,
    *,
    lead_id=None,
    record_id="",
    direction="out",
    detail="",
    now,
    crm=None,
) -> None:
    db.session.add(
        CrmSyncEntry(
            run_id=run.id if run else None,
            crm=crm or crm_name(),
            lead_id=lead_id,
            record_id=record_id or "",
            direction=direction,
            outcome=outcome,
            detail=detail[:500],
            created_at=now,
        )
    )
    if run is not None:
        run.counts = {**run.counts, outcome: run.counts.get(outcome, 0) + 1}


def _start(kind: str, now: datetime) -> CrmSyncRun:
    run = CrmSyncRun(crm=crm_name(), kind=kind, started_at=now, counts={})
    db.session.add(run)
    db.session.commit()
    return run


def _backoff(link: CrmLink, error: CrmUnavailable, now: datetime) -> datetime | None:
    if link.attempts >= current_app.config["CRM_MAX_ATTEMPTS"]:
        return None
    if error.retry_after:
        return now + timedelta(seconds=min(error.retry_after, 3600))
    return now + timedelta(minutes=min(2 ** (link.attempts - 1), 60))


def _push_one(crm, link: CrmLink, run: CrmSyncRun, now: datetime) -> None:
    lead = db.session.get(Lead, link.lead_id)
    due = link.push_due_at
    values = person(lead)
    wanted = digest(values)
    state = {"push_due_at": None, "attempts": 0, "last_error": ""}
    if link.record_id and link.pushed_hash == wanted:
        _log(run, "unchanged", lead_id=lead.id, record_id=link.record_id, now=now)
    else:
        try:
            try:
                record_id, created = crm.push(link.record_id, values)
            except RecordGone:
                record_id, created = crm.push(None, values)
            outcome = "created" if created else "updated"
            state.update(record_id=record_id, pushed_hash=wanted, pushed_at=now)
            _log(run, outcome, lead_id=lead.id, record_id=record_id, detail=f"stage {lead.stage}", now=now)
        except CrmUnavailable as exc:
            attempts = link.attempts + 1
            link.attempts = attempts
            state.update(attempts=attempts, push_due_at=_backoff(link, exc, now), last_error=str(exc))
            _log(
                run, "retry" if state["push_due_at"] else "failed", lead_id=lead.id, detail=str(exc), now=now
            )
        except CrmRefused as exc:
            state.update(last_error=str(exc))
            _log(run, "failed", lead_id=lead.id, record_id=link.record_id or "", detail=str(exc), now=now)
    # Only if nothing queued the lead again meanwhile: a newer change still gets pushed.
    db.session.execute(
        update(CrmLink)
        .where(CrmLink.id == link.id, CrmLink.push_due_at == due)
        .values(**state)
        .execution_options(synchronize_session=False)
    )
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        _log(run, "failed", lead_id=link.lead_id, detail="the CRM record is tied to another lead", now=now)
        db.session.execute(update(CrmLink).where(CrmLink.id == link.id).values(push_due_at=None))
        db.session.commit()


def push_due(now: datetime, *, limit: int = BATCH) -> dict:
    """Push the leads whose turn has come; returns the run's counts."""
    crm = adapter()
    if crm is None:
        return {}
    links = db.session.scalars(
        select(CrmLink)
        .where(CrmLink.crm == crm_name(), CrmLink.push_due_at <= now)
        .order_by(CrmLink.push_due_at)
        .limit(limit)
    ).all()
    if not links:
        return {}
    run = _start("push", now)
    for link in links:
        _push_one(crm, link, run, now)
    run.finished_at = now
    db.session.commit()
    return dict(run.counts)


def apply_stage(
    record_id: str, stage: str, *, crm: str, run: CrmSyncRun | None, now: datetime, email: str = ""
) -> Lead | None:
    """Inside the caller's transaction: CRM `crm` says its record `record_id` reached
    `stage` (a key of CRM_STAGES). Moves the linked lead (or, for a record we never
    pushed, the lead of `email`, which the record is then tied to); logs an unknown
    record and returns None."""
    link = db.session.scalar(select(CrmLink).where(CrmLink.crm == crm, CrmLink.record_id == record_id))
    if link is None and email:
        lead = db.session.scalar(select(Lead).where(Lead.email == email))
        known = lead is not None and db.session.scalar(
            select(CrmLink).where(
                CrmLink.crm == crm, CrmLink.lead_id == lead.id, CrmLink.record_id.is_not(None)
            )
        )
        if lead is not None and not known:
            statement = upsert_insert(db.session.get_bind(), CrmLink).values(
                crm=crm, lead_id=lead.id, record_id=record_id, pushed_hash="", attempts=0, last_error=""
            )
            db.session.execute(
                statement.on_conflict_do_update(
                    index_elements=["crm", "lead_id"], set_={"record_id": record_id}
                )
            )
            link = db.session.scalar(
                select(CrmLink).where(CrmLink.crm == crm, CrmLink.record_id == record_id)
            )
    if link is None:
        _log(
            run,
            "unknown_record",
            record_id=record_id,
            direction="in",
            detail=f"stage {stage}",
            now=now,
            crm=crm,
        )
        return None
    lead = db.session.get(Lead, link.lead_id)
    new, old = CRM_STAGES[stage], lead.stage
    moved = set_stage(lead, new, now=now)
    detail = f"{stage}: {old} > {new}" if moved else stage
    _log(
        run,
        "stage" if moved else "unchanged",
        lead_id=lead.id,
        record_id=record_id,
        direction="in",
        detail=detail,
        now=now,
        crm=crm,
    )
    # The CRM has this stage already: nothing to push back (set_stage's signal queued it).
    db.session.execute(
        update(CrmLink)
        .where(CrmLink.id == link.id)
        .values(push_due_at=None, pushed_hash=digest(person(lead)), attempts=0)
        .execution_options(synchronize_session=False)
    )
    return lead


def pull(now: datetime) -> dict:
    """Read the CRM's stage changes since the last pull's watermark and apply them."""
    crm = adapter()
    if crm is None:
        return {}
    since = db.session.scalar(
        select(CrmSyncRun.watermark)
        .where(CrmSyncRun.crm == crm_name(), CrmSyncRun.kind == "pull", CrmSyncRun.watermark.is_not(None))
        .order_by(CrmSyncRun.id.desc())
        .limit(1)
    )
    run = _start("pull", now)
    watermark = since
    try:
        for change in crm.changes(since):
            apply_stage(change.record_id, change.stage, crm=crm_name(), run=run, now=now)
            watermark = max(watermark or change.changed_at, change.changed_at)
            db.session.commit()
    except (CrmUnavailable, CrmRefused) as exc:
        db.session.rollback()
        run.error = str(exc)[:500]
    run.watermark, run.finished_at = watermark, now
    db.session.commit()
    return dict(run.counts)


def sync_job(now: datetime, stop=None) -> dict:
    """The worker's slice: due pushes, then a pull when CRM_PULL_MINUTES have passed."""
    if not crm_name():
        return {}
    counts = push_due(now)
    last = db.session.scalar(
        select(CrmSyncRun.started_at)
        .where(CrmSyncRun.crm == crm_name(), CrmSyncRun.kind == "pull")
        .order_by(CrmSyncRun.id.desc())
        .limit(1)
    )
    if last is None or now - last >= timedelta(minutes=current_app.config["CRM_PULL_MINUTES"]):
        for name, number in pull(now).items():
            counts[f"pulled {name}"] = number
    return counts


def on_lead_changed(sender, lead_id, **extra) -> None:
    """Receiver of gated's lead_captured and lead_stage_changed."""
    from core.timeutil import utcnow

    queue_push(lead_id, now=utcnow())
