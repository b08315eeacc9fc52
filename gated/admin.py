"""The lead admin (/admin/leads): list with search and filters, CSV export, a lead's page
with its whole timeline, stage change, JSON export of one person, erase and anonymise;
the submissions held or refused as automated, with a one-click release of a held one.
Marketers, sales and admins only."""

import json

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from accounts.guards import may_open, roles_required
from core.extensions import db
from core.hooks import hooks, lead_timeline
from core.listing import bulk_request, chosen_sort, keyset_page
from core.localtime import zone_choices, zone_label
from core.signals import send_staff_action
from core.spreadsheet import csv_download
from core.timeutil import utcnow
from gated import holding, leadfields, privacy, timeline
from gated.labels import label
from gated.leads import NotFound
from gated.listing import (
    LEAD_SORTS,
    LeadFilters,
    export_rows,
    frequent_sources,
    lead_page,
    lead_query,
    to_csv,
    view_choices,
)
from gated.models import CHANNELS, STAGES, Asset, HeldSubmission, Lead
from gated.stages import change_stage, change_stages
from gated.validation import InvalidSubmission

ROLES = ("marketer", "sales", "admin")
MAX_BULK = 500  # leads one bulk action takes: more than a page, far less than the table
bp = Blueprint("gated_admin", __name__, url_prefix="/admin/leads", template_folder="templates")


def lead_or_404(lead_id: int) -> Lead:
    lead = db.session.get(Lead, lead_id)
    if lead is None:
        abort(404)
    return lead


@bp.get("/")
@roles_required(*ROLES)
def leads():
    filters = LeadFilters.from_args(request.args)
    number = request.args.get("page", "")
    sort = chosen_sort(LEAD_SORTS, request.args.get("sort")).key
    page = lead_page(
        filters,
        per_page=current_app.config["LEADS_PER_PAGE"],
        page=int(number) if number.isdecimal() and len(number) < 7 else 1,
        after=request.args.get("after"),
        before=request.args.get("before"),
        sort=sort,
    )
    ids = [lead.id for lead in page.items]
    sources = frequent_sources()
    if filters.source and filters.source not in sources:
        sources.append(filters.source)
    return render_template(
        "gated/admin/leads.html",
        source_label=source_label,
        page=page,
        filters=filters,
        args={**filters.as_args(), **({"sort": sort} if sort != LEAD_SORTS[0].key else {})},
        sort=sort,
        columns=[(label, cells(ids) if ids else {}) for label, cells in hooks(current_app).lead_list_columns],
        stages=STAGES,
        choices={
            "stage": [(stage, label("stage", stage)) for stage in STAGES],
            "channel": [(channel, label("channel", channel)) for channel in CHANNELS],
            "source": [(source, source_label(source)) for source in sources],
            "asset": [
                (asset.id, asset.title) for asset in db.session.scalars(select(Asset).order_by(Asset.title))
            ],
        },
        views=view_choices(),
        actions=[render(filters.as_args()) for render in hooks(current_app).lead_list_actions],
    )


@bp.post("/stages")
@roles_required(*ROLES)
def bulk_stage():
    """The list's bulk action: the ticked leads (at most a page) move to one stage."""
    ticked = bulk_request(request.form, "lead", limit=MAX_BULK, fallback=url_for("gated_admin.leads"))
    new = request.form.get("stage", "")
    if new not in STAGES:
        flash(_("Choose a stage from the list."), "error")
    elif not ticked.ids:
        flash(_("Tick the leads to move first."), "error")
    else:
        moved = change_stages(ticked.ids, new, now=utcnow())
        flash(_("%(n)d leads moved to %(stage)s.", n=moved, stage=label("stage", new)), "success")
    return redirect(ticked.back)


@bp.get("/export.csv")
@roles_required(*ROLES)
def export_csv():
    filters = LeadFilters.from_args(request.args)
    rows = export_rows(filters)
    body = to_csv(rows)
    send_staff_action(
        "leads.export", user=current_user, details={"filters": filters.as_args(), "count": len(rows)}
    )
    name = f"leads-{utcnow():%Y%m%d-%H%M}.csv"
    return csv_download(body, name)


