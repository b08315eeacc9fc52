"""The content package: articles, revisions, Markdown rendering, the public pages, the
editor admin and Markdown import/export. (The search index lives in content/search/.)"""

from importlib import import_module
from pathlib import Path

from flask_babel import lazy_gettext as _l

from core.hooks import add_admin_nav, add_demo_loader

# Uploads are smaller than the site-wide request limit (MAX_CONTENT_LENGTH).
UPLOAD_DEFAULTS = {"CONTENT_UPLOAD_MAX_BYTES": 10 * 1024 * 1024}


def init_app(app):
    """Register the package's blueprints, commands, signal receivers and demo data."""
    from content import demo
    from content.admin import admin_bp
    from content.cli import content_cli
    from content.views import bp

    for key, value in UPLOAD_DEFAULTS.items():
        app.config.setdefault(key, value)
    app.register_blueprint(bp)
    app.register_blueprint(admin_bp)
    app.cli.add_command(content_cli)
    add_admin_nav(app, _l("Content"), "content_admin.index", roles=("editor",), order=10)
    add_demo_loader(app, "content", demo.load, order=10)
    # The search index is its own sub-package, built alongside; it wires itself.
    if (Path(__file__).parent / "search" / "__init__.py").exists():
        search = import_module("content.search")
        if hasattr(search, "init_app"):
            search.init_app(app)
