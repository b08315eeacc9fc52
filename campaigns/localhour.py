"""A campaign sent at a local hour (`local_time: "09:00"`): each recipient's mail is due
at that hour in their own time zone (a lead without one: the site's, LODESTAR_TIMEZONE).

The send starts at the campaign's `send_at`, the hour in the site's zone on some date;
each recipient's mail is then due at the hour on that same date in their zone, or on the
next date where that has already passed (zones ahead of the site's). Computed at queue
time for the few zones the recipients live in, and written by the same INSERT … SELECT
as a CASE over the lead's zone: no loop over recipients.
"""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import ColumnElement, Select, case, func, literal

from core.extensions import db
from core.localtime import is_time_zone
from core.timeutil import to_naive_utc
from gated.models import Lead


def local_moment(clock: time, day, zone_name: str, *, not_before: datetime) -> datetime:
    """The first `clock` in `zone_name` on `day` or the day after, at or after
    `not_before` (naive UTC); naive UTC. Daylight saving is the zone's own: 09:00 in New
    York is 14:00 UTC in winter and 13:00 UTC in summer."""
    zone = ZoneInfo(zone_name)
    for offset in (0, 1, 2):
        moment = to_naive_utc(datetime.combine(day + timedelta(days=offset), clock, tzinfo=zone))
        if moment >= not_before:
            return moment
    return not_before


def due_at(campaign, *, now: datetime, rows: Select) -> ColumnElement:
    """The SQL value of each queued mail's due time: `now`, or for a local-hour campaign
    the hour in the zone of the lead (`Lead` joined in `rows`, the SELECT being queued,
    whose leads' zones are read first)."""
    if not campaign.local_time:
        return literal(now)
    site = current_app.config["TIMEZONE"]
    clock = time.fromisoformat(campaign.local_time)
    start = campaign.send_at or now
    day = start.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(site)).date()
    zones = set(db.session.scalars(rows.with_only_columns(Lead.timezone).distinct())) | {site}
    moments = {
        name: local_moment(clock, day, name, not_before=now) for name in zones if name and is_time_zone(name)
    }
    lead_zone = func.coalesce(func.nullif(Lead.timezone, ""), site)
    return case(
        *((lead_zone == name, literal(moment)) for name, moment in sorted(moments.items())),
        else_=literal(moments[site]),
    )
