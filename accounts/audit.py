"""The audit log: every staff action that changes data or reads personal data in bulk,
stored from core.signals.staff_action, so no package imports this one.

Senders send after their own commit (the docstring of core.signals says how); the
listener writes the entry in a transaction of its own, so an entry never carries a change
that was rolled back, and a change never waits on its entry. Where the action came from
is read from the request (the client's address through ProxyFix, its user agent); a
command run in a shell is recorded as coming from the command line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app, g, has_request_context, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import delete, event, func, select

from accounts.labels import audit_action_label, audit_details
from accounts.models import AuditEntry, User
from core.extensions import db
from core.localtime import iso_local, site_zone, zone, zone_label
from core.signals import send_staff_action, staff_action
from core.spreadsheet import csv_text
from core.timeutil import utcnow

COMMAND_LINE = "command line"
PRUNE_BATCH = 1000
# A staff request that changed data without naming its action (saving an article, a
# segment, a campaign, a sequence…): recorded by the page it was sent from.
CHANGE = "staff.change"
CHANGING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def record(sender, action: str, user=None, target: str = "", details: dict | None = None, **extra) -> None:
    """The staff_action receiver: one entry, committed on its own."""
    ip, agent = "", COMMAND_LINE
    if has_request_context():
        ip, agent = request.remote_addr or "", request.user_agent.string
    if has_request_context():
        g.audit_recorded = True
    entry = AuditEntry(
        at=extra.get("now") or utcnow(),
        user_id=getattr(user, "id", None),
        user_email=getattr(user, "email", "") or "",
        action=action[:60],
        target=str(target or "")[:120],
        ip=ip[:45],
        user_agent=agent[:300],
        details=details or {},
    )
    db.session.add(entry)
    db.session.commit()


@dataclass(frozen=True)
class AuditFilters:
    """The audit page's filters, read from its query string (the export reads the same)."""

    user: str = ""
    action: str = ""
    target: str = ""
    since: date | None = None
    until: date | None = None

    @classmethod
    def from_args(cls, args) -> AuditFilters:
        return cls(
            user=args.get("user", "").strip()[:254],
            action=args.get("action", "").strip()[:60],
            target=args.get("target", "").strip()[:120],
            since=_day(args.get("since", "")),
            until=_day(args.get("until", "")),
        )

    def as_args(self) -> dict:
        found = {"user": self.user, "action": self.action, "target": self.target}
        found |= {"since": self.since.isoformat() if self.since else ""}
        found |= {"until": self.until.isoformat() if self.until else ""}
        return {name: value for name, value in found.items() if value}


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if len(text) == 10 else None
    except ValueError:
        return None


def _utc_start(day: date) -> datetime:
    """The first instant of `day` in the reader's zone, as naive UTC (how times are stored)."""
    local = datetime.combine(day, time.min, tzinfo=zone())
    return local.astimezone(UTC).replace(tzinfo=None)


def entry_query(filters: AuditFilters):
    query = select(AuditEntry)
    if filters.user:
        query = query.where(AuditEntry.user_email == filters.user.lower())
    if filters.action:
        query = query.where(AuditEntry.action == filters.action)
    if filters.target:
        query = query.where(AuditEntry.target.contains(filters.target, autoescape=True))
    if filters.since:
        query = query.where(AuditEntry.at >= _utc_start(filters.since))
    if filters.until:
        query = query.where(AuditEntry.at < _utc_start(filters.until + timedelta(days=1)))
    return query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())


def entries(filters: AuditFilters, *, page: int, per_page: int) -> tuple[list[AuditEntry], int]:
    """One page of matching entries, newest first, and how many match in all."""
    query = entry_query(filters)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    return list(rows), total or 0


def known_actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))


def known_users() -> list[str]:
    emails = select(User.email).union(select(AuditEntry.user_email).where(AuditEntry.user_email != ""))
    return sorted(db.session.scalars(emails))


def export_header() -> list[str]:
    """The export's column names in the reader's language; the time column names the
    site's zone, in which every time is given with its offset from UTC."""
    return [
        _("Time (%(zone)s, ISO 8601 with UTC offset)", zone=zone_label(site_zone())),
        _("Who"),
        _("Action"),
        _("Action code"),
        _("Target"),
        _("IP address"),
        _("Browser"),
        _("What changed"),
        _("Details as recorded (JSON)"),
    ]


def export_csv(filters: AuditFilters) -> str:
    """The matching entries as CSV through core.spreadsheet, as the page shows them (the
    action and what changed in the reader's words, the time in the site's zone as ISO 8601
    with its offset), with the action's code and the details exactly as stored for
    programs that read the file (the code is what the page's filter takes)."""
    site = site_zone()
    rows = (
        (
            iso_local(entry.at, tz=site),
            entry.user_email or _("(not signed in)"),
            audit_action_label(entry.action),
            entry.action,
            entry.target,
            entry.ip,
            where_from(entry),
            "\n".join(
                _("%(name)s: %(value)s", name=name, value=value)
                for name, value in audit_details(entry.action, entry.details)
            ),
            json.dumps(entry.details, ensure_ascii=False, sort_keys=True),
        )
        for entry in db.session.scalars(entry_query(filters))
    )
    return csv_text(export_header(), rows)


def where_from(entry: AuditEntry) -> str:
    """The entry's browser (its user agent), or the command line in the reader's words."""
    return _("command line") if entry.user_agent == COMMAND_LINE else entry.user_agent


def prune(now: datetime, stop=None) -> dict:
    """Delete entries older than AUDIT_RETENTION_DAYS, a batch at a time (the worker's
    background job); 0 days keeps them for ever."""
    days = current_app.config["AUDIT_RETENTION_DAYS"]
    if days <= 0:
        return {}
    cutoff = now - timedelta(days=days)
    ids = select(AuditEntry.id).where(AuditEntry.at < cutoff).limit(PRUNE_BATCH)
    found = list(db.session.scalars(ids))
    if not found:
        return {}
    db.session.execute(delete(AuditEntry).where(AuditEntry.id.in_(found)))
    db.session.commit()
    return {"audit_pruned": len(found)}


def _note_flushed_change(session, _context) -> None:
    """A flush that writes something, in a request: the request changed data."""
    if has_request_context() and (
        session.new or session.deleted or any(session.is_modified(row) for row in session.dirty)
    ):
        g.audit_data_changed = True


def _note_statement_change(state) -> None:
    """An INSERT, UPDATE or DELETE statement run through the session (bulk changes)."""
    if has_request_context() and (state.is_insert or state.is_update or state.is_delete):
        g.audit_data_changed = True


def record_unnamed_change(response):
    """after_request: a staff view (one with a role guard) that changed data and named no
    action of its own is still in the log, as a change made on its page. Refused and
    failed requests changed nothing (their transaction rolled back)."""
    if (
        request.method in CHANGING_METHODS
        and response.status_code < 400
        and g.get("audit_data_changed")
        and not g.get("audit_recorded")
        and getattr(current_app.view_functions.get(request.endpoint), "allowed_roles", None)
        and current_user.is_authenticated
    ):
        send_staff_action(CHANGE, user=current_user, target=request.path)  # record() cuts it to fit
    return response


def init_app(app) -> None:
    staff_action.connect(record, weak=False)
    app.after_request(record_unnamed_change)
    # The session's hooks are its class's, once per process however many apps are made.
    for name, listener in (("after_flush", _note_flushed_change), ("do_orm_execute", _note_statement_change)):
        if not event.contains(db.session, name, listener):
            event.listen(db.session, name, listener)
