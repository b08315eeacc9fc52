"""The content package: articles, revisions, Markdown rendering, the public pages, the
editor admin and Markdown import/export. (The search index lives in content/search/.)"""

from importlib import import_module
from pathlib import Path

from flask_babel import lazy_gettext as _l

from core.config import apply_defaults
from core.hooks import (
    add_admin_nav,
    add_article_panel,
    add_background_job,
    add_demo_loader,
    add_home_panel,
    add_robots_disallow,
    add_translated_path,
)
from core.security import allow_frames

# Uploads are smaller than the site-wide request limit (MAX_CONTENT_LENGTH); a Markdown
# body larger than MARKDOWN_MAX_BYTES is refused before rendering (content.bounds).
# A draft's shared preview link (content.editor) works for CONTENT_PREVIEW_LINK_HOURS.
DEFAULTS = {
    "CONTENT_UPLOAD_MAX_BYTES": 10 * 1024 * 1024,
    "MARKDOWN_MAX_BYTES": 500_000,
    "CONTENT_PREVIEW_LINK_HOURS": 72,
    # An uploaded video (content.video) may be this large; the editor's form alone may
    # send a request this large (plus its fields), every other request keeps
    # MAX_CONTENT_LENGTH.
    "VIDEO_MAX_BYTES": 500 * 1024 * 1024,
}


def init_app(app):
    """Register the package's blueprints, commands, signal receivers and demo data."""
    from content import demo, home, notices, slugs, video  # noqa: F401 - slugs: its table
    from content.admin import admin_bp
    from content.cli import content_cli
    from content.editor import preview_bp
    from content.views import bp, translated_path

    apply_defaults(app, DEFAULTS)
    app.register_blueprint(bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(preview_bp)
    allow_frames(app, "content.video_article", video.EMBED_HOSTS)
    add_robots_disallow(app, "/preview/")
    app.cli.add_command(content_cli)
    add_admin_nav(app, _l("Content"), "content_admin.index", roles=("editor",), order=10, group="content")
    add_demo_loader(app, "content", demo.load, order=10)
    add_home_panel(app, notices.home_panel, roles=("editor",), order=9)
    add_home_panel(app, home.editor_panel, roles=("editor",), order=10)
    add_home_panel(app, home.plans_panel, roles=("editor",), order=12)
    add_translated_path(app, translated_path)
    _wire_operations(app)
    _wire_page_cache(app)
    # The search index is its own sub-package, built alongside; it wires itself.
    if (Path(__file__).parent / "search" / "__init__.py").exists():
        search = import_module("content.search")
        if hasattr(search, "init_app"):
            search.init_app(app)


def _wire_operations(app):
    """Teams, standards per kind and review dates (content.teams, .standards, .freshness)."""
    from content import review_admin, review_mail, teams
    from content.teams_admin import ops_bp

    app.register_blueprint(ops_bp)
    add_admin_nav(
        app, _l("Review queue"), "content_ops.review_queue", roles=("editor",), order=12, group="content"
    )
    add_admin_nav(app, _l("Teams"), "content_ops.teams_index", roles=("admin",), order=14, group="content")
    add_admin_nav(
        app,
        _l("Standards per kind"),
        "content_ops.standards_index",
        roles=("admin",),
        order=15,
        group="content",
    )
    add_article_panel(app, review_admin.article_panel)
    add_home_panel(app, review_admin.home_panel, roles=("editor",), order=11)
    add_background_job(app, "review mail", review_mail.weekly_job)
    add_demo_loader(app, "teams", lambda echo: teams.ensure_default_teams(), order=5)
    app.add_template_global(review_admin.review_flag, "review_flag")
    _wire_calendar(app)


def _wire_calendar(app):
    """The editorial calendar, its iCal feeds and what to write next (content.planning,
    .calendar, .ideas)."""
    from content import ideas_admin  # noqa: F401 - its views join the calendar's blueprint
    from content.calendar_admin import calendar_bp, feed_bp

    app.register_blueprint(calendar_bp)
    app.register_blueprint(feed_bp)
    add_robots_disallow(app, "/calendar/")
    add_admin_nav(
        app,
        _l("Editorial calendar"),
        "content_calendar.calendar",
        roles=("editor",),
        order=11,
        group="content",
    )
    add_admin_nav(
        app,
        _l("What to write next"),
        "content_calendar.ideas_page",
        roles=("editor",),
        order=13,
        group="content",
    )


def _wire_page_cache(app):
    """Cached public pages follow the articles: at once for changes made in this process
    (and in the front cache, core.frontcache), within PAGE_CACHE_TTL for changes other web
    nodes make."""
    from content.public import content_generation
    from content.signals import article_changed, article_deleted
    from core import frontcache
    from core.pagecache import KEY, add_generation_source
    from core.timeutil import utcnow

    cache = app.extensions[KEY]
    add_generation_source(app, lambda: content_generation(now=utcnow()))

    def forget_pages(sender, **_payload):
        if sender is app:
            cache.invalidate()
            frontcache.purge(app)

    article_changed.connect(forget_pages, weak=False)
    article_deleted.connect(forget_pages, weak=False)
