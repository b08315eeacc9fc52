"""The assistant's figures for editors: the deflection rate (conversations solved by the
articles / all conversations) by week and by tier, the unsolved questions grouped into a
to-write list, and which articles help and which never do.

Counted in Python over one period's rows, so SQLite and PostgreSQL agree on weeks; a
week is the site's (TIMEZONE), Monday to Sunday, as the insights page counts them.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from assistant.models import Conversation
from content.ideas import Idea
from content.search.queries import normalise
from core.extensions import db
from core.localtime import day_of, site_zone

# Chinese is written without spaces: "单点登录 怎么配置" is "单点登录怎么配置".
_CJK_SPACE = re.compile(r"(?<=[\u3400-\u9fff])\s+|\s+(?=[\u3400-\u9fff])")
_PUNCTUATION = re.compile(r"[\s?？!！。.,，、;；:：\"'“”‘’()（）]+")


@dataclass
class Rate:
    label: str
    total: int = 0
    solved: int = 0
    start: date | None = None  # the Monday of a week's rate

    @property
    def rate(self) -> float:
        return self.solved / self.total if self.total else 0.0


@dataclass
class Group:
    key: str
    example: str
    count: int = 0
    last_at: datetime | None = None
    conversation_ids: list[int] = field(default_factory=list)


def _conversations(since: datetime, until: datetime) -> list[Conversation]:
    return db.session.scalars(
        select(Conversation)
        .where(Conversation.created_at >= since, Conversation.created_at < until)
        .options(selectinload(Conversation.rounds), selectinload(Conversation.tier))
        .order_by(Conversation.created_at)
    ).all()


def week_start(moment: datetime) -> date:
    """The Monday of the site's week in which a stored time (naive UTC) falls."""
    day = day_of(moment, site_zone())
    return day - timedelta(days=day.weekday())


def deflection(since: datetime, until: datetime) -> dict:
    """{"overall": Rate, "weeks": [Rate by ISO week, oldest first], "tiers": [Rate]}."""
    overall = Rate(_("All"))
    weeks: dict[date, Rate] = {}
    tiers: dict[tuple[int, str], Rate] = {}
    for conversation in _conversations(since, until):
        solved = conversation.status == "solved"
        start = week_start(conversation.created_at)
        tier = conversation.tier
        tier_key = (tier.level, tier.name) if tier is not None else (99, _("Not identified"))
        for rate in (
            overall,
            weeks.setdefault(start, Rate(start.isoformat(), start=start)),
            tiers.setdefault(tier_key, Rate(tier_key[1])),
        ):
            rate.total += 1
            rate.solved += solved
    return {
        "overall": overall,
        "weeks": [weeks[key] for key in sorted(weeks)],
        "tiers": [tiers[key] for key in sorted(tiers)],
    }


def question_key(text: str) -> str:
    """The form under which questions count as the same: folded, no punctuation."""
    key = _PUNCTUATION.sub(" ", normalise(text)).strip()
    return _CJK_SPACE.sub("", key)


def unsolved(since: datetime, until: datetime, *, limit: int = 100) -> list[Group]:
    """The questions the articles did not answer (handed to a person, or left after a
    "not yet"), grouped by their normalised text, most asked first: what to write next."""
    groups: dict[str, Group] = {}
    for conversation in _conversations(since, until):
        gave_up = any(round_.answer == "not_yet" for round_ in conversation.rounds)
        if conversation.status == "solved" or not (gave_up or conversation.status != "open"):
            continue
        key = question_key(conversation.question)
        group = groups.setdefault(key, Group(key, conversation.question))
        group.count += 1
        group.example = conversation.question
        group.last_at = conversation.created_at
        group.conversation_ids.append(conversation.id)
    ranked = sorted(groups.values(), key=lambda g: (-g.count, -(g.last_at or since).timestamp()))
    return ranked[:limit]


def articles(since: datetime, until: datetime) -> list[dict]:
    """Per article offered: how often, and how often its round was the one that solved it."""
    offered: Counter = Counter()
    solved: Counter = Counter()
    titles: dict[int, str] = {}
    urls: dict[int, str] = {}
    for conversation in _conversations(since, until):
        for round_ in conversation.rounds:
            for item in round_.offered:
                offered[item["id"]] += 1
                titles[item["id"]], urls[item["id"]] = item["title"], item["url"]
                solved[item["id"]] += round_.answer == "solved"
    rows = [
        {"id": key, "title": titles[key], "url": urls[key], "offered": count, "solved": solved[key]}
        for key, count in offered.items()
    ]
    return sorted(rows, key=lambda row: (-row["offered"], row["solved"], row["title"]))


def write_next(since: datetime, until: datetime, limit: int) -> list[Idea]:
    """The unsolved questions as ideas for content's "what to write next" list."""
    return [
        Idea(f"assistant:{group.key}"[:200], group.example, group.count, group.last_at)
        for group in unsolved(since, until, limit=limit)
    ]
