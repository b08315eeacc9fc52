"""The Whoosh index of public articles, on this node's disk, kept in step with the database.

Layout of INDEX_DIR: one folder per full build (`gen-<stamp>`) and a `CURRENT` file naming
the live one. A rebuild writes a new folder and swaps `CURRENT` atomically (os.replace),
so searches never see half an index; the previous folder is kept one more round for
searchers still reading it.

Staying current, per process:
- after an editor's save (article_changed / article_deleted) the article is re-indexed at
  once, with a short wait for Whoosh's lock and never an error for the editor: if the
  index is busy, the watermark catches up instead;
- before a search, at most once per SEARCH_SYNC_INTERVAL seconds, one aggregate query
  (count, newest updated_at, count of published articles) is compared with the last one
  seen. When it moved, the (id, stamp) pairs of published articles are compared with the
  index's and only the differences are written. This picks up other nodes' edits and
  deletions. A node far behind (a new one, more than BULK differences) rebuilds on a
  background thread instead and serves the index it has meanwhile.

Articles scheduled for later are indexed with the others and hidden at query time
(`hidden`, by their publication date against the search's `now`): what a search finds
depends on its `now` alone, never on the `now` of the syncs before it, and a scheduled
article appears the moment it is due.
"""

import fcntl
import logging
import os
import re
import shutil
import threading
import time
import uuid
from bisect import bisect_right
from collections.abc import Callable, Iterable
from datetime import datetime
from html import unescape
from pathlib import Path

from flask import current_app
from sqlalchemy import and_, case, func, select
from whoosh import index as whoosh_index
from whoosh.fields import DATETIME, ID, STORED, TEXT, Schema
from whoosh.index import LockError

from content.models import Article
from content.search.analysis import BigramTokenizer, PinyinTokenizer, WordTokenizer
from core.extensions import db
from core.timeutil import utcnow

log = logging.getLogger(__name__)

CURRENT = "CURRENT"
REBUILD_LOCK = "REBUILD.lock"
BULK = 500  # more differences than this: rebuild rather than update one by one
LOCK_WAIT = 0.5  # seconds an editor's save may wait for the index lock, at most
BATCH = 200
_HEADING_RE = re.compile(r"<h[1-6][^>]*>(.*?)</h[1-6]>", re.S | re.I)
_TAG_RE = re.compile(r"<[^>]+>")


class RebuildRunning(RuntimeError):
    """Another process is rebuilding this index folder."""


def make_schema() -> Schema:
    words, pairs, pinyin = WordTokenizer(), BigramTokenizer(), PinyinTokenizer()
    return Schema(
        id=ID(stored=True, unique=True, sortable=True),
        stamp=ID(sortable=True),
        slug=ID(stored=True),
        kind=ID(stored=True),
        locale=ID(stored=True),
        category=ID(stored=True),
        url=STORED(),
        published=DATETIME(stored=True, sortable=True),
        title=TEXT(analyzer=words, stored=True),
        title_bi=TEXT(analyzer=pairs),
        summary=TEXT(analyzer=words, stored=True),
        headings=TEXT(analyzer=words),
        tags=TEXT(analyzer=words, stored=True),
        body=TEXT(analyzer=words, stored=True),
        body_bi=TEXT(analyzer=pairs),
        pinyin=TEXT(analyzer=pinyin, phrase=False),
    )


def public_clause(now: datetime):
    return and_(published_clause(), Article.published_at <= now)


def published_clause():
    """The articles the index holds: published, whether already public or scheduled."""
    return and_(Article.status == "published", Article.published_at.is_not(None))


def is_published(article: Article) -> bool:
    return article.status == "published" and article.published_at is not None


def stamp_of(updated_at: datetime | None, published_at: datetime | None) -> str:
    """What says an indexed copy is current: it changes on every save and on rescheduling."""
    return (
        f"{updated_at.isoformat() if updated_at else ''}|{published_at.isoformat() if published_at else ''}"
    )


