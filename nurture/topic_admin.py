"""The topics admin (/admin/topics): what marketing mail is about, how many leads receive
each topic now, and each topic's name, description and opt-in-only flag. Marketers and
admins only; every change is a POST with the CSRF token."""

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import func, select
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Regexp

from accounts.guards import roles_required
from core.extensions import db
from gated.models import Lead
from nurture import topics
from nurture.models import Topic

ROLES = ("marketer", "admin")
bp = Blueprint("topics_admin", __name__, url_prefix="/admin/topics", template_folder="templates")


class TopicForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    # A label of the List-Id header (<slug>.<list domain>), so no dots or underscores.
    slug = StringField(
        _l("Slug"),
        validators=[
            DataRequired(),
            Length(max=60),
            Regexp(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$", message=_l("Lower-case letters, digits and dashes.")),
        ],
    )
    description = TextAreaField(_l("Description"), validators=[Length(max=500)], render_kw={"rows": 3})
    opt_in_only = BooleanField(_l("Opt-in only"))


def lead_panel(lead: Lead) -> Markup:
    """The lead page's Topics section: what the person receives now, and each choice
    they made with where and when (core.hooks.add_lead_panel)."""
    if not current_user.has_role(*ROLES, "sales") or not topics.all_topics():
        return Markup("")
    return Markup(
        render_template(
            "nurture/admin/_lead_topics.html",
            preferences=topics.preferences(lead.id),
            choices=topics.choices_of(lead.id),
        )
    )


@bp.get("/")
@roles_required(*ROLES)
def topics_list():
    rows = topics.all_topics()
    counts = {
        topic.id: db.session.scalar(
            select(func.count()).select_from(Lead).where(topics.leads_receiving(topic.id))
        )
        for topic in rows
    }
    return render_template("nurture/admin/topics.html", rows=rows, counts=counts)


@bp.route("/new", methods=["GET", "POST"], endpoint="new_topic")
@bp.route("/<int:topic_id>", methods=["GET", "POST"], endpoint="topic")
@roles_required(*ROLES)
def edit_topic(topic_id: int | None = None):
    topic = db.get_or_404(Topic, topic_id) if topic_id is not None else None
    form = TopicForm(obj=topic)
    if form.validate_on_submit():
        slug = form.slug.data.strip()
        taken = db.session.scalar(select(Topic.id).where(Topic.slug == slug, Topic.id != (topic_id or 0)))
        if taken:
            form.slug.errors = [_l("Another topic already uses this slug.")]
        else:
            if topic is None:
                topic = Topic()
                db.session.add(topic)
            form.populate_obj(topic)
            topic.slug, topic.name = slug, form.name.data.strip()
            db.session.commit()
            return redirect(url_for("topics_admin.topic", topic_id=topic.id, saved=1))
    status = 422 if request.method == "POST" else 200
    return render_template("nurture/admin/topic.html", form=form, topic=topic), status
