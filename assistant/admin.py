"""The assistant's admin (/admin/assistant): tickets and escalations with their
conversations, status and owner; the unsolved questions (the help center's to-write
list) and the deflection figures; customer accounts and their five tiers.

Roles: sales (who own the customer accounts) work the tickets and accounts; editors see
the to-write list and the figures; admins see everything and alone rename the tiers.
"""

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from accounts.guards import roles_required
from accounts.models import User
from assistant import listing, services, stats, tiers
from assistant.models import ROUTES, TICKET_ROUTES, TICKET_STATUSES, CustomerAccount, Ticket, Tier
from core.extensions import db
from core.hooks import add_audit_words
from core.i18n import colon, word_list
from core.ids import parse_id
from core.listing import chosen_sort, list_args, request_page
from core.signals import send_staff_action
from core.timeutil import utcnow
from core.trends import point_label
from core.urls import absolute_url_for

SUPPORT_ROLES = tiers.SUPPORT_ROLES
INSIGHT_ROLES = ("sales", "editor")
bp = Blueprint("assistant_admin", __name__, url_prefix="/admin/assistant", template_folder="templates")


def _staff() -> list[User]:
    return tiers.ticket_workers()


def _period() -> tuple:
    """The last ?days= days (90 by default, 7 to 730)."""
    try:
        days = max(7, min(int(request.args.get("days", 90)), 730))
    except ValueError:
        days = 90
    now = utcnow()
    return now - timedelta(days=days), now + timedelta(seconds=1), days


@bp.get("/")
@roles_required(*SUPPORT_ROLES)
def tickets():
    filters = listing.TicketFilters.from_args(request.args)
    sort = chosen_sort(listing.TICKET_SORTS, request.args.get("sort"))
    page = _page(filters.query(), sort, Ticket.id)
    return render_template(
        "assistant/admin/tickets.html",
        page=page,
        filters=filters,
        args=list_args(filters.as_args(), sort, listing.TICKET_SORTS),
        sort=sort.key,
        statuses=[(value, ticket_status(value)) for value in TICKET_STATUSES],
        routes=[(value, ticket_route(value)) for value in TICKET_ROUTES],
        owners=[(user.id, user.display_name) for user in _staff()],
    )


def _page(query, sort, id_column):
    return request_page(query, sort=sort, id_column=id_column, per_page=listing.PAGE_SIZE, session=db.session)


@bp.route("/tickets/<int:ticket_id>", methods=["GET", "POST"])
@roles_required(*SUPPORT_ROLES)
def ticket(ticket_id):
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None:
        abort(404)
    if request.method == "POST":
        owner_id = parse_id(request.form.get("owner_id"))
        if request.form.get("owner_id") and not tiers.works_tickets(owner_id):
            # The status is still saved; the owner stays who it was.
            flash(_("Choose someone who works tickets: sales or an admin."), "error")
            owner_id = ticket.owner_id
        try:
            services.update_ticket(
                ticket, status=request.form.get("status", ""), owner_id=owner_id, now=utcnow()
            )
        except services.AssistantError as exc:
            flash(" ".join(exc.errors.values()), "error")
        else:
            flash(_("Ticket saved."), "success")
        return redirect(url_for("assistant_admin.ticket", ticket_id=ticket.id), 303)
    return render_template(
        "assistant/admin/ticket.html", ticket=ticket, statuses=TICKET_STATUSES, staff=_staff()
    )


@bp.get("/unsolved")
@roles_required(*INSIGHT_ROLES)
def unsolved():
    since, until, days = _period()
    return render_template("assistant/admin/unsolved.html", groups=stats.unsolved(since, until), days=days)


def _rate_chart(rates: list) -> tuple[list[str], list]:
    """Rates as (labels, series) for the shared bar chart, in whole percents."""
    return [str(rate.label) for rate in rates], [
        (_("Deflection"), [round(rate.rate * 100) for rate in rates])
    ]


@bp.get("/stats")
@roles_required(*INSIGHT_ROLES)
def figures():
    since, until, days = _period()
    rates = stats.deflection(since, until)
    for rate in rates["weeks"]:
        rate.label = point_label(rate.start, "week")  # 11月16日当周, as the insights page says
    for rate in rates["tiers"]:
        rate.label = tiers.tier_name(rate.label)
    return render_template(
        "assistant/admin/stats.html",
        rates=rates,
        charts={name: _rate_chart(rates[name]) for name in ("weeks", "tiers")},
        articles=stats.articles(since, until),
        days=days,
    )


