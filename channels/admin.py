"""The short-link admin (/admin/links): links with their figures and QR codes, partners,
the sharing leaderboard and the advisers' contact QR images. Marketers and admins; every
change is a POST with the CSRF token."""

from datetime import UTC, date, datetime, time, timedelta

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from accounts.guards import roles_required
from accounts.models import User
from channels import advisors, links, qr, sharing
from channels.forms import AdvisorCardForm, LinkForm, PartnerForm
from channels.labels import CHANNELS
from channels.models import AdvisorCard, LinkLead, Partner, ShortLink
from channels.sitedays import site_day
from content.models import Article
from core.extensions import db
from core.ids import record_id
from core.localtime import zone
from core.timeutil import utcnow

ROLES = ("marketer", "admin")
LIST_LIMIT = 300
bp = Blueprint("channels_admin", __name__, url_prefix="/admin/links", template_folder="templates")


def staff_choices(empty: str) -> list[tuple[int, str]]:
    users = db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.name, User.email))
    return [(0, empty)] + [(user.id, user.name or user.email) for user in users]


def lead_counts(link_ids) -> dict[int, int]:
    if not link_ids:
        return {}
    rows = db.session.execute(
        select(LinkLead.link_id, func.count(func.distinct(LinkLead.lead_id)))
        .where(LinkLead.link_id.in_(link_ids))
        .group_by(LinkLead.link_id)
    )
    return dict(rows.all())


@bp.get("/")
@roles_required(*ROLES)
def links_list():
    rows = db.session.scalars(
        select(ShortLink)
        .where(ShortLink.share_key.is_(None))
        .order_by(ShortLink.created_at.desc(), ShortLink.id.desc())
        .limit(LIST_LIMIT)
    ).all()
    return render_template(
        "channels/admin/links.html", rows=rows, leads=lead_counts([row.id for row in rows]), now=utcnow()
    )


def _expiry(day: date | None) -> datetime | None:
    """The end of `day` in the reader's zone, as naive UTC."""
    if day is None:
        return None
    local = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone())
    return local.astimezone(UTC).replace(tzinfo=None)


def _expiry_day(value: datetime | None) -> date | None:
    if value is None:
        return None
    return (value.replace(tzinfo=UTC).astimezone(zone()) - timedelta(days=1)).date()


@bp.route("/new", methods=["GET", "POST"], endpoint="new_link")
@bp.route("/<int:link_id>", methods=["GET", "POST"], endpoint="link")
@roles_required(*ROLES)
def edit_link(link_id: int | None = None):
    link = db.get_or_404(ShortLink, link_id) if link_id is not None else None
    form = LinkForm()
    form.owner_id.choices = staff_choices(_("Nobody"))
    if request.method == "GET":
        if link is not None:
            form.target.data, form.code.data, form.channel.data = link.target, link.code, link.channel
            form.campaign.data, form.owner_id.data = link.campaign, link.owner_id or 0
            form.expires_on.data = _expiry_day(link.expires_at)
        else:
            form.target.data = request.args.get("target", "")[:400]
    if form.validate_on_submit():
        data = {
            "target": form.target.data,
            "code": form.code.data,
            "channel": form.channel.data,
            "campaign": form.campaign.data,
            "owner_id": form.owner_id.data if form.owner_id.data in dict(form.owner_id.choices) else None,
            "expires_at": _expiry(form.expires_on.data),
        }
        try:
            saved = links.save_link(data, now=utcnow(), link=link)
        except links.LinkError as exc:
            for name, message in exc.errors.items():
                getattr(form, "expires_on" if name == "expires_at" else name).errors = [message]
        else:
            return redirect(url_for("channels_admin.link", link_id=saved.id, saved=1), 303)
    elif request.method == "POST" and form.expires_on.errors:
        form.expires_on.errors = [_("Enter a date such as 2026-12-31.")]
    status = 422 if request.method == "POST" else 200
    figures = None
    if link is not None:
        figures = {"leads": lead_counts([link.id]).get(link.id, 0)}
    return (
        render_template(
            "channels/admin/link.html",
            form=form,
            link=link,
            figures=figures,
            channels=CHANNELS,
            short_url=links.short_url(link) if link else "",
            qr_svg=qr.svg_inline(links.qr_url(link)) if link else "",
            now=utcnow(),
        ),
        status,
    )


