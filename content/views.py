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
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from content import seo, slugs, uploads, video
from content.feedback import record_feedback
from content.models import KIND_PREFIX, Article, other_locale
from content.public import (
    get_public_article,
    has_public_articles,
    help_categories,
    public_articles,
    related_articles,
    translations_of,
)
from core.extensions import db, limiter
from core.hooks import article_gate, hooks
from core.i18n import article_language, page_language, visitor_language
from core.ids import page_number
from core.pagecache import cached_page
from core.security import csrf_by_origin
from core.timeutil import utcnow
from core.urls import absolute_url

bp = Blueprint("content", __name__, template_folder="templates")

SECTIONS = {
    "help": _l("Help center"),
    "whitepaper": _l("Library"),
    "case-study": _l("Case studies"),
    "solution": _l("Solutions"),
    "blog": _l("Blog"),
    "video": _l("Videos"),
}
INTROS = {
    "whitepaper": _l("White papers and guides from our team, free to download."),
    "case-study": _l("How customers grew with us, in their own numbers."),
    "solution": _l("How teams in your industry put the platform to work."),
    "blog": _l("Notes on customer success, marketing and sales for B2B teams."),
    "video": _l("Product tours, webinars and how-to videos, with chapters and transcripts."),
}
BLOG_PAGE_SIZE = 10
# Each article language's name, said in the page's language (links to the other one).
LANGUAGE_NAMES = {"zh-CN": _l("Chinese"), "en": _l("English")}


def _elsewhere(kind: str | None, locale: str, *, now) -> dict | None:
    """What the other language has where this one has nothing: the page then says so and
    links to it instead of showing another language's titles. None if it has nothing."""
    other = other_locale(locale)
    if not has_public_articles(kind=kind, locale=other, now=now):
        return None
    return {"code": other.replace("-", "_"), "name": LANGUAGE_NAMES[other]}


def section_path(kind: str) -> str:
    return f"/{KIND_PREFIX[kind]}/"


@bp.app_context_processor
def content_helpers():
    return {
        "content_sections": SECTIONS,
        "section_path": section_path,
    }


@bp.get("/")
@cached_page
def home():
    now, locale = utcnow(), visitor_language()
    featured = db.session.scalars(
        public_articles(kind="whitepaper", locale=locale, now=now)
        .order_by(None)
        .order_by(Article.featured.desc(), Article.published_at.desc(), Article.id.desc())
        .limit(3)
    ).all()
    latest = db.session.scalars(
        public_articles(locale=locale, now=now).where(Article.kind != "help").limit(6)
    ).all()
    categories = help_categories(locale=locale, now=now)
    nothing_here = not (featured or latest or categories)
    return render_template(
        "content/home.html",
        featured=featured,
        categories=categories,
        latest=latest,
        elsewhere=_elsewhere(None, locale, now=now) if nothing_here else None,
        canonical=absolute_url("/"),
    )


@bp.get("/help/")
@cached_page
def help_index():
    now, locale = utcnow(), visitor_language()
    categories = help_categories(locale=locale, now=now)
    crumbs = [(_("Home"), "/"), (SECTIONS["help"], "/help/")]
    return render_template(
        "content/help_index.html",
        categories=categories,
        elsewhere=None if categories else _elsewhere("help", locale, now=now),
        crumbs=crumbs,
        canonical=absolute_url("/help/"),
        breadcrumb_ld=seo.breadcrumb_ld(absolute_url(), crumbs),
    )


def _listing(kind: str):
    now, locale = utcnow(), visitor_language()
    query = public_articles(kind=kind, locale=locale, now=now)
    page = request.args.get("page", 1, type=page_number) or 1
    if kind == "blog":
        pagination = db.paginate(query, page=max(page, 1), per_page=BLOG_PAGE_SIZE, error_out=False)
        if page > 1 and not pagination.items:
            abort(404)
        articles = pagination.items
    else:
        pagination = None
        articles = db.session.scalars(query).all()
    path = section_path(kind)
    crumbs = [(_("Home"), "/"), (SECTIONS[kind], path)]
    return render_template(
        "content/list.html",
        kind=kind,
        title=SECTIONS[kind],
        intro=INTROS.get(kind, ""),
        articles=articles,
        elsewhere=None if articles else _elsewhere(kind, locale, now=now),
        pagination=pagination,
        crumbs=crumbs,
        canonical=absolute_url(path + (f"?page={page}" if pagination and page > 1 else "")),
        breadcrumb_ld=seo.breadcrumb_ld(absolute_url(), crumbs),
    )


def _article(kind: str, slug: str):
    now = utcnow()
    return render_article(slugs.public_article_or_redirect(kind, slug, now=now), now=now)


def render_article(article: Article, *, now, preview: bool = False) -> str:
    """The article's public page; `preview` marks a shared draft (content.editor)."""
    kind = article.kind
    with page_language(article.locale):
        crumbs = [(_("Home"), "/"), (SECTIONS[kind], section_path(kind))]
        if kind == "help" and article.category:
            crumbs.append((article.category, "/help/#" + category_anchor(article.category)))
        crumbs.append((article.title, article.url_path))
        return render_template(
            "content/article.html",
            article=article,
            preview=preview,
            related=related_articles(article, now=now),
            translations=translations_of(article, now=now),
            crumbs=crumbs,
            canonical=absolute_url(article.url_path),
            description=seo.description(article),
            page_title=seo.page_title(article),
            share_image=seo.share_image(article, current_app.config["SITE_URL"]),
            structured_data=seo.structured_data(
                article, crumbs, absolute_url(), current_app.config["SITE_NAME"]
            ),
            video=_video_player(article) if kind == "video" else None,
        )


