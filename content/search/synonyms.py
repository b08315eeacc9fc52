"""Synonym groups: the shipped dictionary loaded into an empty table, the groups staff edit,
the query-time map (re-read only when the table changed), and the groups learned from use
(content.search.learning) that staff accept or reject."""

import logging
import time
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select

from content.models import Article
from content.search import learning, queries
from content.search.analysis import load_dictionary
from content.search.models import Synonym
from content.search.state import state
from core.extensions import db

log = logging.getLogger(__name__)


class InvalidSynonym(ValueError):
    """A synonym group that cannot be saved (fewer than two terms, too long)."""


def ensure_synonyms(*, now: datetime) -> int:
    """Load the shipped dictionary into the Synonym table when it is empty. Returns the
    number of groups added."""
    if db.session.scalar(select(func.count(Synonym.id))):
        return 0
    groups = load_dictionary().get("synonyms", [])
    for group in groups:
        db.session.add(
            Synonym(terms=[str(term) for term in group], origin="shipped", created_at=now, updated_at=now)
        )
    db.session.commit()
    return len(groups)


def synonym_map(*, now: datetime) -> queries.SynonymMap:
    """The synonym groups as a query-time map, re-read at most once a second and only
    when the table changed."""
    current = state()
    if current.synonyms is not None and time.monotonic() - current.synonyms_checked < 1.0:
        return current.synonyms
    with current.lock:
        try:
            signature = tuple(
                db.session.execute(select(func.count(Synonym.id), func.max(Synonym.updated_at))).one()
            )
            if not signature[0]:
                ensure_synonyms(now=now)
                signature = tuple(
                    db.session.execute(select(func.count(Synonym.id), func.max(Synonym.updated_at))).one()
                )
        except Exception:  # noqa: BLE001 - search works without synonyms (e.g. table missing)
            db.session.rollback()
            log.exception("synonyms unavailable")
            return current.synonyms or queries.SynonymMap()
        current.synonyms_checked = time.monotonic()
        if signature != current.synonyms_signature or current.synonyms is None:
            groups = db.session.scalars(select(Synonym.terms)).all()
            current.synonyms = queries.SynonymMap.build([list(g or []) for g in groups])
            current.synonyms_signature = signature
    return current.synonyms


def parse_terms(text: str) -> list[str]:
    """Terms typed in the admin: separated by "=", commas (also full-width) or new lines."""
    cleaned = queries.clean(str(text or "").replace("\n", ","))
    for separator in ("=", "，", "、", ";", "；"):
        cleaned = cleaned.replace(separator, ",")
    terms = []
    for term in cleaned.split(","):
        term = " ".join(term.split())
        if term and term.lower() not in (t.lower() for t in terms):
            terms.append(term)
    return terms


def list_synonyms(filter_text: str = "") -> list[Synonym]:
    rows = db.session.scalars(select(Synonym).order_by(Synonym.id)).all()
    needle = queries.normalise(filter_text)
    if needle:
        rows = [row for row in rows if any(needle in queries.normalise(term) for term in row.terms or [])]
    return rows


def save_synonym(synonym_id: int | None, text: str, *, now: datetime) -> Synonym:
    """Create or change a group. Raises InvalidSynonym and stores nothing on bad input."""
    terms = parse_terms(text)
    if len(terms) < 2:
        raise InvalidSynonym(_l("A group needs at least two terms."))
    if any(len(term) > 60 for term in terms) or len(terms) > 20:
        raise InvalidSynonym(_l("Keep to 20 terms of at most 60 characters."))
    row = db.session.get(Synonym, synonym_id) if synonym_id else None
    if synonym_id and row is None:
        raise InvalidSynonym(_l("This group no longer exists."))
    if row is None:
        row = Synonym(origin="admin", created_at=now)
        db.session.add(row)
    row.terms, row.updated_at = terms, now
    db.session.commit()
    state().synonyms_checked = float("-inf")
    return row


def shared_terms(group: Synonym) -> list[tuple[str, list[str]]]:
    """(term, the other group's terms) for each term of `group` that another group has
    too: a search for it finds the words of both, which the editor should know (the
    shipped 教程 means a tutorial and a guide, on purpose; a typo'd copy does not)."""
    wanted = {queries.normalise(term): term for term in group.terms or []}
    found = []
    for row in db.session.scalars(select(Synonym).where(Synonym.id != group.id).order_by(Synonym.id)):
        for term in row.terms or []:
            if queries.normalise(term) in wanted:
                found.append((wanted[queries.normalise(term)], list(row.terms)))
    return found


def delete_synonym(synonym_id: int) -> bool:
    deleted = db.session.execute(delete(Synonym).where(Synonym.id == synonym_id)).rowcount
    db.session.commit()
    current = state()
    current.synonyms_checked = float("-inf")
    # A deletion does not move max(updated_at) but does change the count, which the
    # signature includes; forget the map anyway so this process sees it at once.
    current.synonyms_signature = None
    return bool(deleted)


LEARNING_DAYS = 90


LEARNING_EVERY = timedelta(hours=1)


def propose_synonyms(*, now: datetime) -> int:
    """Refresh the synonym suggestions from the last LEARNING_DAYS of searches."""
    return learning.propose(since=now - timedelta(days=LEARNING_DAYS), now=now)


def propose_synonyms_job(now: datetime, stop=None) -> dict:
    """The worker's job: suggestions refreshed at most once an hour per worker."""
    current = state()
    if current.proposed_at is not None and now - current.proposed_at < LEARNING_EVERY:
        return {}
    current.proposed_at = now
    return {"suggestions": propose_synonyms(now=now)}


def evidence_titles(proposals) -> dict[int, str]:
    """The titles of the articles the suggestions' evidence names."""
    ids = {item.get("article_id") for row in proposals for item in row.evidence or []}
    ids.discard(None)
    if not ids:
        return {}
    return dict(db.session.execute(select(Article.id, Article.title).where(Article.id.in_(ids))).all())


def accept_proposal(proposal_id: int, *, user_id: int | None, now: datetime) -> Synonym:
    """Accept a suggestion (learning.accept); searches use it at once."""
    group = learning.accept(proposal_id, user_id=user_id, now=now)
    state().synonyms_checked = float("-inf")
    return group


def reject_proposal(proposal_id: int, *, user_id: int | None, now: datetime) -> None:
    learning.reject(proposal_id, user_id=user_id, now=now)