def headings_of(html: str) -> str:
    return " ".join(unescape(_TAG_RE.sub("", h)).strip() for h in _HEADING_RE.findall(html or ""))


def headings_text(article: Article) -> str:
    """The article's headings: as rendered on save when stored, else read from the HTML."""
    stored = getattr(article, "headings", None)
    if stored:
        return " ".join(str(h.get("text", "")) if isinstance(h, dict) else str(h) for h in stored)
    return headings_of(article.body_html)


def document(article: Article) -> dict:
    """The index document of an article (a video's transcript is part of its body)."""
    headings = headings_text(article)
    body = "\n".join(part for part in (article.body_text, getattr(article, "transcript_text", "")) if part)
    tags = [str(tag) for tag in (article.tags or [])]
    tag_text = " ".join([*tags, article.category or "", (article.slug or "").replace("-", " ")])
    return {
        "id": str(article.id),
        "stamp": stamp_of(article.updated_at, article.published_at),
        "slug": article.slug,
        "kind": article.kind,
        "locale": article.locale or "",
        "category": article.category or "",
        "url": article.url_path,
        "published": article.published_at,
        "title": article.title or "",
        "title_bi": article.title or "",
        "summary": article.summary or "",
        "headings": headings,
        "tags": tag_text,
        "body": body,
        "body_bi": body,
        "pinyin": " ".join([article.title or "", " ".join(tags), article.category or "", headings]),
    }