@bp.route("/erase", methods=["GET", "POST"])
@roles_required("marketer", "admin")
def erase_filtered():
    """Bulk erase of the filtered list, after a confirmation page that shows the count."""
    filters = LeadFilters.from_args(request.values)
    if not filters.as_args():
        flash(_("Filter the list first: bulk erase never takes every lead at once."), "error")
        return redirect(url_for("gated_admin.leads"))
    ids = db.session.scalars(lead_query(filters).with_only_columns(Lead.id)).all()
    if request.method == "POST" and request.form.get("confirm") == "yes":
        count = privacy.erase_leads(ids)
        send_staff_action(
            "leads.erase", user=current_user, details={"filters": filters.as_args(), "count": count}
        )
        flash(_("%(n)d leads erased.", n=count), "success")
        return redirect(url_for("gated_admin.leads"))
    return render_template("gated/admin/erase.html", lead=None, count=len(ids), args=filters.as_args())


@bp.get("/held")
@roles_required(*ROLES)
def held():
    now = utcnow()
    q = (request.args.get("q") or "").strip()[:200]
    state = request.args.get("state", "") if request.args.get("state") in holding.HELD_STATES else ""
    sort = chosen_sort(holding.HELD_SORTS, request.args.get("sort"))
    number = request.args.get("page", "")
    page = keyset_page(
        holding.held_query(q=q, state=state),
        sort=sort,
        id_column=HeldSubmission.id,
        per_page=current_app.config["LEADS_PER_PAGE"],
        page=int(number) if number.isdecimal() and len(number) < 7 else 1,
        after=request.args.get("after"),
        before=request.args.get("before"),
        session=db.session,
    )
    filters = {name: value for name, value in (("q", q), ("state", state)) if value}
    return render_template(
        "gated/admin/held.html",
        page=page,
        filters=filters,
        args={**filters, **({"sort": sort.key} if sort != holding.HELD_SORTS[0] else {})},
        sort=sort.key,
        states=[("waiting", _("Waiting")), ("released", _("Released"))],
        refused=holding.refused_counts(now=now),
        days=current_app.config["HELD_SUBMISSION_DAYS"],
    )


@bp.post("/held/<int:held_id>/release")
@roles_required(*ROLES)
def release(held_id):
    """One click: the held submission becomes a lead through the form capture; who
    released it, and when, stays on its row."""
    try:
        released = holding.release(held_id, now=utcnow(), released_by_id=current_user.id)
    except holding.AlreadyReleased:
        flash(_("That submission was released already."), "error")
        return redirect(url_for("gated_admin.held"))
    except NotFound:
        abort(404)
    except InvalidSubmission as exc:
        flash(_("It cannot become a lead: %(problems)s", problems=" ".join(exc.errors.values())), "error")
        return redirect(url_for("gated_admin.held"))
    send_staff_action("leads.held_release", user=current_user, target=f"lead:{released.lead_id}")
    flash(_("Released: it is a lead now, with its mails and enrolment."), "success")
    return redirect(url_for("gated_admin.lead", lead_id=released.lead_id))


@bp.get("/<int:lead_id>")
@roles_required(*ROLES)
def lead(lead_id):
    return _lead_page(lead_or_404(lead_id))


def source_label(source: str) -> str:
    """A lead's source as the list shows it: a campaign's own name, "direct" in words."""
    return label("channel", "direct") if source == "direct" else source


def zones_with(current: str) -> list[tuple[str, str]]:
    """The time zones offered on the lead page, with the lead's own when it is not one of
    them (one an import or the API set) so that saving the page keeps it."""
    choices = zone_choices()
    if current and current not in {value for value, _words in choices}:
        try:
            words = zone_label(current)
        except (ValueError, LookupError):  # a refused name, shown as typed beside its error
            words = current
        choices.insert(0, (current, words))
    return choices