@bp.get("/accounts")
@roles_required(*SUPPORT_ROLES)
def accounts():
    filters = listing.AccountFilters.from_args(request.args)
    sort = chosen_sort(listing.ACCOUNT_SORTS, request.args.get("sort"))
    tier_rows = db.session.scalars(select(Tier).order_by(Tier.level)).all()
    return render_template(
        "assistant/admin/accounts.html",
        page=_page(filters.query(), sort, CustomerAccount.id),
        filters=filters,
        args=list_args(filters.as_args(), sort, listing.ACCOUNT_SORTS),
        sort=sort.key,
        tiers=[(tier.id, f"{tier.level} · {tiers.tier_name(tier.name)}") for tier in tier_rows],
        owners=[(user.id, user.display_name) for user in _staff()],
    )


@bp.route("/accounts/new", methods=["GET", "POST"], defaults={"account_id": None})
@bp.route("/accounts/<int:account_id>", methods=["GET", "POST"])
@roles_required(*SUPPORT_ROLES)
def account(account_id):
    current = db.session.get(CustomerAccount, account_id) if account_id else None
    if account_id and current is None:
        abort(404)
    errors, form = {}, {}
    if request.method == "POST":
        form = request.form.to_dict()
        try:
            saved = tiers.save_account(account_id, form, now=utcnow())
        except tiers.AccountError as exc:
            errors = exc.errors
        else:
            flash(_("Account saved."), "success")
            return redirect(url_for("assistant_admin.account", account_id=saved.id), 303)
    elif current is not None:
        form = {
            "company": current.company,
            "domains": current.domains,
            "contacts": current.contacts,
            "tier_id": str(current.tier_id),
            "owner_id": str(current.owner_id or ""),
        }
    link = None
    if current is not None:
        link = absolute_url_for("assistant.ask", account=tiers.account_link_token(current.id))
    return render_template(
        "assistant/admin/account.html",
        account=current,
        form=form,
        errors=errors,
        tiers=tiers.ensure_tiers(),
        staff=_staff(),
        link=link,
    ), 422 if errors else 200


@bp.route("/tiers", methods=["GET", "POST"])
@roles_required()
def tier_settings():
    errors = {}
    if request.method == "POST":
        values = {
            tier.id: (request.form.get(f"name-{tier.id}", ""), request.form.get(f"route-{tier.id}", ""))
            for tier in db.session.scalars(select(Tier))
        }
        try:
            tiers.save_tiers(values)
        except tiers.AccountError as exc:
            errors = exc.errors
        else:
            send_staff_action(
                "settings.support_tiers",
                user=current_user,
                details={"tiers": [{"name": name, "route": route} for name, route in values.values()]},
            )
            flash(_("Tiers saved."), "success")
            return redirect(url_for("assistant_admin.tier_settings"), 303)
    return render_template(
        "assistant/admin/tiers.html", tiers=tiers.ensure_tiers(), routes=ROUTES, errors=errors
    ), 422 if errors else 200


LABELS = {
    "open": _l("Open"),
    "answered": _l("Answered"),
    "closed": _l("Closed"),
    "owner": _l("Account owner by email"),
    "ticket": _l("Ticket form"),
    "lead": _l("Anonymous (lead)"),
}


@bp.app_template_global("ticket_status")
def ticket_status(value: str) -> str:
    return str(LABELS.get(value, value))


bp.add_app_template_global(tiers.tier_name)


@bp.app_template_global("ticket_route")
def ticket_route(value: str) -> str:
    return str(LABELS.get(value, value))


def _tier_routes(tiers: list) -> str:
    return word_list(f"{tier['name']}{colon()}{ticket_route(tier['route'])}" for tier in tiers)


def register_audit_words(app) -> None:
    """The audit page reads a change of the support tiers with each tier's route in words."""
    add_audit_words(app, "settings.support_tiers", "tiers", _tier_routes)
    add_audit_words(app, "settings.support_tiers", "route", LABELS)
