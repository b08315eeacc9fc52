"""Synonyms learned from use: pairs of searches that visitors' behaviour says mean the
same, proposed to an editor with the evidence, accepted or rejected in one click.

Two signs, both from the search log (SearchQuery):
- same click: two different searches led visitors to open the same article;
- rephrased: a search that found nothing, followed in the same visit (within
  REPHRASE_WINDOW) by a different search whose result was opened.

A pair already in one synonym group is not proposed; a rejected pair never again. An
accepted pair joins the group that holds one of its terms, or becomes a group.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from hashlib import sha256
from itertools import combinations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from content.search.models import SearchQuery, Synonym, SynonymProposal
from content.search.queries import normalise
from core.extensions import db

REPHRASE_WINDOW = timedelta(minutes=30)
# Searches longer than this are sentences, not terms a synonym group can hold.
MAX_TERM_CHARS = 30
MAX_EVIDENCE = 10


class ProposalGone(LookupError):
    """The proposal does not exist or was decided already."""


def visit_key(secret: str, address: str, agent: str, now: datetime) -> str:
    """Who searched, as far as "the same visit" needs: a hash of the address and browser
    salted with the key and the day, so no visitor can be followed from one day to the
    next and nothing identifying is stored."""
    material = "\n".join((secret or "", now.strftime("%Y-%m-%d"), address or "", agent or ""))
    return sha256(material.encode("utf-8", "replace")).hexdigest()[:32]


@dataclass
class _Pair:
    evidence: list
    strength: int = 0


def _term(normalised: str) -> bool:
    return 2 <= len(normalised) <= MAX_TERM_CHARS


def _key(a: str, b: str) -> tuple[str, str] | None:
    """The pair in sorted order, or None when it is no synonym (the same search, or one
    a refinement of the other: 续费 and 续费流程)."""
    if a == b or a in b or b in a or not (_term(a) and _term(b)):
        return None
    return (a, b) if a < b else (b, a)


def candidates(since: datetime, until: datetime) -> dict[tuple[str, str], _Pair]:
    """Every pair the log of a period supports, with its evidence."""
    rows = db.session.execute(
        select(
            SearchQuery.normalised,
            SearchQuery.results,
            SearchQuery.clicked_article_id,
            SearchQuery.visit,
            SearchQuery.created_at,
        )
        .where(SearchQuery.created_at >= since, SearchQuery.created_at < until)
        .order_by(SearchQuery.visit, SearchQuery.created_at, SearchQuery.id)
    ).all()
    pairs: dict[tuple[str, str], _Pair] = {}

    def add(key, evidence, strength):
        pair = pairs.setdefault(key, _Pair([]))
        pair.strength += strength
        if len(pair.evidence) < MAX_EVIDENCE:
            pair.evidence.append(evidence)

    clicks: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for normalised, _results, article_id, _visit, _at in rows:
        if article_id is not None:
            clicks[article_id][normalised] += 1
    for article_id, searches in sorted(clicks.items()):
        for a, b in combinations(sorted(searches), 2):
            key = _key(a, b)
            if key:
                count = min(searches[a], searches[b])
                add(key, {"kind": "same-click", "article_id": article_id, "count": count}, count)
    for number, (normalised, results, _article, visit, at) in enumerate(rows):
        if results or not visit:
            continue
        for later, _later_results, later_article, later_visit, later_at in rows[number + 1 :]:
            if later_visit != visit or later_at - at > REPHRASE_WINDOW:
                break
            key = _key(normalised, later)
            if later_article is not None and key:
                add(key, {"kind": "rephrased", "article_id": later_article, "count": 1}, 1)
                break
    return pairs


def _grouped(synonyms: list[list[str]]) -> set[tuple[str, str]]:
    known = set()
    for terms in synonyms:
        folded = sorted({normalise(term) for term in terms or []})
        known.update(combinations(folded, 2))
    return known


def propose(*, since: datetime, now: datetime) -> int:
    """Store or refresh the pending proposals the log since `since` supports. Returns
    how many pairs are pending after it."""
    pairs = candidates(since, now)
    known = _grouped(db.session.scalars(select(Synonym.terms)).all())
    existing = {(row.first, row.second): row for row in db.session.scalars(select(SynonymProposal))}
    for key, pair in pairs.items():
        row = existing.get(key)
        if key in known or (row is not None and row.status != "pending"):
            continue
        if row is None:
            row = SynonymProposal(first=key[0], second=key[1], created_at=now)
            db.session.add(row)
        row.evidence, row.strength = pair.evidence, pair.strength
    db.session.commit()
    return len(pending())


def pending(limit: int = 100) -> list[SynonymProposal]:
    """Proposals waiting for an editor, the best supported first."""
    return db.session.scalars(
        select(SynonymProposal)
        .where(SynonymProposal.status == "pending")
        .order_by(SynonymProposal.strength.desc(), SynonymProposal.id)
        .limit(limit)
    ).all()


def _undecided(proposal_id: int) -> SynonymProposal:
    row = db.session.get(SynonymProposal, proposal_id)
    if row is None or row.status != "pending":
        raise ProposalGone(_l("This suggestion was already decided."))
    return row


def accept(proposal_id: int, *, user_id: int | None, now: datetime) -> Synonym:
    """Add the pair to the synonyms (into the group that holds one of its terms, else
    as a new group) and record who decided. Raises ProposalGone."""
    row = _undecided(proposal_id)
    pair = [row.first, row.second]
    group = None
    for candidate in db.session.scalars(select(Synonym).order_by(Synonym.id)):
        folded = {normalise(term) for term in candidate.terms or []}
        if folded & set(pair):
            group = candidate
            break
    if group is None:
        group = Synonym(terms=pair, origin="learned", created_at=now, updated_at=now)
        db.session.add(group)
    else:
        folded = {normalise(term) for term in group.terms}
        group.terms = [*group.terms, *(term for term in pair if term not in folded)]
        group.updated_at = now
    row.status, row.decided_at, row.decided_by_id = "accepted", now, user_id
    db.session.commit()
    return group


def reject(proposal_id: int, *, user_id: int | None, now: datetime) -> None:
    """Never propose this pair again; record who decided. Raises ProposalGone."""
    row = _undecided(proposal_id)
    row.status, row.decided_at, row.decided_by_id = "rejected", now, user_id
    db.session.commit()
