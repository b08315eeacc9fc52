"""Sharing for every staff member (/admin/share): the personal link and QR code of an
article, the partners' links to it (a marketer makes those), and the sections other pages
show: the article's admin page, the staff home (one's own figures) and the lead page
(who shared the link that brought the lead)."""

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, select

from accounts.guards import roles_required
from accounts.models import ROLES as STAFF_ROLES
from channels import admin as links_admin
from channels import links, qr, sharing
from channels.models import Partner, ShortLink
from channels.sitedays import site_day
from content.forms import KIND_LABELS
from content.models import LOCALES, Article, other_locale
from content.public import public_articles
from core.extensions import db
from core.i18n import visitor_language
from core.ids import record_id
from core.timeutil import utcnow

bp = Blueprint("channels_share", __name__, url_prefix="/admin/share", template_folder="templates")


def _shareable(article_id: int) -> Article:
    article = db.get_or_404(Article, article_id)
    if not article.is_public(utcnow()):
        abort(404)
    return article


# How many public articles the sharing index lists (newest first); a search finds others.
SHAREABLE_SHOWN = 30


@bp.get("/")
@roles_required(*STAFF_ROLES)
def index():
    """What every staff member may share: the public articles, newest first or found by
    their title, each with the way to one's own share link (sales cannot open the
    article editor, where the article's own panel offers it)."""
    needle = " ".join(request.args.get("q", "").split())[:100]
    # One language per page: the articles of the page's language, the others one click away.
    locale = request.args.get("locale") if request.args.get("locale") in LOCALES else None
    locale = locale or (visitor_language() if visitor_language() in LOCALES else LOCALES[0])
    query = public_articles(now=utcnow(), locale=locale)
    if needle:
        query = query.where(func.lower(Article.title).contains(needle.lower(), autoescape=True))
    rows = db.session.scalars(query.limit(SHAREABLE_SHOWN)).all()
    return render_template(
        "channels/admin/share_index.html",
        rows=rows,
        needle=needle,
        shown=SHAREABLE_SHOWN,
        kinds=KIND_LABELS,
        other_locale=other_locale(locale),
    )


@bp.get("/<int:article_id>")
@roles_required(*STAFF_ROLES)
def share_page(article_id: int):
    article = _shareable(article_id)
    mine = sharing.share_link(article, now=utcnow(), user_id=current_user.id)
    partner_links = db.session.scalars(
        select(ShortLink)
        .where(ShortLink.article_id == article.id, ShortLink.partner_id.is_not(None))
        .order_by(ShortLink.id)
    ).all()
    taken = {link.partner_id for link in partner_links}
    partners = [p for p in db.session.scalars(select(Partner).order_by(Partner.name)) if p.id not in taken]
    return render_template(
        "channels/admin/share.html",
        article=article,
        mine=mine,
        short_url=links.short_url(mine),
        qr_svg=qr.svg_inline(links.qr_url(mine)),
        partner_links=partner_links,
        partners=partners,
        leads=links_admin.lead_counts([mine.id, *(link.id for link in partner_links)]),
        may_name_partners=current_user.has_role(*links_admin.ROLES),
        links=links,
    )


@bp.post("/<int:article_id>/partner")
@roles_required(*links_admin.ROLES)
def partner_link(article_id: int):
    article = _shareable(article_id)
    partner_id = request.form.get("partner_id", type=record_id)
    partner = db.session.get(Partner, partner_id) if partner_id else None
    if partner is None:
        abort(400)
    sharing.share_link(article, now=utcnow(), partner_id=partner.id)
    return redirect(url_for("channels_share.share_page", article_id=article.id), 303)


@bp.get("/link/<int:link_id>/download/qr.<any(svg, png):kind>")
@roles_required(*STAFF_ROLES)
def share_qr(link_id: int, kind: str):
    """A personal link's QR file: one's own, or any for a marketer."""
    link = db.get_or_404(ShortLink, link_id)
    if link.share_key is None or (
        link.sharer_user_id != current_user.id and not current_user.has_role(*links_admin.ROLES)
    ):
        abort(404)
    return links_admin.qr_download(link, kind)


def article_panel(article) -> str:
    """The article admin page's sharing section: a published article's share page."""
    if not current_user.is_authenticated or not article.is_public(utcnow()):
        return ""
    return Markup(render_template("channels/admin/_article_panel.html", article=article))


def home_panel(user) -> str:
    """The staff home's section of one's own sharing figures."""
    figures = sharing.figures_of_user(user.id, today=site_day(utcnow()))
    return Markup(render_template("channels/admin/_home_panel.html", figures=figures))


def lead_panel(lead) -> str:
    """The lead page's section: which links (and sharers) brought this lead."""
    credits = sharing.credits_of(lead.id)
    if not credits:
        return ""
    return Markup(render_template("channels/admin/_lead_panel.html", credits=credits))


INSIGHTS_ROWS = 10


def insights_panel(since, until) -> str:
    """The insights dashboard's section: the period's sharers, most leads first."""
    board = sharing.sharer_board(start=since, days=(until - since).days + 1)[:INSIGHTS_ROWS]
    return Markup(render_template("channels/admin/_insights_panel.html", board=board))
