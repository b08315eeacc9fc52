"""The campaign editor in the admin: create and edit a campaign, its audience's live
count, previews (desktop and phone) and test sends. The form becomes a campaign file's
mapping (campaigns.editor) and is saved by the file's own check (services.save_campaign),
so a mistake comes back beside its field with nothing saved or queued. Previews and test
sends are nurture's, as for a sequence step."""

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from accounts.guards import roles_required
from campaigns import audience, editor, sending, services
from campaigns.admin import ROLES, bp
from campaigns.forms import CampaignForm
from campaigns.models import Campaign, Segment
from campaigns.validation import CampaignError, audience_rules
from core.extensions import db
from core.security import reads_json
from core.timeutil import utcnow
from nurture.admin import mail_preview, queue_test_to_me


@bp.route("/new", methods=["GET", "POST"], endpoint="new_campaign")
@bp.route("/<int:campaign_id>/edit", methods=["GET", "POST"], endpoint="edit_campaign")
@roles_required(*ROLES)
def edit_campaign(campaign_id: int | None = None):
    campaign = db.get_or_404(Campaign, campaign_id) if campaign_id is not None else None
    form = CampaignForm()
    editor.offer_choices(form)
    if request.method == "GET" and campaign is not None:
        editor.fill(form, campaign)
    problems: list[str] = []
    if form.validate_on_submit():
        try:
            saved, _outcome = services.save_campaign(
                editor.as_data(form, campaign), now=utcnow(), campaign_id=campaign_id
            )
        except CampaignError as exc:
            problems = editor.place_errors(form, exc.errors)
        else:
            if form.when.data == "now":
                _start(saved)
            else:
                flash(_("Campaign saved."), "success")
            return redirect(url_for("campaigns_admin.campaign", campaign_id=saved.id))
    status = 422 if request.method == "POST" else 200
    return _editor(form, campaign, problems), status


def _editor(form: CampaignForm, campaign: Campaign | None, problems: list[str]):
    return render_template(
        "campaigns/admin/campaign_edit.html",
        form=form,
        campaign=campaign,
        problems=problems,
        started=campaign is not None and campaign.status in services.STARTED,
    )


def _start(campaign: Campaign) -> None:
    try:
        fixed = sending.start(campaign.id, now=utcnow())
    except sending.NotStartable:
        flash(_("The send had already started."), "error")
        return
    flash(
        _("Sending: %(n)d recipients fixed; the worker delivers their mail.", n=fixed),
        "success",
    )


@bp.post("/audience")
@reads_json
@roles_required(*ROLES)
def audience_count():
    """The editor's live count: who the chosen segments minus the exclusions reach now
    (with marketing consent), as JSON {"count"}."""
    payload = request.get_json(silent=True) or {}
    slugs = {slug for slug in db.session.scalars(db.select(Segment.slug))}

    def chosen(key: str) -> list[dict]:
        given = payload.get(key) if isinstance(payload, dict) else None
        return [{"segment": slug} for slug in (given if isinstance(given, list) else []) if slug in slugs]

    included = chosen("segments")
    if not included:
        return jsonify({"count": 0})
    return jsonify({"count": audience.count(audience_rules(included, chosen("exclude")), now=utcnow())})


def _chosen_mail(form: CampaignForm, campaign: Campaign | None) -> tuple[str, str, str]:
    """The subject and body a Preview / Send test button stands for, as typed."""
    which = request.form.get("which", "subject")
    subject = form.subject.data or ""
    if which.startswith("variant-") and which[8:].isdigit() and int(which[8:]) < len(form.variants.entries):
        subject = form.variants.entries[int(which[8:])].data or ""
    elif form.test.data:
        subject = form.variants.entries[0].data or ""
    locale = campaign.locale if campaign else current_app.config["DEFAULT_LOCALE"]
    return subject, form.body.data or "", locale


def _posted() -> tuple[CampaignForm, Campaign | None]:
    form = CampaignForm()
    editor.offer_choices(form)
    form.validate_on_submit()
    if "csrf_token" in form.errors:
        abort(400)
    campaign_id = request.form.get("campaign_id", type=int)
    return form, db.session.get(Campaign, campaign_id) if campaign_id else None


@bp.post("/preview")
@roles_required(*ROLES)
def preview_mail():
    """The mail as typed for the sample lead, into the editor's desktop or phone frame."""
    form, campaign = _posted()
    return mail_preview(*_chosen_mail(form, campaign))


@bp.post("/test-send")
@roles_required(*ROLES)
def test_send():
    """Queue the mail as typed to the signed-in user; the editor comes back as it was."""
    form, campaign = _posted()
    status = queue_test_to_me(*_chosen_mail(form, campaign))
    return _editor(form, campaign, []), status
