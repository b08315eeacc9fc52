"""Reviews in the staff area: the review queue (/admin/content/review/), "verify" (one
click, an optional note), the reviewer's checklist and an article's owner and team. The
last three show as sections of the article's admin page (core.hooks article panels), so
the editor's own template stays as it is; verify shows on the public page too, in the
staff-only flag of a past-due article."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from accounts.guards import roles_required
from accounts.models import User
from content import freshness, standards, teams
from content.forms import KIND_LABELS
from content.models import Article
from content.ops_forms import ChecklistForm, OwnershipForm, VerifyForm
from content.teams_admin import ops_bp
from core.extensions import db
from core.home import Figure, Row, panel
from core.localtime import local_date
from core.signals import send_staff_action
from core.timeutil import utcnow
from core.views import safe_next

HOME_ROWS = 5


def _scope(user, team_id: int | None):
    """The teams a list shows: the one asked for, else the user's (None: all, for admins
    and for editors in no team)."""
    if team_id is not None:
        return {team_id}
    mine = teams.visible_team_ids(user)
    return mine or None


@ops_bp.get("/review/")
@roles_required("editor")
def review_queue():
    now = utcnow()
    team_id = request.args.get("team", type=int)
    mine = request.args.get("mine") == "1"
    if mine:
        rows = freshness.review_queue(now=now, owner_id=current_user.id)
    else:
        rows = freshness.review_queue(now=now, team_ids=_scope(current_user, team_id))
    return render_template(
        "content/ops/review_queue.html",
        rows=rows,
        now=now,
        team_id=team_id,
        mine=mine,
        team_names=teams.team_names(),
        has_teams=bool(teams.visible_team_ids(current_user)),
        kinds=KIND_LABELS,
        labels=freshness.signal_labels(),
        verify_form=VerifyForm(),
    )


@ops_bp.post("/<int:article_id>/verify")
@roles_required("editor")
def verify(article_id: int):
    article = db.get_or_404(Article, article_id)
    form = VerifyForm()
    back = safe_next(request.form.get("next"), url_for("content_admin.edit", article_id=article.id))
    if not form.validate():
        flash(" ".join(form.note.errors) or _("Please try again."), "error")
        return redirect(back, code=303)
    try:
        freshness.verify(article, user=current_user, note=form.note.data or "", now=utcnow())
    except freshness.VerifyError as exc:
        flash(str(exc), "error")
        return redirect(back, code=303)
    send_staff_action(
        "content.verify", user=current_user, target=f"article:{article.id}", details={"slug": article.slug}
    )
    flash(
        _(
            "Verified: %(title)s. Next review by %(date)s.",
            title=article.title,
            date=local_date(article.review_by),
        ),
        "success",
    )
    return redirect(back, code=303)


@ops_bp.post("/<int:article_id>/checklist")
@roles_required("editor")
def checklist(article_id: int):
    article = db.get_or_404(Article, article_id)
    form = ChecklistForm()
    standard = standards.standard_for(article.kind)
    if not teams.may_approve(current_user, article.team_id):
        flash(_("Only the team's reviewers or an admin tick the checklist."), "error")
    elif form.validate():
        article.checklist = [item for item in standard.checklist if item in set(form.items.data or ())]
        db.session.commit()
        send_staff_action(
            "content.checklist",
            user=current_user,
            target=f"article:{article.id}",
            details={"ticked": article.checklist},
        )
        flash(_("Checklist saved."), "success")
    return redirect(url_for("content_admin.edit", article_id=article.id), code=303)


@ops_bp.post("/<int:article_id>/ownership")
@roles_required("editor")
def ownership(article_id: int):
    article = db.get_or_404(Article, article_id)
    form = OwnershipForm()
    if form.validate():
        try:
            teams.set_ownership(article, team_id=form.team.data, owner_id=form.owner.data, user=current_user)
        except teams.TeamError as exc:
            db.session.rollback()
            flash(" ".join(str(message) for message in exc.problems.values()), "error")
        else:
            send_staff_action(
                "content.ownership",
                user=current_user,
                target=f"article:{article.id}",
                details={"team_id": article.team_id, "owner_id": article.owner_id},
            )
            flash(_("Owner and team saved."), "success")
    return redirect(url_for("content_admin.edit", article_id=article.id), code=303)


def article_panel(article) -> Markup:
    """The article page's section: team and owner, review date and verify, checklist."""
    if article is None or not current_user.has_role("editor"):
        return Markup("")
    now = utcnow()
    standard = standards.standard_for(article.kind)
    ownership_form = OwnershipForm()
    ownership_form.team.choices = [("", _("No team"))] + [(team.id, team.name) for team in teams.all_teams()]
    ownership_form.owner.choices = [("", _("No one"))] + [
        (user.id, user.display_name)
        for user in db.session.scalars(
            select(User).where(User.active.is_(True), User.role.in_(("admin", "editor"))).order_by(User.email)
        )
    ]
    ownership_form.team.data, ownership_form.owner.data = article.team_id, article.owner_id
    checklist_form = ChecklistForm()
    checklist_form.items.choices = [(item, item) for item in standard.checklist]
    checklist_form.items.data = list(article.checklist or [])
    return Markup(
        render_template(
            "content/ops/_article_panel.html",
            article=article,
            due=freshness.due_date(article),
            overdue=freshness.is_due(article, now),
            history=freshness.history(article.id),
            people={user.id: user.display_name for user in db.session.scalars(select(User))},
            may_verify=article.status == "published" and teams.may_write(current_user, article.team_id),
            may_approve=teams.may_approve(current_user, article.team_id),
            verify_form=VerifyForm(),
            ownership_form=ownership_form,
            checklist_form=checklist_form,
            team_name=teams.team_names().get(article.team_id),
        )
    )


def review_flag(article) -> dict | None:
    """For the public article page: a past-due article's review date, shown to signed-in
    editors only (their pages are never the cached anonymous ones)."""
    if not current_user.is_authenticated or not current_user.has_role("editor"):
        return None
    if not freshness.is_due(article, utcnow()):
        return None
    return {
        "due": freshness.due_date(article),
        "may_verify": teams.may_write(current_user, article.team_id),
        "form": VerifyForm(),
    }


def home_panel(user) -> Markup:
    """The staff home's section: what is due for review in the user's teams and owned by them."""
    now = utcnow()
    scope = _scope(user, None)
    rows = freshness.review_queue(now=now, team_ids=scope, owner_id=user.id if scope is not None else None)
    owned = [row for row in rows if row.article.owner_id == user.id]
    queue_url = url_for("content_ops.review_queue")
    figures = [
        Figure(_("Overdue"), sum(row.overdue for row in rows), queue_url, alert=True),
        Figure(_("Due within two weeks"), sum(not row.overdue for row in rows), queue_url),
        Figure(_("Mine due"), len(owned), url_for("content_ops.review_queue", mine=1)),
    ]
    shown = [
        Row(
            row.article.title,
            url_for("content_admin.edit", article_id=row.article.id),
            _("overdue since %(date)s", date=local_date(row.due))
            if row.overdue
            else _("due %(date)s", date=local_date(row.due)),
            urgent=row.overdue,
        )
        for row in rows[:HOME_ROWS]
    ]
    return panel(
        "review",
        _("Due for review"),
        figures=figures,
        rows=shown,
        empty=_("Nothing is due for review."),
        more_url=queue_url if rows else "",
    )
