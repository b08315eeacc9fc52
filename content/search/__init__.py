"""Full-text search of the public articles (Whoosh), in Chinese and English.

analysis.py  folding, jieba + bigrams, pinyin, question words
index.py     the index on this node's disk, kept in step with the database
queries.py   planning: from typed text to the query, and spelling corrections
termscores.py  each clause's BM25F scores kept per index generation; the field weights
ranking.py   running a search: ranked hits, a page, "did you mean", kind counts
highlight.py  marked titles and snippets
dense.py     the embedding models (what a text means), loaded once per process
embedding.py  article vectors in the database and the queue that keeps them current
semantic.py  the vectors' matrices in memory, a query's meaning, fusion with the words
learning.py  synonym pairs proposed from visitors' searches and clicks
services.py  searching: what views, the API and other packages call
state.py     what search keeps per app: the index, caches, clause scores, vectors
upkeep.py    the index and vectors kept in step with the articles; the health status
analytics.py  stored searches and clicks; the top and empty searches
synonyms.py  synonym groups: shipped, edited by staff, learned from use
views.py     /search, /api/search, /api/search/click; admin.py: /admin/search/
"""

import threading
from pathlib import Path

from flask_babel import lazy_gettext as _l

from core.hooks import add_admin_nav, add_background_job, add_demo_loader, add_health_check, add_home_panel
from core.i18n import compile_catalogs

TRANSLATIONS = Path(__file__).with_name("translations")


def init_app(app):
    """Blueprints, the `search` commands, index updates on article signals, the health
    check, the worker's embedding job, the synonym dictionary as demo data, this module's
    translations, and (outside tests) jieba's dictionary loaded in the background."""
    from content.search import home
    from content.search.admin import REPORT_ROLES, SUGGESTION_ROLES, admin_bp
    from content.search.cli import search_cli
    from content.search.synonyms import ensure_synonyms, propose_synonyms_job
    from content.search.upkeep import (
        embed_pending,
        index_status,
        on_article_changed,
        on_article_deleted,
        reindex,
    )
    from content.search.views import bp
    from content.signals import article_changed, article_deleted
    from core.timeutil import utcnow

    app.register_blueprint(bp)
    app.register_blueprint(admin_bp)
    app.cli.add_command(search_cli)
    _add_translations(app)

    def changed(sender, article_id, **_extra):
        on_article_changed(sender, article_id, now=utcnow())

    def deleted(sender, article_id, **_extra):
        on_article_deleted(sender, article_id)

    article_changed.connect(changed, sender=app, weak=False)
    article_deleted.connect(deleted, sender=app, weak=False)

    add_admin_nav(app, _l("Searches"), "search_admin.report", roles=REPORT_ROLES, order=60, group="content")
    add_admin_nav(app, _l("Synonyms"), "search_admin.synonyms", roles=("admin",), order=61, group="settings")
    add_admin_nav(
        app,
        _l("Synonym suggestions"),
        "search_admin.suggestions",
        roles=SUGGESTION_ROLES,
        order=62,
        group="content",
    )
    add_health_check(app, "index", lambda: index_status(now=utcnow()))
    add_home_panel(app, home.gaps_panel, roles=("editor",), order=30)
    # Vectors of saved articles are computed by the worker, never in the editor's request.
    add_background_job(app, "search", embed_pending)
    add_background_job(app, "synonyms", propose_synonyms_job)
    # Pages people left to search again rise in the review queue.
    from content.freshness import add_queue_signal
    from content.search.exits import searched_again

    add_queue_signal(app, "searched_again", _l("Left to search again"), searched_again)
    # And both kinds of evidence lead the list of what to write next.
    from content.ideas import add_idea_source
    from content.search.ideas import empty_searches, left_pages

    add_idea_source(app, "empty_searches", _l("Searches that found nothing"), empty_searches)
    add_idea_source(app, "left_pages", _l("Pages people left to search again"), left_pages)

    def load_demo(echo):
        added = ensure_synonyms(now=utcnow())
        echo(f"  {added} synonym groups" if added else "  synonyms already loaded")
        echo(f"  indexed {reindex(now=utcnow())} public articles")

    # After the content's own demo loader, so the demo articles are indexed.
    add_demo_loader(app, "search synonyms and index", load_demo, order=900)
    if not app.testing:
        warm_up(with_model=app.config.get("SEARCH_DENSE", True))


def warm_up(*, with_model: bool = False) -> threading.Thread:
    """Load jieba's dictionary (and the embedding models) on a background thread, so the
    worker starts at once and its first Chinese search or edit does not wait about a
    second and a half for them."""
    from content.search import dense
    from content.search.analysis import jieba_tokenizer

    def load():
        jieba_tokenizer()
        if with_model:
            dense.models()

    thread = threading.Thread(target=load, name="search-warm-up", daemon=True)
    thread.start()
    return thread


def _add_translations(app):
    """Search keeps its own catalog; appended last, so its strings win the merge."""
    if TRANSLATIONS.is_dir():
        compile_catalogs([str(TRANSLATIONS)])
        directories = app.config.get("BABEL_TRANSLATION_DIRECTORIES", "translations")
        app.config["BABEL_TRANSLATION_DIRECTORIES"] = f"{directories};{TRANSLATIONS}"
        # Flask-Babel resolved the directories when it was bound, before the packages.
        babel_config = app.extensions.get("babel")
        if babel_config is not None and str(TRANSLATIONS) not in babel_config.translation_directories:
            babel_config.translation_directories.append(str(TRANSLATIONS))
