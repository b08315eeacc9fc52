"""The public pages: home, help center, the lists and pages of each kind, feedback, and
what search engines read (sitemap, robots.txt, the Atom feed). Uploaded images and files
are served here too.

Every page is stored HTML plus a handful of queries; `/library/<slug>` (the landing page
with the lead form) belongs to the gated package, which includes content/_article_body.html.
"""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from content import seo, services, uploads
from content.models import KIND_PREFIX, Article
from core.extensions import db, limiter
from core.hooks import hooks
from core.ids import page_number
from core.pagecache import cached_page
from core.timeutil import utcnow

bp = Blueprint("content", __name__, template_folder="templates")

SECTIONS = {
    "help": _l("Help center"),
    "whitepaper": _l("Library"),
    "case-study": _l("Case studies"),
    "solution": _l("Solutions"),
    "blog": _l("Blog"),
}
INTROS = {
    "whitepaper": _l("White papers and guides from our team, free to download."),
    "case-study": _l("How customers grew with us, in their own numbers."),
    "solution": _l("How teams in your industry put the platform to work."),
    "blog": _l("Notes on customer success, marketing and sales for B2B teams."),
}
BLOG_PAGE_SIZE = 10


def _locale() -> str:
    from flask import g
    from flask_babel import get_locale

    get_locale()
    return g.get("locale_code", current_app.config["DEFAULT_LOCALE"]).replace("_", "-")


def prefer_locale(articles: list[Article], locale: str) -> list[Article]:
    """One article per translation: the reader's language where it exists, else the other."""
    keys_in_locale = {a.translation_key for a in articles if a.translation_key and a.locale == locale}
    return [
        a
        for a in articles
        if a.locale == locale or not a.translation_key or a.translation_key not in keys_in_locale
    ]


def reader_first(articles: list[Article], locale: str, *, featured_first: bool = False) -> list[Article]:
    """prefer_locale, then the reader's language first (featured first if asked), newest
    first within each group."""
    return sorted(
        prefer_locale(articles, locale),
        key=lambda a: (featured_first and not a.featured, a.locale != locale),
    )


def categories_for(locale: str, *, now) -> list[tuple[str, list[Article]]]:
    """Help categories for a reader: each article once (prefer_locale), the categories
    with articles in the reader's language first."""
    categories = []
    for name, items in services.help_categories(locale=None, now=now):
        items = prefer_locale(items, locale)
        if items:
            categories.append((name, items))
    return sorted(categories, key=lambda item: not any(a.locale == locale for a in item[1]))


def _site_url() -> str:
    return current_app.config["SITE_URL"]


def section_path(kind: str) -> str:
    return f"/{KIND_PREFIX[kind]}/"


@bp.app_context_processor
def content_helpers():
    return {
        "content_sections": SECTIONS,
        "section_path": section_path,
        "site_url_for": lambda path: seo.absolute(_site_url(), path),
    }


@bp.get("/")
@cached_page
def home():
    now, locale = utcnow(), _locale()
    papers = db.session.scalars(services.public_articles(kind="whitepaper", now=now).limit(24)).all()
    latest = db.session.scalars(
        services.public_articles(now=now).where(Article.kind != "help").limit(24)
    ).all()
    return render_template(
        "content/home.html",
        featured=reader_first(papers, locale, featured_first=True)[:3],
        categories=categories_for(locale, now=now),
        latest=reader_first(latest, locale)[:6],
        canonical=seo.absolute(_site_url(), "/"),
    )


@bp.get("/help/")
@cached_page
def help_index():
    locale = _locale()
    categories = categories_for(locale, now=utcnow())
    crumbs = [(_("Home"), "/"), (SECTIONS["help"], "/help/")]
    return render_template(
        "content/help_index.html",
        categories=categories,
        crumbs=crumbs,
        canonical=seo.absolute(_site_url(), "/help/"),
        breadcrumb_ld=seo.breadcrumb_ld(_site_url(), crumbs),
    )


def _listing(kind: str):
    now = utcnow()
    query = services.public_articles(kind=kind, now=now)
    page = request.args.get("page", 1, type=page_number) or 1
    if kind == "blog":
        pagination = db.paginate(query, page=max(page, 1), per_page=BLOG_PAGE_SIZE, error_out=False)
        if page > 1 and not pagination.items:
            abort(404)
        articles = pagination.items
    else:
        pagination = None
        articles = prefer_locale(db.session.scalars(query).all(), _locale())
    path = section_path(kind)
    crumbs = [(_("Home"), "/"), (SECTIONS[kind], path)]
    return render_template(
        "content/list.html",
        kind=kind,
        title=SECTIONS[kind],
        intro=INTROS.get(kind, ""),
        articles=articles,
        pagination=pagination,
        crumbs=crumbs,
        canonical=seo.absolute(_site_url(), path + (f"?page={page}" if pagination and page > 1 else "")),
        breadcrumb_ld=seo.breadcrumb_ld(_site_url(), crumbs),
    )


