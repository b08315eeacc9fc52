"""Search admin: what visitors searched for (and did not find), per day and in all, the
synonym groups, and the synonym pairs suggested by visitors' searches (accepted or
rejected in one click)."""

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from accounts.guards import roles_required
from content.search import learning
from content.search.analytics import search_groups, search_totals
from content.search.forms import SynonymForm
from content.search.models import Synonym
from content.search.synonyms import (
    InvalidSynonym,
    accept_proposal,
    delete_synonym,
    ensure_synonyms,
    evidence_titles,
    list_synonyms,
    propose_synonyms,
    reject_proposal,
    save_synonym,
    shared_terms,
)
from content.search.volume import search_volume
from core.extensions import db
from core.listing import TextSort, chosen_sort, list_args, request_slice, search_text
from core.localtime import local_today, site_zone
from core.timeutil import utcnow
from core.trends import midnight

admin_bp = Blueprint("search_admin", __name__, url_prefix="/admin/search", template_folder="templates")

PERIODS = (1, 7, 30, 90, 365)
REPORT_ROLES = ("editor", "marketer")
SUGGESTION_ROLES = ("editor",)


# The report's list orders (?sort=), the first the default.
REPORT_SORTS = [
    TextSort("times", lambda row: f"{row.searches:010d}"),
    TextSort("times_asc", lambda row: f"{row.searches:010d}", descending=False),
    TextSort("search", lambda row: row.normalised, descending=False),
    TextSort("search_desc", lambda row: row.normalised),
]
PAGE_SIZE = 50


def _group_key(row) -> str:
    """A search group's unique key as cursor text (hex: never an underscore; sorts as the
    text does)."""
    return row.normalised.encode().hex()


@admin_bp.get("/")
@roles_required(*REPORT_ROLES)
def report():
    try:
        days = int(request.args.get("days", 30))
    except ValueError:
        days = 30
    days = days if days in PERIODS else 30
    # The last `days` days of the site's zone, today included, so the chart's days add up
    # to the totals and tables (the insights page counts the same days).
    zone = site_zone()
    last = local_today(zone)
    first = last - timedelta(days=days - 1)
    since, until = midnight(first, tz=zone), midnight(last + timedelta(days=1), tz=zone)
    q = search_text(request.args)
    found_nothing = request.args.get("found") == "none"
    sort = chosen_sort(REPORT_SORTS, request.args.get("sort"))
    page = request_slice(
        search_groups(since, until, containing=q, only_empty=found_nothing),
        sort=sort,
        ident=_group_key,
        per_page=PAGE_SIZE,
    )
    filter_args = {
        name: value for name, value in (("q", q), ("found", "none" if found_nothing else "")) if value
    }
    return render_template(
        "content/search/admin_report.html",
        days=days,
        periods=PERIODS,
        volume=search_volume(first, last, tz=zone),
        site_zone=zone,
        totals=search_totals(since, until),
        page=page,
        q=q,
        found_nothing=found_nothing,
        filter_args=filter_args,
        period_args=list_args(filter_args, sort, REPORT_SORTS),
        args=list_args({"days": days, **filter_args}, sort, REPORT_SORTS),
        sort=sort.key,
    )


@admin_bp.route("/synonyms", methods=["GET", "POST"])
@roles_required("admin")
def synonyms():
    ensure_synonyms(now=utcnow())
    form = SynonymForm()
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                saved = save_synonym(None, form.terms.data, now=utcnow())
            except InvalidSynonym as exc:
                form.terms.errors.append(str(exc))
            else:
                _saved(saved, _("Synonym group added."))
                return redirect(url_for(".synonyms"))
        return _synonyms_page(form, status=422)
    return _synonyms_page(form)


def _synonyms_page(form: SynonymForm, *, failed: dict | None = None, status: int = 200):
    """The synonyms page; `failed`: a group whose change was refused ({id, text, error}),
    shown with what was typed and the reason beside it."""
    needle = request.args.get("filter", "")
    return (
        render_template(
            "content/search/admin_synonyms.html",
            form=form,
            rows=list_synonyms(needle),
            needle=needle,
            failed=failed,
        ),
        status,
    )


def _saved(group, message: str) -> None:
    flash(message, "success")
    for term, other in shared_terms(group):
        flash(
            _(
                "“%(term)s” is in another group too (%(group)s): a search for it finds the words of both.",
                term=term,
                group=" = ".join(other),
            ),
            "warning",
        )


@admin_bp.post("/synonyms/<int:synonym_id>")
@roles_required("admin")
def synonym_update(synonym_id):
    form = SynonymForm()
    typed = request.form.get("terms", "")
    try:
        if not form.validate_on_submit():
            raise InvalidSynonym(_("Type at least two terms."))
        saved = save_synonym(synonym_id, form.terms.data, now=utcnow())
    except InvalidSynonym as exc:
        failed = {"id": synonym_id, "text": typed, "error": str(exc)}
        return _synonyms_page(SynonymForm(formdata=None), failed=failed, status=422)
    _saved(saved, _("Synonym group saved."))
    return redirect(url_for(".synonyms", filter=request.args.get("filter", "")))


@admin_bp.route("/synonyms/<int:synonym_id>/delete", methods=["GET", "POST"])
@roles_required("admin")
def synonym_delete(synonym_id):
    """GET asks first, naming the group; POST deletes it."""
    if request.method == "GET":
        return render_template(
            "content/search/admin_synonym_delete.html", group=db.get_or_404(Synonym, synonym_id)
        )
    if not delete_synonym(synonym_id):
        abort(404)
    flash(_("Synonym group deleted."), "success")
    return redirect(url_for(".synonyms"))


@admin_bp.get("/suggestions")
@roles_required(*SUGGESTION_ROLES)
def suggestions():
    rows = learning.pending()
    return render_template("content/search/admin_suggestions.html", rows=rows, titles=evidence_titles(rows))


@admin_bp.post("/suggestions/refresh")
@roles_required(*SUGGESTION_ROLES)
def suggestions_refresh():
    count = propose_synonyms(now=utcnow())
    flash(_("%(num)d suggestions waiting.", num=count), "success")
    return redirect(url_for(".suggestions"))


@admin_bp.post("/suggestions/<int:proposal_id>/<any(accept, reject):decision>")
@roles_required(*SUGGESTION_ROLES)
def suggestion_decide(proposal_id, decision):
    decide = accept_proposal if decision == "accept" else reject_proposal
    try:
        decide(proposal_id, user_id=current_user.id, now=utcnow())
    except learning.ProposalGone as exc:
        flash(str(exc), "error")
        return redirect(url_for(".suggestions")), 303
    flash(_("Added to the synonyms.") if decision == "accept" else _("Suggestion rejected."), "success")
    return redirect(url_for(".suggestions")), 303
