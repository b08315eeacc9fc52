"""Demo events: six weeks of plausible visits (landings by channel, second pages, forms
opened, searches) on the demo articles, so the dashboards are not empty after `make run`.
Idempotent: the demo visitors' ids start with "demo" and are written once."""

import random
from datetime import timedelta

from sqlalchemy import insert, select

from core.extensions import db
from core.timeutil import utcnow
from insights import rollups
from insights.dashboards import article_titles
from insights.models import Event

DAYS = 42
CHANNEL_WEIGHTS = {
    "organic_search": 40,
    "direct": 20,
    "paid_search": 15,
    "social": 10,
    "referral": 7,
    "email": 5,
    "partner": 3,
}
SEARCHES = ("续费", "客户成功", "pricing", "CRM 集成", "onboarding", "私有化部署")


def _visits(rng: random.Random, paths: list[str], now) -> list[dict]:
    channels, weights = list(CHANNEL_WEIGHTS), list(CHANNEL_WEIGHTS.values())
    rows = []
    for day in range(DAYS, 0, -1):
        for number in range(rng.randint(25, 45) + (DAYS - day) // 2):
            visitor = f"demo{day:03d}{number:04d}".ljust(32, "0")
            at = (now - timedelta(days=day)).replace(hour=rng.randint(0, 23), minute=rng.randint(0, 59))
            channel = rng.choices(channels, weights)[0]
            landing = rng.choice(paths)
            pages = [landing] + rng.sample(paths, k=min(len(paths), rng.choice((0, 0, 1, 2, 3))))
            for seq, path in enumerate(pages, start=1):
                base = dict(visitor_id=visitor, lead_id=None, channel=channel, landing=landing, value="")
                rows.append(dict(base, kind="page_view", path=path, visit_seq=min(seq, 3), occurred_at=at))
                if path.startswith("/library/"):
                    rows.append(
                        dict(
                            base, kind="form_view", path=path, value="whitepaper", visit_seq=0, occurred_at=at
                        )
                    )
                at += timedelta(seconds=rng.randint(20, 240))
            papers = [path for path in pages if path.startswith("/library/")]
            if papers and rng.random() < 0.25:
                rows += _conversion(rng, visitor, papers[0], channel, landing, at, now)
            if rng.random() < 0.15:
                query = rng.choice(SEARCHES)
                rows.append(
                    dict(
                        visitor_id=visitor,
                        lead_id=None,
                        channel=channel,
                        landing=landing,
                        kind="search",
                        path="/search",
                        value=query,
                        visit_seq=0,
                        occurred_at=at,
                    )
                )
    return rows


def _conversion(
    rng: random.Random, visitor: str, path: str, channel: str, landing: str, at, now
) -> list[dict]:
    """A demo form submission, and for some the stage changes that followed (demo events
    stand alone: they belong to no lead)."""
    base = dict(visitor_id=visitor, lead_id=None, channel=channel, path=path, visit_seq=0)
    rows = [dict(base, kind="form_submit", value="whitepaper", landing=landing, occurred_at=at)]
    stage = "new"
    for new, chance in (("mql", 0.4), ("sql", 0.5), ("customer", 0.3)):
        if rng.random() >= chance:
            break
        at += timedelta(days=rng.randint(1, 6))
        if at >= now:
            break
        rows.append(
            dict(base, kind="stage_change", path="", value=f"{stage}>{new}", landing="", occurred_at=at)
        )
        stage = new
    return rows


def load(echo) -> None:
    if db.session.scalar(select(Event.id).where(Event.visitor_id.like("demo%")).limit(1)):
        return
    paths = sorted(article_titles())
    if not paths:
        return
    now = utcnow()
    rows = _visits(random.Random(9), paths, now)
    db.session.execute(insert(Event), rows)
    db.session.commit()
    days = rollups.rollup(now=now)
    echo(f"insights: {len(rows)} demo events, {days} days rolled up")
