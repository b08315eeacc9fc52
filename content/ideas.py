"""What to write next: ideas with their evidence, from the places readers show what the
content lacks, each one click from a planned piece (content.planning).

Sources register themselves (add_idea_source) from their own init_app, so content never
imports the packages above it: content's search adds the searches that found nothing
and the pages people leave to search again, the assistant its unsolved questions. A
source's `find(since, until, limit)` returns Ideas, most telling first.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from content.planning import PlannedPiece, planned_ideas

EXTENSION = "lodestar.idea_sources"
WINDOW = timedelta(days=90)
PER_SOURCE = 20


@dataclass(frozen=True)
class Idea:
    """A piece to write: `key` names it for good ("search:单点登录"), `title` is the
    suggested working title, `count` and `last_at` the evidence; `rate`, when given, the
    share of those `count` views that ended the visit (a page people leave)."""

    key: str
    title: str
    count: int
    last_at: datetime | None
    kind: str = "help"
    rate: float | None = None


@dataclass(frozen=True)
class IdeaSource:
    name: str
    label: object
    find: Callable[[datetime, datetime, int], list[Idea]]


@dataclass
class IdeaGroup:
    source: IdeaSource
    ideas: list[Idea]
    planned: dict[str, PlannedPiece] = field(default_factory=dict)


def add_idea_source(app, name: str, label, find: Callable[[datetime, datetime, int], list[Idea]]) -> None:
    """Offer ideas on the "what to write next" page: `label` (lazy-translatable) heads
    them; `find(since, until, limit)` returns them."""
    app.extensions.setdefault(EXTENSION, []).append(IdeaSource(name, label, find))


def idea_sources(app) -> list[IdeaSource]:
    return app.extensions.get(EXTENSION, [])


def what_to_write_next(app, *, now: datetime, window: timedelta = WINDOW) -> list[IdeaGroup]:
    """Each source's ideas over the last `window`, with the plans already made of them."""
    groups = [IdeaGroup(source, source.find(now - window, now, PER_SOURCE)) for source in idea_sources(app)]
    planned = planned_ideas([idea.key for group in groups for idea in group.ideas])
    for group in groups:
        group.planned = {idea.key: planned[idea.key] for idea in group.ideas if idea.key in planned}
    return groups