def _video_player(article: Article) -> dict | None:
    """A video page's player: the platform's embed, or the uploaded file at its public
    address with the lead form (core.hooks.article_gate) after the free minutes."""
    shown = video.player(article)
    if shown is not None and "file" in shown:
        shown["src"] = url_for("content.video_media", slug=article.slug, name=article.video_file)
        if shown["free_seconds"]:
            shown["gate"] = article_gate(current_app, article)
    return shown


def translated_path(path: str, code: str) -> tuple[str, str] | None:
    """Where the language switch to `code` lands from an article's page: its translation,
    else that language's index of the kind with a notice; None for other paths."""
    prefix, _slash, slug = path.strip("/").partition("/")
    kind = next((kind for kind, known in KIND_PREFIX.items() if known == prefix), None)
    if kind is None or not slug or "/" in slug:
        return None
    now, locale = utcnow(), article_language(code)
    article = get_public_article(kind, slug, now=now)
    if article is None:
        return None
    if article.locale == locale:
        return article.url_path, ""
    for twin in translations_of(article, now=now):
        if twin.locale == locale:
            return twin.url_path, ""
    notice = _("This article is not available in %(language)s yet.", language=LANGUAGE_NAMES[locale])
    return section_path(kind), notice


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
for _kind in ("case-study", "solution", "blog", "video"):
    _register_kind(_kind)


@bp.get("/videos/<slug>/media/<name>")
def video_media(slug: str, name: str):
    """A public video's uploaded file, with range requests (206, 416) for seeking. Its
    name changes with every upload, so browsers and caches may keep it for good. A gated
    video's free part is kept by the player (docs/CONTENT.md says what that does not stop)."""
    article = get_public_article("video", slug, now=utcnow())
    if (
        article is None
        or not article.video_file
        or name != article.video_file
        or not video.is_video_name(name)
    ):
        abort(404)
    return video.send_video(current_app.config["VIDEO_DIR"], name, private=False)


@bp.post("/articles/<int:article_id>/feedback")
@limiter.limit(lambda: current_app.config["PUBLIC_POST_RATE_LIMIT"])
@csrf_by_origin
def feedback(article_id: int):
    """ "Was this helpful?" from a plain form: record it and go back to the article.

    The form carries no CSRF token, so an article page gives a new visitor no session
    cookie and stays the same bytes for everyone; a vote from another site's page is
    refused by its Origin / Sec-Fetch-Site (a vote is worth no more than that)."""
    article = db.session.get(Article, article_id)
    if article is None or not article.is_public(utcnow()):
        abort(404)
    answer = request.form.get("helpful", "")
    if answer not in ("yes", "no"):
        flash(_("Choose yes or no."), "error")
    else:
        record_feedback(article.id, answer == "yes", request.form.get("comment", ""), now=utcnow())
        return redirect(article.url_path + "?feedback=thanks#feedback", code=303)
    return redirect(article.url_path + "#feedback", code=303)


@bp.get("/sitemap.xml")
@cached_page
def sitemap():
    now = utcnow()
    articles = db.session.scalars(public_articles(now=now).where(Article.kind.in_(list(KIND_PREFIX)))).all()
    sections = ["/", *(section_path(kind) for kind in KIND_PREFIX)]
    # Each translation lists every language of its article (itself included), as
    # search engines ask of hreflang alternates in a sitemap.
    groups: dict[str, list[Article]] = {}
    for article in articles:
        if article.translation_key:
            groups.setdefault(article.translation_key, []).append(article)
    alternates = {article.id: group for group in groups.values() if len(group) > 1 for article in group}
    body = render_template(
        "content/sitemap.xml",
        articles=articles,
        alternates=alternates,
        sections=sections,
        site_url=absolute_url(),
    )
    return current_app.response_class(body, mimetype="application/xml")


@bp.get("/robots.txt")
@cached_page
def robots():
    paths = ("/admin/", "/download/", "/t/", "/u/", *hooks(current_app).robots_disallow)
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in paths)]
    lines += ["", f"Sitemap: {absolute_url('/sitemap.xml')}", ""]
    return current_app.response_class("\n".join(lines), mimetype="text/plain")


@bp.get("/feed.xml")
@cached_page
def feed():
    now, locale = utcnow(), visitor_language()
    entries = db.session.scalars(
        select(Article)
        .where(public_articles(locale=locale, now=now).whereclause)
        .order_by(Article.published_at.desc(), Article.id.desc())
        .limit(30)
    ).all()
    updated = max((entry.updated_at for entry in entries), default=now)
    site = absolute_url()
    # Each language's feed is a feed of its own; the default one keeps the id it had.
    default = article_language(current_app.config["DEFAULT_LOCALE"])
    body = render_template(
        "content/feed.xml",
        entries=entries,
        locale=locale,
        feed_id=f"{site}/" if locale == default else f"{site}/feed.xml?lang={locale}",
        updated=seo.iso(updated),
        site_url=site,
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
