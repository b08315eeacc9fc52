"""Admin forms: a sequence with its steps, manual enrollment, a manual suppression.

The form only shapes the input; validation.clean_sequence validates it (the same rules
as a YAML import), so the browser and the command line can never disagree.
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional

from core.ids import parse_id
from core.localtime import zone_choices
from nurture.labels import LABELS
from nurture.models import DAYS

MAX_STEPS = 20


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class StepForm(Form):
    # Which saved step this row is ("" for a new one): moving a step keeps its figures
    # and the leads waiting for it (nurture.journey_save).
    step_id = HiddenField()
    remove = BooleanField(_l("Delete this step on save"))
    delay = StringField(
        _l("Delay"),
        default="1d",
        validators=[Length(max=20)],
        description=_l("A number and a unit: 2天, 3小时, 1周, 2d, 36h."),
    )
    delay_from = SelectField(
        _l("Counted from"),
        choices=[
            SelectChoice("previous", _l("the previous mail")),
            SelectChoice("enrollment", _l("the enrollment")),
        ],
        default="previous",
    )
    subject = StringField(_l("Subject"), validators=[Length(max=300)])
    body = TextAreaField(_l("Body (Markdown)"), validators=[Length(max=50000)])
    condition = SelectField(
        _l("Skip this mail if"),
        choices=[
            SelectChoice("", _l("never skip")),
            *(SelectChoice(code, words) for code, words in LABELS["condition"].items()),
        ],
        default="",
    )
    condition_asset = StringField(_l("Asset slug"), validators=[Length(max=120)])


class SequenceForm(FlaskForm):
    slug = StringField(_l("Slug"), validators=[DataRequired(), Length(max=120)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    locale = SelectField(
        _l("Language of the mails"), choices=[SelectChoice("zh-CN", "中文"), SelectChoice("en", "English")]
    )
    # Checked by validation.clean_sequence (as for a file): none given means the default topic.
    topic = SelectField(
        _l("Topic"),
        validate_choice=False,
        description=_l("People who leave this topic on the preference page stop getting these mails."),
    )
    trigger_kind = SelectField(
        _l("Trigger"),
        choices=[SelectChoice(code, words) for code, words in LABELS["trigger"].items()],
    )
    trigger_value = StringField(_l("Asset slug or form name"), validators=[Length(max=120)])
    days = CheckboxesField(
        _l("Send on"), choices=[SelectChoice(day, LABELS["day"][day]) for day in DAYS], default=list(DAYS[:5])
    )
    window_start = StringField(_l("From"), default="09:00", validators=[Length(max=5)])
    window_end = StringField(_l("Until"), default="18:00", validators=[Length(max=5)])
    timezone = SelectField(_l("Time zone"), choices=zone_choices)
    hourly_cap = IntegerField(_l("At most this many mails per hour"), validators=[Optional()])
    steps = FieldList(FormField(StepForm), min_entries=1, max_entries=MAX_STEPS + 1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from nurture.topics import all_topics

        self.topic.choices = [SelectChoice(topic.slug, topic.name) for topic in all_topics()] or [
            SelectChoice("", _l("no topics yet"))
        ]

    def show_problems(self, problems) -> list:
        """Each problem (nurture.validation.Problem) of `to_data()`'s sequence beside its
        field, in the reader's language; those of no field are returned."""
        elsewhere = []
        for problem in problems:
            target = self._field_of(problem.field)
            if target is None:
                elsewhere.append(problem)
            else:
                target.errors = [*target.errors, problem.translated()]
        return elsewhere

    def _field_of(self, name: str):
        if name.startswith("steps-"):
            _prefix, number, field_name = name.split("-", 2)
            rows = getattr(self, "step_rows", [])
            if int(number) >= len(rows):
                return None
            return getattr(self.steps.entries[rows[int(number)]].form, field_name, None)
        return getattr(self, name, None) if name else None

    def to_data(self) -> dict:
        """The sequence as sequences.save_sequence takes it; an empty step row is the
        blank one offered for adding a step, not a step."""
        steps = []
        self.step_rows = []  # the form row of each step given (blank and deleted rows are left out)
        self.step_ids = []  # the saved step each is, or None
        for row, entry in enumerate(self.steps.entries):
            step = entry.form
            if step.remove.data:
                continue
            if not (step.subject.data or "").strip() and not (step.body.data or "").strip():
                continue
            self.step_rows.append(row)
            self.step_ids.append(parse_id(step.step_id.data))
            condition = None
            if step.condition.data:
                condition = {"skip_if": step.condition.data}
                if step.condition.data == "downloaded":
                    condition["asset"] = (step.condition_asset.data or "").strip()
            steps.append(
                {
                    "delay": (step.delay.data or "0h").strip(),
                    "from": step.delay_from.data,
                    "subject": step.subject.data or "",
                    "body": step.body.data or "",
                    "condition": condition,
                }
            )
        kind = self.trigger_kind.data
        return {
            "slug": (self.slug.data or "").strip(),
            "name": (self.name.data or "").strip(),
            "locale": self.locale.data,
            "topic": self.topic.data,
            "trigger": "manual" if kind == "manual" else {kind: (self.trigger_value.data or "").strip()},
            "send_window": {
                "days": self.days.data or [],
                "start": (self.window_start.data or "").strip(),
                "end": (self.window_end.data or "").strip(),
                "timezone": self.timezone.data,
            },
            "hourly_cap": self.hourly_cap.data,
            "steps": steps,
        }

    def fill(self, sequence) -> None:
        """Load a saved sequence (GET of the edit page), plus one blank step row."""
        self.slug.data = sequence.slug
        self.name.data = sequence.name
        self.locale.data = sequence.locale
        self.topic.data = sequence.topic.slug if sequence.topic else ""
        self.trigger_kind.data = sequence.trigger_kind
        self.trigger_value.data = sequence.trigger_value
        self.days.data = list(sequence.window_days or DAYS)
        self.window_start.data = sequence.window_start
        self.window_end.data = sequence.window_end
        self.timezone.data = sequence.timezone
        self.hourly_cap.data = sequence.hourly_cap
        from nurture.delays import format_delay

        while self.steps.entries:
            self.steps.pop_entry()
        for step in sequence.steps:
            condition = step.condition or {}
            self.steps.append_entry(
                {
                    "step_id": str(step.id),
                    "delay": format_delay(step.delay_minutes, language=sequence.locale),
                    "delay_from": step.delay_from,
                    "subject": step.subject,
                    "body": step.body,
                    "condition": condition.get("skip_if", ""),
                    "condition_asset": condition.get("asset", ""),
                }
            )

    def rearrange(self, action: str) -> bool:
        """Move, duplicate or add a step row as the editor's buttons ask ("up-2",
        "down-0", "copy-1", "add"), without saving: what the page's script does in the
        browser, for a browser without it. False for an action it does not know."""
        rows = [entry.form.data for entry in self.steps.entries]
        verb, _dash, number = action.partition("-")
        index = int(number) if number.isdigit() else -1
        if verb == "add":
            rows.append({"delay": "1d", "delay_from": "previous"})
        elif not 0 <= index < len(rows) or verb not in ("up", "down", "copy"):
            return False
        elif verb == "copy":
            rows.insert(index + 1, {**rows[index], "step_id": "", "remove": False})
        else:
            other = index - 1 if verb == "up" else index + 1
            if not 0 <= other < len(rows):
                return True
            rows[index], rows[other] = rows[other], rows[index]
        if len(rows) > MAX_STEPS + 1:
            return True
        while self.steps.entries:
            self.steps.pop_entry()
        for row in rows:
            self.steps.append_entry(row)
        return True

    def add_blank_step(self) -> None:
        last = self.steps.entries[-1].form if self.steps.entries else None
        has_room = len(self.steps.entries) <= MAX_STEPS
        if has_room and (last is None or last.subject.data or last.body.data):
            self.steps.append_entry({"delay": "1d", "delay_from": "previous"})


class EnrollForm(FlaskForm):
    leads = TextAreaField(
        _l("Leads"),
        validators=[DataRequired(), Length(max=100000)],
        description=_l("Email addresses or lead numbers, separated by spaces, commas or lines."),
    )


class EnrollFilterForm(FlaskForm):
    segment = SelectField(_l("Segment"), default="")
    stage = SelectField(_l("Stage"), default="")
    source = StringField(_l("Source contains"), validators=[Length(max=120)])
    since = DateField(_l("Created on or after"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from gated.labels import label
        from gated.listing import view_choices
        from gated.models import STAGES

        self.stage.choices = [SelectChoice("", _l("any stage"))] + [
            SelectChoice(stage, label("stage", stage)) for stage in STAGES
        ]
        self.segment.choices = [SelectChoice("", _l("any lead"))] + [
            SelectChoice(str(view_id), name) for view_id, name in view_choices()
        ]


class SuppressForm(FlaskForm):
    email = StringField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
