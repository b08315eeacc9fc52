"""Public routes: /s/<code> (a short link: counted, then a 302 to its page with its utm
tags; an expired or unknown code gets a friendly page with the latest related content)
and /advisor/<id> (an adviser's contact QR image)."""

from flask import Blueprint, Response, abort, render_template, request
from sqlalchemy import select

from channels import links
from channels.models import AdvisorCard
from content.models import Article
from content.services import public_articles, related_articles
from core.extensions import db
from core.timeutil import utcnow
from insights.tracking import is_bot

bp = Blueprint("channels", __name__, template_folder="templates")
LATEST = 6


@bp.get("/s/<code>")
def short_link(code: str):
    now = utcnow()
    if links.CODE_PATTERN.match(code):
        # Crawlers and link previews (WeChat's and others' unfurls) follow but are not counted.
        found = links.visit(
            code, scanned=request.args.get("qr") == "1", now=now, count=not is_bot(request.user_agent.string)
        )
        if found is not None:
            response = Response(status=302, headers={"Location": found.location})
            response.headers["Cache-Control"] = "no-store"
            response.headers["Referrer-Policy"] = "no-referrer-when-downgrade"
            return response
        link = links.link_by_code(code)
    else:
        link = None
    article = db.session.get(Article, link.article_id) if link is not None and link.article_id else None
    still_public = article is not None and article.is_public(now)
    if article is not None:
        latest = (
            related_articles(article, now=now, limit=LATEST)
            or db.session.scalars(
                public_articles(kind=article.kind, locale=article.locale, now=now)
                .where(Article.id != article.id)
                .limit(LATEST)
            ).all()
        )
    else:
        latest = db.session.scalars(public_articles(now=now).limit(LATEST)).all()
    page = render_template(
        "channels/ended.html",
        link=link,
        expired=link is not None,
        article=article if still_public else None,
        latest=latest,
    )
    # Never a 404: the visitor scanned a poster in good faith. Gone says so to machines.
    response = Response(page, status=410 if link is not None else 200)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.get("/advisor/<int:card_id>")
def advisor_image(card_id: int):
    card = db.session.scalar(select(AdvisorCard).where(AdvisorCard.id == card_id))
    if card is None:
        abort(404)
    response = Response(card.image, mimetype=card.content_type)
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.set_etag(f"{card.id}-{card.updated_at.timestamp():.0f}")
    return response.make_conditional(request)
