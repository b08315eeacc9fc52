"""The campaigns admin (/admin/campaigns): segments (the list, the builder with its live
count and sample, a segment's members as CSV) and campaigns (the list, each campaign's
figures per variant and its test's decision, cancel). Marketers and admins only; every
change is a POST with the CSRF token (the preview's JSON request sends it as a header)."""

import re

import yaml
from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from accounts.guards import roles_required
from campaigns import audience, segments, sending, services
from campaigns.forms import SegmentForm
from campaigns.models import Campaign, Segment
from campaigns.rules import RuleError, clean_rules
from core import yamltext
from core.extensions import db
from core.security import reads_json
from core.signals import send_staff_action
from core.timeutil import utcnow
from gated.listing import lead_rows, to_csv

ROLES = ("marketer", "admin")
bp = Blueprint("campaigns_admin", __name__, url_prefix="/admin/campaigns", template_folder="templates")


class UnusableRules(ValueError):
    """Rules typed on the segment screen that cannot be used: `messages` names each
    problem with the line of the text it is on."""

    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


def _typed_rules(text: str) -> dict:
    """The rules field read as YAML and checked. The marketer sees the text, not the
    rule's structure, so each problem is placed by its line ("Line 3: …"), not by the
    path (all[1].field) a campaign file's check reports."""
    try:
        rules = yamltext.load(text or "")
    except yamltext.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise UnusableRules([_on_line(mark.line + 1 if mark else 1, _("not valid YAML"))]) from exc
    try:
        return clean_rules(rules, existing=True)
    except RuleError as exc:
        raise UnusableRules(
            [_on_line(line_of(text, where), message) for where, message in exc.problems]
        ) from exc


def _on_line(line: int, message: str) -> str:
    return _("Line %(line)d: %(message)s", line=line, message=message)


def line_of(text: str, where: str) -> int:
    """The line (from 1) of the YAML text that the path `where` (all[1].any[0].field)
    leads to; as far as the path goes when the text lacks the rest of it."""
    node = yaml.compose(text or "", Loader=yaml.SafeLoader)
    if node is None:
        return 1
    line = node.start_mark.line
    for index, key in re.findall(r"\[(\d+)\]|([^.\[\]]+)", where):
        if index and isinstance(node, yaml.SequenceNode) and int(index) < len(node.value):
            node = node.value[int(index)]
        elif key and isinstance(node, yaml.MappingNode):
            node = next((value for name, value in node.value if name.value == key), None)
            if node is None:
                break
        else:
            break
        line = node.start_mark.line
    return line + 1


@bp.get("/segments/")
@roles_required(*ROLES)
def segments_list():
    rows = db.session.scalars(db.select(Segment).order_by(Segment.name)).all()
    now = utcnow()
    counts = {segment.id: audience.count(segment.rules, now=now) for segment in rows}
    return render_template("campaigns/admin/segments.html", rows=rows, counts=counts)


@bp.route("/segments/new", methods=["GET", "POST"], endpoint="new_segment")
@bp.route("/segments/<int:segment_id>", methods=["GET", "POST"], endpoint="segment")
@roles_required(*ROLES)
def edit_segment(segment_id: int | None = None):
    segment = db.get_or_404(Segment, segment_id) if segment_id is not None else None
    form = SegmentForm()
    if request.method == "GET" and segment is not None:
        form.name.data, form.slug.data = segment.name, segment.slug
        form.rules.data = yaml.safe_dump(segment.rules, allow_unicode=True, sort_keys=False, width=100)
    if form.validate_on_submit():
        data = {"slug": form.slug.data, "name": form.name.data}
        located: list[str] = []
        try:
            data["rules"] = _typed_rules(form.rules.data)
        except UnusableRules as exc:
            # Still saved through the same check, so the name and slug are judged too
            # (every problem at once); the rules' own are shown by line.
            located, data["rules"] = exc.messages, None
        try:
            saved, _outcome = segments.save_segment(data, now=utcnow(), segment_id=segment_id)
        except segments.SegmentError as exc:
            for field, messages in exc.errors.items():
                getattr(form, field).errors = located if field == "rules" and located else list(messages)
        else:
            return redirect(url_for("campaigns_admin.segment", segment_id=saved.id, saved=1))
    status = 422 if request.method == "POST" else 200
    return render_template("campaigns/admin/segment.html", form=form, segment=segment), status


@bp.post("/segments/preview")
@reads_json
@roles_required(*ROLES)
def preview():
    """The builder's live count and ten sample members, as JSON."""
    payload = request.get_json(silent=True) or {}
    text = payload.get("rules") if isinstance(payload, dict) else None
    try:
        shown = segments.preview(_typed_rules(text if isinstance(text, str) else ""), now=utcnow())
    except UnusableRules as exc:
        return jsonify({"errors": exc.messages}), 422
    return jsonify(
        {
            "count": shown.count,
            "sample": [
                {
                    "id": lead.id,
                    "email": lead.email,
                    "name": lead.name,
                    "company": lead.company,
                    "url": url_for("gated_admin.lead", lead_id=lead.id),
                }
                for lead in shown.sample
            ],
        }
    )


@bp.get("/segments/<int:segment_id>/export.csv")
@roles_required(*ROLES)
def export_csv(segment_id: int):
    segment = db.get_or_404(Segment, segment_id)
    rows = lead_rows(db.session.scalars(audience.members(segment.rules, now=utcnow())))
    body = "\ufeff" + to_csv(rows)  # the BOM makes Excel read UTF-8 Chinese
    send_staff_action(
        "segments.export", user=current_user, target=f"segment:{segment.id}", details={"count": len(rows)}
    )
    name = f"segment-{segment.slug}-{utcnow():%Y%m%d-%H%M}.csv"
    return Response(
        body, mimetype="text/csv", headers={"Content-Disposition": f"attachment; filename={name}"}
    )


@bp.get("/")
@roles_required(*ROLES)
def campaigns_list():
    rows = db.session.scalars(
        db.select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc())
    ).all()
    return render_template(
        "campaigns/admin/campaigns.html", rows=[(campaign, sending.figures(campaign)) for campaign in rows]
    )


@bp.post("/<int:campaign_id>/cancel")
@roles_required(*ROLES)
def cancel(campaign_id: int):
    """Stop what is not yet sent; the message says how many went out."""
    went = services.cancel(campaign_id, now=utcnow())
    flash(_("Campaign cancelled: %(n)d mails had gone out; nothing more will be sent.", n=went), "success")
    return redirect(url_for("campaigns_admin.campaign", campaign_id=campaign_id))


STATUS_LABELS = {
    "draft": _l("Draft"),
    "scheduled": _l("Scheduled"),
    "sending": _l("Sending: the test is waiting for its winner"),
    "sent": _l("Every mail queued"),
    "cancelled": _l("Cancelled"),
}
METRIC_LABELS = {"opens": _l("opens"), "clicks": _l("clicks")}


@bp.app_template_global("campaign_status")
def campaign_status(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


@bp.app_template_global("metric_label")
def metric_label(metric: str) -> str:
    return str(METRIC_LABELS.get(metric, metric))
