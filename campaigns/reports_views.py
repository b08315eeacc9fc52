"""A campaign's report in the admin (its page: figures per variant and resend, what it
brought within a window, the click map of each variant), the comparison across
campaigns, and both as CSV through core.spreadsheet. Marketers and admins only."""

from flask import Response, abort, render_template, request
from flask_babel import gettext as _
from flask_babel import ngettext

from accounts.guards import roles_required
from campaigns import reports
from campaigns.admin import ROLES, bp
from campaigns.models import Campaign, Recipient
from core.extensions import db
from core.localtime import iso_local
from core.spreadsheet import csv_text
from core.timeutil import utcnow
from nurture.admin import mail_preview


def _window() -> int:
    window = request.args.get("window", type=int)
    return window if window in reports.WINDOWS else reports.DEFAULT_WINDOW


def headings() -> dict[str, str]:
    return {
        "queued": _("Queued"),
        "sent": _("Mails sent"),
        "delivered": _("Delivered"),
        "opened": _("Opened"),
        "clicked": _("Clicked"),
        "unsubscribed": _("Left the topic"),
        "bounced": _("Bounced"),
        "complained": _("Complaints"),
        "mqls": _("Became MQL"),
        "influenced": _("Sent a form"),
    }


def row_label(row: dict) -> str:
    return _("Resend to non-openers") if row["label"] == "resend" else _("Variant %(n)d", n=row["label"] + 1)


@bp.get("/<int:campaign_id>", endpoint="campaign")
@roles_required(*ROLES)
def report(campaign_id: int):
    shown = db.get_or_404(Campaign, campaign_id)
    window = _window()
    rows = reports.variant_figures(shown, window_days=window)
    return render_template(
        "campaigns/admin/campaign.html",
        campaign=shown,
        rows=rows,
        total=reports.totals(rows),
        headings=headings(),
        row_label=row_label,
        window=window,
        windows=reports.WINDOWS,
        recipients=db.session.scalar(
            db.select(db.func.count()).select_from(Recipient).where(Recipient.campaign_id == shown.id)
        ),
    )


@bp.get("/<int:campaign_id>/click-map/<label>")
@roles_required(*ROLES)
def click_map(campaign_id: int, label: str):
    """The variant's mail (for the sample lead) with each link's clicks beside it."""
    shown = db.get_or_404(Campaign, campaign_id)
    if label == "resend" and shown.resend_after_minutes:
        subject, body = shown.resend_subject, shown.variants[0].get("body") or shown.body
    elif label.isdigit() and int(label) < len(shown.variants):
        chosen = shown.variants[int(label)]
        subject, body = chosen["subject"], chosen.get("body") or shown.body
    else:
        abort(404)
    counts = reports.link_clicks(shown).get(label, {})
    annotate = reports.click_map(counts, lambda n: ngettext("%(num)d click", "%(num)d clicks", n))
    return mail_preview(subject, body, shown.locale, annotate=annotate)


def _csv(name: str, header: list[str], rows: list[list]) -> Response:
    body = "\ufeff" + csv_text(header, rows)  # the BOM makes Excel read UTF-8 Chinese
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={name}-{utcnow():%Y%m%d-%H%M}.csv"},
    )


@bp.get("/<int:campaign_id>/report.csv")
@roles_required(*ROLES)
def report_csv(campaign_id: int):
    shown = db.get_or_404(Campaign, campaign_id)
    names = headings()
    rows = reports.variant_figures(shown, window_days=_window())
    return _csv(
        f"campaign-{shown.slug}",
        [_("Variant"), _("Subject"), *names.values()],
        [[row_label(row), row["subject"], *(row[key] for key in names)] for row in rows],
    )


@bp.get("/compare")
@roles_required(*ROLES)
def compare():
    window = _window()
    return render_template(
        "campaigns/admin/compare.html",
        rows=reports.comparison(window_days=window),
        headings=headings(),
        window=window,
        windows=reports.WINDOWS,
    )


@bp.get("/compare.csv")
@roles_required(*ROLES)
def compare_csv():
    names = headings()
    rows = reports.comparison(window_days=_window())
    return _csv(
        "campaigns",
        [_("Name"), _("Slug"), _("Topic"), _("Started"), *names.values()],
        [
            [
                row["campaign"].name,
                row["campaign"].slug,
                row["campaign"].topic.name,
                iso_local(row["campaign"].started_at),
            ]
            + [row[key] for key in names]
            for row in rows
        ],
    )
