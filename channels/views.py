"""Public routes: /s/<code> (a short link: counted, then a 302 to its page with its utm
tags; an expired or unknown code gets a friendly page with the latest related content)
and /advisor/<id> (an adviser's contact QR image).

/s/<code> is rate limited per IP (SHORT_LINK_RATE_LIMIT), yet never turns a visitor away:
a whole conference hall may scan one QR code through one Wi-Fi address. Past the limit a
live link still redirects, only uncounted (no write, so a flood can neither inflate a
sharer's figures nor load the database); an unknown or ended code gets 429, which stops
someone guessing codes.
"""

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_limiter.errors import RateLimitExceeded
from sqlalchemy import select

from channels import links
from channels.models import AdvisorCard
from content.models import Article
from content.public import public_articles, related_articles
from core.errors import render_error
from core.extensions import db, limiter
from core.timeutil import utcnow
from insights.tracking import is_bot

bp = Blueprint("channels", __name__, template_folder="templates")
LATEST = 6


def _limit():
    return current_app.config["SHORT_LINK_RATE_LIMIT"]


def _redirect(code: str, *, now, count: bool) -> Response | None:
    """The 302 of a live link (counted when `count`), or None."""
    if not links.CODE_PATTERN.match(code):
        return None
    found = links.visit(code, scanned=request.args.get("qr") == "1", now=now, count=count)
    if found is None:
        return None
    response = Response(status=302, headers={"Location": found.location})
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer-when-downgrade"
    return response


@bp.get("/s/<code>")
@limiter.limit(_limit)
def short_link(code: str):
    now = utcnow()
    # Crawlers and link previews (WeChat's and others' unfurls) follow but are not counted.
    response = _redirect(code, now=now, count=not is_bot(request.user_agent.string))
    if response is not None:
        return response
    link = links.link_by_code(code) if links.CODE_PATTERN.match(code) else None
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


@bp.errorhandler(RateLimitExceeded)
def past_the_limit(error):
    """Past SHORT_LINK_RATE_LIMIT: a live link still takes the visitor on, uncounted."""
    code = (request.view_args or {}).get("code", "")
    response = _redirect(code, now=utcnow(), count=False) if code else None
    if response is not None:
        return response
    response = current_app.make_response(render_error(429))
    response.headers["Retry-After"] = "60"
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