def _article(kind: str, slug: str):
    now = utcnow()
    article = services.get_public_article(kind, slug, now=now)
    if article is None:
        abort(404)
    crumbs = [(_("Home"), "/"), (SECTIONS[kind], section_path(kind))]
    if kind == "help" and article.category:
        crumbs.append((article.category, "/help/#" + category_anchor(article.category)))
    crumbs.append((article.title, article.url_path))
    return render_template(
        "content/article.html",
        article=article,
        related=services.related_articles(article, now=now),
        translations=services.translations_of(article, now=now),
        crumbs=crumbs,
        canonical=seo.absolute(_site_url(), article.url_path),
        description=seo.description(article),
        page_title=seo.page_title(article),
        structured_data=seo.structured_data(article, crumbs, _site_url(), current_app.config["SITE_NAME"]),
    )


def category_anchor(name: str) -> str:
    return "c-" + "-".join(name.split())


@bp.app_template_filter("category_anchor")
def _category_anchor_filter(name: str) -> str:
    return category_anchor(name)


def _register_kind(kind: str, with_pages: bool = True) -> None:
    prefix = KIND_PREFIX[kind]
    if kind != "help":
        bp.add_url_rule(f"/{prefix}/", f"{kind}_index", cached_page(lambda: _listing(kind)))
    if with_pages:
        bp.add_url_rule(
            f"/{prefix}/<slug>", f"{kind}_article", cached_page(lambda slug: _article(kind, slug))
        )


_register_kind("help")
# /library/<slug> is the gated landing page; content lists the library only.
_register_kind("whitepaper", with_pages=False)
for _kind in ("case-study", "solution", "blog"):
    _register_kind(_kind)


@bp.post("/articles/<int:article_id>/feedback")
@limiter.limit(lambda: current_app.config["PUBLIC_POST_RATE_LIMIT"])
def feedback(article_id: int):
    """ "Was this helpful?" from a plain form: record it and go back to the article."""
    article = db.session.get(Article, article_id)
    if article is None or not article.is_public(utcnow()):
        abort(404)
    answer = request.form.get("helpful", "")
    if answer not in ("yes", "no"):
        flash(_("Choose yes or no."), "error")
    else:
        services.record_feedback(article.id, answer == "yes", request.form.get("comment", ""), now=utcnow())
        return redirect(article.url_path + "?feedback=thanks#feedback", code=303)
    return redirect(article.url_path + "#feedback", code=303)


@bp.get("/sitemap.xml")
@cached_page
def sitemap():
    now = utcnow()
    articles = db.session.scalars(
        services.public_articles(now=now).where(Article.kind.in_(list(KIND_PREFIX)))
    ).all()
    sections = ["/", *(section_path(kind) for kind in KIND_PREFIX)]
    body = render_template(
        "content/sitemap.xml", articles=articles, sections=sections, site_url=_site_url().rstrip("/")
    )
    return current_app.response_class(body, mimetype="application/xml")


@bp.get("/robots.txt")
@cached_page
def robots():
    paths = ("/admin/", "/download/", "/t/", "/u/", *hooks(current_app).robots_disallow)
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in paths)]
    lines += ["", f"Sitemap: {seo.absolute(_site_url(), '/sitemap.xml')}", ""]
    return current_app.response_class("\n".join(lines), mimetype="text/plain")


@bp.get("/feed.xml")
@cached_page
def feed():
    now = utcnow()
    entries = db.session.scalars(
        select(Article)
        .where(services.public_articles(now=now).whereclause)
        .order_by(Article.published_at.desc(), Article.id.desc())
        .limit(30)
    ).all()
    updated = max((entry.updated_at for entry in entries), default=now)
    body = render_template(
        "content/feed.xml",
        entries=entries,
        updated=seo.iso(updated),
        site_url=_site_url().rstrip("/"),
        iso=seo.iso,
        description=seo.description,
    )
    return current_app.response_class(body, mimetype="application/atom+xml")


@bp.get("/uploads/<name>")
def uploaded(name: str):
    """An editor's upload: images inline, anything else as a download (never rendered)."""
    if not uploads.is_stored_name(name):
        abort(404)
    return send_from_directory(
        current_app.config["UPLOAD_DIR"],
        name,
        as_attachment=not uploads.is_inline(name),
        mimetype=uploads.content_type(name),
        max_age=31536000,
    )