class SearchIndex:
    """One app's index folder, as this process sees it."""

    def __init__(self, root: str | Path, *, sync_interval: float = 1.0):
        self.root = Path(root)
        self.sync_interval = sync_interval
        self._open_lock = threading.Lock()
        self._sync_lock = threading.Lock()
        self._ix = None
        self._ix_name = None
        self._opened = None
        self._checked_at = float("-inf")
        self._signature = None
        self._rebuilding: threading.Thread | None = None
        self._local = threading.local()
        self._schedule: tuple | None = None

    # Opening -----------------------------------------------------------------------

    def current_name(self) -> str | None:
        try:
            return (self.root / CURRENT).read_text().strip() or None
        except FileNotFoundError:
            return None

    def open(self):
        """The live index, created empty the first time."""
        return self.open_named()[1]

    def open_named(self):
        """(folder name, index) of the live index, read together: another thread may swap
        the folder between two separate reads."""
        name = self.current_name()
        opened = self._opened
        if name and opened is not None and opened[0] == name:
            return opened
        with self._open_lock:
            name = self.current_name()
            if name is None or not whoosh_index.exists_in(self.root / name):
                name = self._new_generation()
                self._swap_to(name)
            if name != self._ix_name:
                self._ix = whoosh_index.open_dir(str(self.root / name))
                self._ix_name = name
                self._opened = (name, self._ix)
                self._signature = None
            return self._opened

    def _new_generation(self) -> str:
        name = f"gen-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
        path = self.root / name
        path.mkdir(parents=True)
        whoosh_index.create_in(str(path), make_schema())
        return name

    def _swap_to(self, name: str) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f"{CURRENT}.{uuid.uuid4().hex}.tmp"
        tmp.write_text(name)
        os.replace(tmp, self.root / CURRENT)

    def _remove_old_generations(self, keep: set[str]) -> None:
        generations = sorted(p for p in self.root.glob("gen-*") if p.is_dir() and p.name not in keep)
        for path in generations:
            shutil.rmtree(path, ignore_errors=True)

    def searcher(self):
        """This thread's searcher, refreshed when the index changed. Opening one reads
        every segment's files, so each thread keeps its own (searchers are not shared
        between threads) rather than opening one per request. Not to be closed."""
        name, ix = self.open_named()
        cached = getattr(self._local, "searcher", None)
        current = cached is not None and getattr(self._local, "name", None) == name
        if not current or not cached.up_to_date():
            # A new searcher, not Searcher.refresh(): in whoosh3 3.54 a refreshed searcher
            # still sees documents deleted from a segment it already had open.
            if cached is not None:
                cached.close()
            cached = ix.searcher()
        self._local.searcher, self._local.name = cached, name
        return cached

    def searcher_name(self) -> str | None:
        """The index folder of this thread's searcher (keys of what is kept per generation:
        the folder and the generation, both of the searcher that was used)."""
        return getattr(self._local, "name", None)

    def hidden(self, searcher, now: datetime) -> frozenset[int]:
        """The searcher's documents not yet public at `now` (scheduled for later)."""
        reader = searcher.reader()
        key = (self._ix_name, reader.generation(), id(reader))
        schedule = self._schedule
        if schedule is None or schedule[0] != key:
            # Publication dates, sorted, with their document numbers: read once per
            # index generation, then a bisection per search.
            column = reader.column_reader("published") if reader.doc_count() else None
            dated = (
                sorted((column[n] or datetime.min, n) for n in reader.all_doc_ids())
                if column is not None
                else []
            )
            schedule = self._schedule = (key, [stamp for stamp, _n in dated], [n for _stamp, n in dated])
        _key, stamps, numbers = schedule
        return frozenset(numbers[bisect_right(stamps, now) :])

    def doc_count(self) -> int:
        return self.open().doc_count()

    def indexed_stamps(self) -> dict[str, str]:
        """{article id: stamp} of every document in the index."""
        with self.open().reader() as reader:
            if reader.doc_count() == 0:
                return {}
            ids, stamps = reader.column_reader("id"), reader.column_reader("stamp")
            return {_text(ids[n]): _text(stamps[n]) for n in reader.all_doc_ids()}

    # Writing -----------------------------------------------------------------------

    def _writer(self, wait: float):
        return self.open().writer(timeout=wait, delay=0.05)

    def apply(self, put: Iterable[Article], remove: Iterable[str], *, wait: float) -> bool:
        """Write documents and deletions in one commit. False when the lock stayed busy."""
        put, remove = list(put), list(remove)
        if not put and not remove:
            return True
        try:
            writer = self._writer(wait)
        except LockError:
            log.info("search index busy: %d changes left for the next sync", len(put) + len(remove))
            return False
        try:
            for article_id in remove:
                writer.delete_by_term("id", article_id)
            for article in put:
                writer.update_document(**document(article))
        except Exception:
            writer.cancel()
            raise
        writer.commit()
        return True

    def article_changed(self, article_id: int, *, now: datetime) -> bool:
        """Index, re-index or drop one article after a save. Never raises on a busy index.
        A scheduled article is indexed too (searches hide it until its time), so `now` is
        not used."""
        article = db.session.get(Article, article_id)
        if article is not None and is_published(article):
            return self.apply([article], [], wait=LOCK_WAIT)
        return self.apply([], [str(article_id)], wait=LOCK_WAIT)

    def article_deleted(self, article_id: int) -> bool:
        return self.apply([], [str(article_id)], wait=LOCK_WAIT)

    # Keeping up with the database -------------------------------------------------------

    def signature(self) -> tuple:
        row = db.session.execute(
            select(
                func.count(Article.id),
                func.max(Article.updated_at),
                func.max(Article.id),
                func.sum(case((published_clause(), 1), else_=0)),
            )
        ).one()
        return tuple(row)

    def sync(self, now: datetime | None = None, *, force: bool = False) -> int | None:
        """Bring the index up to date with the database. Returns the number of documents
        written or removed, or None when skipped (checked recently, another thread busy,
        or the lock held by another process). The index does not depend on the time:
        `now` is accepted for the callers' sake and not used."""
        if not force and time.monotonic() - self._checked_at < self.sync_interval:
            return None
        if not self._sync_lock.acquire(blocking=force):
            return None
        try:
            self._checked_at = time.monotonic()
            self.open()
            signature = self.signature()
            if signature == self._signature and not force:
                return 0
            put_ids, remove = self.differences()
            if not force and len(put_ids) + len(remove) > BULK:
                # A new node, or one far behind: rebuilding is much faster than updating
                # one by one, and a visitor must not wait for it.
                self.rebuild_in_background()
                return None
            written = 0
            for start in range(0, max(len(put_ids), 1), BATCH):
                chunk = put_ids[start : start + BATCH]
                articles = (
                    db.session.scalars(select(Article).where(Article.id.in_(chunk))).all() if chunk else []
                )
                removing = remove if start == 0 else []
                if not self.apply(articles, removing, wait=LOCK_WAIT if not force else 10):
                    return None
                written += len(articles) + len(removing)
            self._signature = signature
            return written
        finally:
            self._sync_lock.release()

    def differences(self) -> tuple[list[int], list[str]]:
        """(ids of published articles missing or outdated in the index, indexed ids to drop)."""
        rows = db.session.execute(
            select(Article.id, Article.updated_at, Article.published_at).where(published_clause())
        ).all()
        wanted = {str(row.id): stamp_of(row.updated_at, row.published_at) for row in rows}
        have = self.indexed_stamps()
        put = [int(key) for key, stamp in wanted.items() if have.get(key) != stamp]
        remove = [key for key in have if key not in wanted]
        return put, remove

    def status(self, now: datetime) -> dict:
        """For the health check: documents, generation, how far behind the database, and
        how many indexed articles are scheduled for after `now`."""
        put, remove = self.differences()
        return {
            "ok": True,
            "documents": self.doc_count(),
            "generation": self._ix_name,
            "stale": bool(put or remove),
            "behind": len(put) + len(remove),
            "scheduled": db.session.scalar(
                select(func.count(Article.id)).where(published_clause(), Article.published_at > now)
            ),
        }

    # Rebuilding --------------------------------------------------------------------------

    def rebuild_in_background(self) -> None:
        """Start a rebuild on a thread, unless one is running in this process or another."""
        if self._rebuilding is not None and self._rebuilding.is_alive():
            return
        app = current_app._get_current_object()

        def run():
            with app.app_context():
                try:
                    self.rebuild(utcnow(), wait=False)
                except RebuildRunning:
                    pass
                except Exception:  # noqa: BLE001 - searches go on with the old index
                    log.exception("background rebuild of the search index failed")

        self._rebuilding = threading.Thread(target=run, name="search-rebuild", daemon=True)
        self._rebuilding.start()

    def rebuild(
        self, now: datetime, *, progress: Callable[[int], None] | None = None, wait: bool = True
    ) -> int:
        """Build a new index of every published article and swap it in. Returns the count.
        (`now` is accepted for the callers' sake: the index does not depend on the time.)

        One rebuild at a time per index folder, across processes (a lock file): with
        wait=False, raises RebuildRunning when another is under way."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / REBUILD_LOCK, "a+") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError as exc:
                raise RebuildRunning() from exc
            try:
                return self._rebuild(progress)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _rebuild(self, progress: Callable[[int], None] | None) -> int:
        previous = self.current_name()
        name = self._new_generation()
        ix = whoosh_index.open_dir(str(self.root / name))
        ids = db.session.scalars(select(Article.id).where(published_clause()).order_by(Article.id)).all()
        writer = ix.writer(limitmb=256)
        try:
            for start in range(0, len(ids), BATCH):
                chunk = ids[start : start + BATCH]
                for article in db.session.scalars(select(Article).where(Article.id.in_(chunk))):
                    writer.add_document(**document(article))
                if progress:
                    progress(len(chunk))
        except BaseException:
            writer.cancel()
            shutil.rmtree(self.root / name, ignore_errors=True)
            raise
        writer.commit(optimize=True)
        self._swap_to(name)
        self._remove_old_generations(keep={name, previous} - {None})
        self._checked_at = float("-inf")
        return len(ids)


def _text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)