def _lead_page(lead: Lead, *, typed: dict | None = None, errors: dict | None = None, status: int = 200):
    typed = typed or {"locale": lead.locale, "timezone": lead.timezone, "tags": ", ".join(lead.tags)}
    return render_template(
        "gated/admin/lead.html",
        lead=lead,
        stages=STAGES,
        languages=leadfields.site_languages(),
        zones=zones_with(typed.get("timezone") or lead.timezone),
        typed=typed,
        errors=errors or {},
        timeline=[
            {**event, "url": event.get("url") if may_open(event.get("url")) else None}
            for event in lead_timeline(current_app, lead.id)
        ],
        submissions=timeline.submissions(lead.id),
        message=timeline.latest_messages([lead.id]).get(lead.id, ""),
        panels=[render(lead) for render in hooks(current_app).lead_panels],
    ), status


@bp.post("/<int:lead_id>/fields")
@roles_required(*ROLES)
def lead_fields(lead_id):
    """The lead's language, time zone and tags; a mistake comes back beside its field
    (422) and nothing is changed."""
    lead = lead_or_404(lead_id)
    typed = {name: (request.form.get(name) or "")[:2000] for name in ("locale", "timezone", "tags")}
    checks = {
        "locale": leadfields.clean_locale,
        "timezone": leadfields.clean_timezone,
        "tags": leadfields.clean_tags,
    }
    clean, errors = {}, {}
    for name, check in checks.items():
        try:
            clean[name] = check(typed[name])
        except leadfields.FieldError as exc:
            errors[name] = str(exc)
    if errors:
        return _lead_page(lead, typed=typed, errors=errors, status=422)
    lead.locale, lead.timezone = clean["locale"], clean["timezone"]
    leadfields.set_tags(lead, clean["tags"])
    lead.updated_at = utcnow()
    db.session.commit()
    flash(_("Saved."), "success")
    return redirect(url_for("gated_admin.lead", lead_id=lead_id))


@bp.post("/<int:lead_id>/stage")
@roles_required(*ROLES)
def stage(lead_id):
    old = lead_or_404(lead_id).stage
    new = request.form.get("stage", "")
    if new not in STAGES:
        flash(_("Choose a stage from the list."), "error")
    else:
        change_stage(lead_id, new, now=utcnow())
        send_staff_action(
            "leads.stage_change",
            user=current_user,
            target=f"lead:{lead_id}",
            details={"from": old, "to": new},
        )
        flash(_("Stage changed."), "success")
    return redirect(url_for("gated_admin.lead", lead_id=lead_id))


@bp.get("/<int:lead_id>/export.json")
@roles_required(*ROLES)
def export_person(lead_id):
    lead_or_404(lead_id)
    body = json.dumps(privacy.export_person(lead_id), ensure_ascii=False, indent=2)
    send_staff_action("leads.export", user=current_user, target=f"lead:{lead_id}", details={"count": 1})
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": f"attachment; filename=lead-{lead_id}.json"},
    )


@bp.route("/<int:lead_id>/erase", methods=["GET", "POST"])
@roles_required(*ROLES)
def erase(lead_id):
    lead = lead_or_404(lead_id)
    if request.method == "POST" and request.form.get("confirm") == "yes":
        privacy.erase_lead(lead.email)
        send_staff_action("leads.erase", user=current_user, target=f"lead:{lead_id}", details={"count": 1})
        flash(_("The person's data was erased."), "success")
        return redirect(url_for("gated_admin.leads"))
    return render_template("gated/admin/erase.html", lead=lead, count=1, args={})


@bp.post("/<int:lead_id>/anonymise")
@roles_required(*ROLES)
def anonymise(lead_id):
    lead_or_404(lead_id)
    privacy.anonymise_lead(lead_id, now=utcnow())
    send_staff_action(
        "leads.erase", user=current_user, target=f"lead:{lead_id}", details={"anonymised": True}
    )
    flash(_("The lead was anonymised: counts are kept, the person is gone."), "success")
    return redirect(url_for("gated_admin.lead", lead_id=lead_id))


@bp.app_template_global("lead_label")
def lead_label(kind: str, value: str | None) -> str:
    return label(kind, value)
