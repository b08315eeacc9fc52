"""Landing conversion: per form page (each white paper with its file, each gated video,
the demo request, the newsletter signup), its views in a period, the leads its form brought and the share
of views that became a lead.

Views are the page's page_view events, read through rollups.tally like every event
figure (so they stay when old raw events are pruned); leads are gated's submissions of
the period, each lead once per page, whatever its form sent again. Filtered by a channel,
both are the visit's channel (the submission carries it as the event does).
"""

from __future__ import annotations

from datetime import date

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, literal, select

from core.extensions import db
from insights.rollups import tally
from insights.stages import bounds

# The forms whose submissions are a page's leads, and the page of each form that has no
# article (white papers, and one-click downloads of them, are the white paper's page; a
# gated video's form, the video's).
PAGE_FORMS = ("whitepaper", "one_click", "video", "demo", "newsletter")
FORM_ENDPOINTS = {"demo": "gated.demo_request", "newsletter": "gated.newsletter"}

COLUMNS = [
    ("title", _l("Content")),
    ("path", _l("Page")),
    ("views", _l("Views")),
    ("leads", _l("Leads")),
    ("conversion_rate", _l("Conversion rate")),
]


def _form_paths() -> dict[str, str]:
    """The path of each article-less form page, as its page views store it."""
    urls = current_app.url_map.bind("localhost")
    return {form: urls.build(endpoint) for form, endpoint in FORM_ENDPOINTS.items()}


def _paper_path(slug: str, kind: str = "whitepaper") -> str:
    from content.models import KIND_PREFIX

    return f"/{KIND_PREFIX[kind]}/{slug}"


def form_pages() -> dict[str, str]:
    """{path: title} of every page with a form: each white paper that has a file to
    download (its form's page), each gated video (free minutes, then the form), the demo
    request and the newsletter signup."""
    from content.models import Article
    from gated.labels import label
    from gated.models import Asset

    papers = db.session.execute(
        select(Article.slug, Article.title)
        .join(Asset, Asset.article_id == Article.id)
        .where(Article.kind == "whitepaper")
        .distinct()
    ).all()
    videos = db.session.execute(
        select(Article.slug, Article.title).where(
            Article.kind == "video", Article.free_minutes > 0, Article.video_file != ""
        )
    ).all()
    pages = {_paper_path(slug): title for slug, title in papers}
    pages.update({_paper_path(slug, "video"): title for slug, title in videos})
    pages.update({path: str(label("form", form)) for form, path in _form_paths().items()})
    return pages


def _leads(since: date, until: date, channel: str) -> dict[str, int]:
    """{path: leads} from the period's submissions: one grouped query, each lead counted
    once per page."""
    from content.models import Article
    from gated.models import Asset, Submission

    start, end = bounds(since, until)
    # The page a submission was made for: its form's (a demo request, a signup), that of
    # the white paper whose file it asked for, or the gated video's it was under.
    page = case(
        *((Submission.form == form, literal(path)) for form, path in _form_paths().items()),
        (Article.kind == "whitepaper", literal(_paper_path("")) + Article.slug),
        (Article.kind == "video", literal(_paper_path("", "video")) + Article.slug),
        else_=literal(""),
    )
    query = (
        select(page, func.count(func.distinct(Submission.lead_id)))
        .select_from(Submission)
        .outerjoin(Asset, Asset.id == Submission.asset_id)
        .outerjoin(Article, Article.id == func.coalesce(Asset.article_id, Submission.article_id))
        .where(Submission.created_at >= start, Submission.created_at < end, Submission.form.in_(PAGE_FORMS))
        .group_by(page)
    )
    if channel:
        query = query.where(Submission.channel == channel)
    leads = {path: count for path, count in db.session.execute(query) if path}
    return leads


def landing_conversion(since: date, until: date, *, channel: str = "") -> list[dict]:
    """One row per form page viewed or converting in the period, most leads first."""
    pages = form_pages()
    where = {"path": tuple(pages)} | ({"channel": channel} if channel else {})
    views = {
        path: count
        for (path,), count in tally(
            since, until, grain="page", kinds=("page_view",), by=("path",), where=where
        ).items()
    }
    leads = _leads(since, until, channel)
    rows = [
        {
            "path": path,
            "title": pages.get(path, path),
            "views": views.get(path, 0),
            "leads": leads.get(path, 0),
            "conversion_rate": leads.get(path, 0) / views[path] if views.get(path) else None,
        }
        for path in sorted(set(views) | set(leads))
    ]
    rows.sort(key=lambda row: (-row["leads"], -row["views"], row["path"]))
    return rows