def qr_download(link: ShortLink, kind: str) -> Response:
    """A link's QR code as a file to download (slides, posters, WeChat articles)."""
    data = qr.svg(links.qr_url(link)) if kind == "svg" else qr.png(links.qr_url(link))
    response = Response(data, mimetype="image/svg+xml" if kind == "svg" else "image/png")
    response.headers["Content-Disposition"] = f'attachment; filename="qr-{link.code}.{kind}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/<int:link_id>/download/qr.<any(svg, png):kind>")
@roles_required(*ROLES)
def link_qr(link_id: int, kind: str):
    return qr_download(db.get_or_404(ShortLink, link_id), kind)


@bp.route("/partners", methods=["GET", "POST"])
@roles_required(*ROLES)
def partners():
    form = PartnerForm()
    status = 200
    if form.validate_on_submit():
        try:
            sharing.save_partner(form.name.data, form.contact.data, now=utcnow())
        except sharing.PartnerError as exc:
            for name, message in exc.errors.items():
                getattr(form, name).errors = [message]
            status = 422
        else:
            return redirect(url_for("channels_admin.partners", saved=1), 303)
    elif request.method == "POST":
        status = 422
    rows = db.session.scalars(select(Partner).order_by(Partner.name)).all()
    return render_template("channels/admin/partners.html", form=form, rows=rows), status


def _week(value: str | None) -> date:
    today = site_day(utcnow())
    try:
        day = date.fromisoformat(value) if value else today
    except ValueError:
        day = today
    return sharing.week_start(day)


@bp.get("/leaderboard")
@roles_required(*ROLES)
def leaderboard():
    start = _week(request.args.get("week"))
    article_id = request.args.get("article", type=record_id)
    article = db.session.get(Article, article_id) if article_id else None
    return render_template(
        "channels/admin/leaderboard.html",
        start=start,
        end=start + timedelta(days=6),
        previous=start - timedelta(days=7),
        following=start + timedelta(days=7),
        sharers=sharing.sharer_board(start=start, article_id=article.id if article else None),
        content=sharing.content_board(start=start),
        article=article,
    )


@bp.route("/advisors", methods=["GET", "POST"])
@roles_required(*ROLES)
def advisor_cards():
    form = AdvisorCardForm()
    form.user_id.choices = staff_choices(_("No one: a campaign's card"))
    status = 200
    if form.validate_on_submit():
        upload = form.image.data
        data = b""
        if upload:
            # Read no more than one byte past the cap; a large upload's spooled file is
            # closed here rather than left to the garbage collector.
            with upload.stream as stream:
                data = stream.read(current_app.config["ADVISOR_QR_MAX_BYTES"] + 1)
        user_id = (
            form.user_id.data
            if form.user_id.data in dict(form.user_id.choices) and form.user_id.data
            else None
        )
        try:
            advisors.save_card(data, now=utcnow(), user_id=user_id, campaign=form.campaign.data)
        except advisors.CardError as exc:
            form.image.errors = [exc.message]
            status = 422
        else:
            return redirect(url_for("channels_admin.advisor_cards", saved=1), 303)
    elif request.method == "POST":
        status = 422
    rows = db.session.scalars(select(AdvisorCard).order_by(AdvisorCard.updated_at.desc())).all()
    return render_template("channels/admin/advisors.html", form=form, rows=rows), status


@bp.post("/advisors/<int:card_id>/delete")
@roles_required(*ROLES)
def delete_advisor_card(card_id: int):
    advisors.delete_card(db.get_or_404(AdvisorCard, card_id))
    return redirect(url_for("channels_admin.advisor_cards"), 303)
