"""The editor's form. Field names are the front-matter keys, so the form's values go
through the same validator as an imported file (content.documents.validate_fields)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from content.models import KINDS, LOCALES
from content.ops_forms import CheckboxesField

KIND_LABELS = {
    "help": _l("Help article"),
    "whitepaper": _l("White paper"),
    "case-study": _l("Case study"),
    "solution": _l("Solution"),
    "blog": _l("Blog post"),
    "video": _l("Video"),
}
STATUS_LABELS = {
    "draft": _l("Draft"),
    "in_review": _l("In review"),
    "published": _l("Published"),
    "archived": _l("Archived"),
}


class ArticleForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    slug = StringField(_l("Slug"), validators=[Optional(), Length(max=120)])
    kind = SelectField(_l("Kind"), choices=[SelectChoice(kind, KIND_LABELS[kind]) for kind in KINDS])
    locale = SelectField(
        _l("Language"),
        choices=[SelectChoice(locale, "中文" if locale == "zh-CN" else "English") for locale in LOCALES],
    )
    translation_key = StringField(_l("Translation key"), validators=[Optional(), Length(max=120)])
    category = StringField(
        _l("Category"), validators=[Optional(), Length(max=120)], render_kw={"list": "category-choices"}
    )
    tags = StringField(_l("Tags"), validators=[Optional(), Length(max=500)])
    summary = TextAreaField(_l("Summary"), validators=[Optional(), Length(max=1000)])
    body = TextAreaField(_l("Body (Markdown)"))
    featured = BooleanField(_l("Featured on the home page"))
    published_at = StringField(
        _l("Publish at"), validators=[Optional()], render_kw={"type": "datetime-local"}
    )
    review_by = StringField(_l("Review by"), validators=[Optional()], render_kw={"type": "date"})
    seo_title = StringField(_l("SEO title"), validators=[Optional(), Length(max=300)])
    seo_description = TextAreaField(_l("SEO description"), validators=[Optional(), Length(max=500)])
    # Chosen from the sequences a later package offers (content.editor.add_picker).
    sequence = SelectField(_l("Nurture sequence"), choices=[], validate_choice=False)
    gated_file = FileField(_l("Gated file (white papers)"))
    # Or a file already in the library (content.editor.add_picker: gated offers its assets).
    library_file = SelectField(_l("Or a file already uploaded"), choices=[], validate_choice=False)
    # Chosen from the published articles of the same language (content.admin checks the choice).
    related = SelectMultipleField(
        _l("Related articles"), choices=[], validate_choice=False, render_kw={"size": 6}
    )

    # Videos (content.video): a platform's page link or an uploaded file, chapters, the
    # transcript and the minutes free before the lead form.
    video = StringField(
        _l("Player link (Bilibili, YouTube or Tencent Video)"),
        validators=[Optional(), Length(max=500)],
        render_kw={"type": "url", "inputmode": "url"},
    )
    video_upload = FileField(
        _l("Or upload a video file (MP4 or WebM)"), render_kw={"accept": "video/mp4,video/webm"}
    )
    remove_video = BooleanField(_l("Remove the uploaded video"))
    chapters = TextAreaField(_l("Chapters"), render_kw={"rows": 5})
    transcript = TextAreaField(_l("Transcript (Markdown)"), render_kw={"rows": 10})
    free_minutes = StringField(
        _l("Minutes free before the lead form"), validators=[Optional()], render_kw={"inputmode": "numeric"}
    )
    # A new article's reviewer's checklist, ticked to publish it at once (the items of
    # every kind's standard, content.admin sets them; an existing article's is ticked on
    # its review panel, content.review_admin). Not front matter.
    checklist = CheckboxesField(_l("Reviewer's checklist"))

    FRONT_MATTER = (
        "title",
        "slug",
        "kind",
        "locale",
        "translation_key",
        "category",
        "tags",
        "summary",
        "featured",
        "published_at",
        "review_by",
        "seo_title",
        "seo_description",
        "sequence",
        "related",
        "video",
        "chapters",
        "transcript",
        "free_minutes",
    )
    # The article attribute behind a front-matter field of another name.
    ATTRIBUTES = {"sequence": "sequence_slug", "video": "video_url", "transcript": "transcript_md"}

    def front_matter(self) -> dict:
        """The form's values as raw front matter for validate_fields."""
        return {name: getattr(self, name).data for name in self.FRONT_MATTER}


class UploadForm(FlaskForm):
    file = FileField(_l("Image or file"))
