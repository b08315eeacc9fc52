"""Sequences from YAML and the admin: validation at save time, upsert, export."""

import pytest
import yaml

from core.extensions import db
from nurture import sequences, validation
from nurture.models import Sequence, Step
from tests.nurture.conftest import MONDAY_10_SHANGHAI, sequence_data

pytestmark = pytest.mark.usefixtures("app")

DEMO_YAML = """
slug: whitepaper-followup
name: 白皮书下载后培育
trigger: {asset: saas-renewal}
send_window: {days: [mon, tue, wed, thu, fri], start: "09:00", end: "18:00", timezone: Asia/Shanghai}
steps:
  - delay: 0h
    subject: "{{ lead.first_name or '您好' }},这是您要的白皮书"
    body: |
      {{ lead.name }},{{ lead.company }}:[下载]({{ download_url }})
  - delay: 3d
    subject: "第二封"
    body: "正文"
"""


def test_import_creates_then_is_unchanged_then_updates():
    sequence, outcome = sequences.import_sequence(DEMO_YAML, now=MONDAY_10_SHANGHAI)
    assert outcome == "created"
    assert sequence.status == "active"
    assert (sequence.trigger_kind, sequence.trigger_value) == ("asset", "saas-renewal")
    assert [step.delay_minutes for step in sequence.steps] == [0, 3 * 1440]

    assert sequences.import_sequence(DEMO_YAML, now=MONDAY_10_SHANGHAI)[1] == "unchanged"

    changed = DEMO_YAML.replace("delay: 3d", "delay: 2d").replace('body: "正文"', 'body: "新正文"')
    sequence, outcome = sequences.import_sequence(changed, now=MONDAY_10_SHANGHAI)
    assert outcome == "updated"
    assert [step.body for step in sequence.steps][1] == "新正文"
    assert Step.query.count() == 2


def test_export_round_trips():
    sequences.import_sequence(DEMO_YAML, now=MONDAY_10_SHANGHAI)
    exported = sequences.export_sequence("whitepaper-followup")
    assert yaml.safe_load(exported)["steps"][1]["delay"] == "3d"
    assert sequences.import_sequence(exported, now=MONDAY_10_SHANGHAI)[1] == "unchanged"


def test_an_undefined_variable_is_an_error_at_save_time():
    data = sequence_data(
        steps=[{"delay": "0h", "subject": "Hi {{ lead.frist_name }}", "body": "{{ downlod_url }}"}]
    )
    with pytest.raises(validation.SequenceError) as caught:
        sequences.save_sequence(data, now=MONDAY_10_SHANGHAI)
    text = " ".join(caught.value.errors)
    assert "step 1 subject" in text and "frist_name" in text
    assert "step 1 body" in text and "downlod_url" in text
    assert Sequence.query.count() == 0


@pytest.mark.parametrize(
    ("subject", "body", "named"),
    [
        # The sample lead has a company, so this branch never runs for it; a real lead without one.
        ("ok", "{% if not lead.company %}{{ lead.compnay }}{% endif %}", "lead.compnay"),
        ("{% if lead.name %}Hi{% else %}{{ lead.nmae }}{% endif %}", "ok", "lead.nmae"),
        ("ok", "{{ lead['job_titel'] or '' }}", "lead.job_titel"),
        ("ok", "{{ lead.get('company', '') }} {{ lead.compnay }}", "lead.compnay"),
        ("ok", "{% if false %}{{ downlod_url }}{% endif %}", "downlod_url"),
        ("ok", "{% for item in [] %}{{ item }}{{ sitename }}{% endfor %}", "sitename"),
    ],
)
def test_an_undefined_variable_in_an_untaken_branch_is_an_error_at_save_time(subject, body, named):
    data = sequence_data(steps=[{"delay": "0h", "subject": subject, "body": body}])
    with pytest.raises(validation.SequenceError) as caught:
        sequences.save_sequence(data, now=MONDAY_10_SHANGHAI)
    [error] = caught.value.errors
    field = "subject" if subject != "ok" else "body"
    assert error.startswith(f"step 1 {field}: unknown variable {named} ")
    assert "lead.company" in error and "download_url" in error  # what may be used instead
    assert Sequence.query.count() == 0


def test_variables_set_in_the_template_and_loop_variables_are_known():
    body = (
        "{% set greeting = lead.first_name or '您好' %}{{ greeting }}\n"
        "{% for word in ['a', 'b'] %}{{ loop.index }}{{ word }}{% endfor %}\n"
        "{{ lead['company'] }} {{ site_name }} {{ site_url }} {{ unsubscribe_url }} {{ range(2) | list }}"
    )
    sequence, outcome = sequences.save_sequence(
        sequence_data(steps=[{"delay": "0h", "subject": "{{ lead.email }}", "body": body}]),
        now=MONDAY_10_SHANGHAI,
    )
    assert outcome == "created" and sequence.steps[0].body == body


@pytest.mark.parametrize(
    "body",
    [
        # lead is a dict: its read-only methods are how a template falls back or lists fields.
        "Hi {{ lead.get('company', 'there') }}",
        "{% for key, value in lead.items() %}{{ key }}={{ value }} {% endfor %}",
        "{{ lead.keys() | join(',') }} {{ lead.values() | list | length }}",
        # A template that binds its own `lead` is not talking about the mail's lead.
        "{% set lead = {'x': 1} %}{{ lead.x }}",
        "{% for lead in [{'foo': 1}] %}{{ lead.foo }}{% endfor %}",
        "{% macro card(lead) %}{{ lead.foo }}{% endmacro %}{{ card({'foo': 2}) }}",
    ],
)
def test_dict_methods_and_a_template_own_lead_are_not_unknown_variables(body):
    sequence, outcome = sequences.save_sequence(
        sequence_data(steps=[{"delay": "0h", "subject": "ok", "body": body}]), now=MONDAY_10_SHANGHAI
    )
    assert outcome == "created" and sequence.steps[0].body == body


def test_a_template_syntax_error_names_the_line():
    data = sequence_data(steps=[{"delay": "0h", "subject": "ok", "body": "line one\n{% if %}"}])
    with pytest.raises(validation.SequenceError) as caught:
        sequences.save_sequence(data, now=MONDAY_10_SHANGHAI)
    assert "line 2" in caught.value.errors[0]


def test_the_sandbox_refuses_unsafe_templates():
    data = sequence_data(steps=[{"delay": "0h", "subject": "x", "body": "{{ lead.__class__.__mro__ }}"}])
    with pytest.raises(validation.SequenceError):
        sequences.save_sequence(data, now=MONDAY_10_SHANGHAI)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"slug": "has space"}, "slug"),
        ({"trigger": {"asset": ""}}, "trigger"),
        (
            {"send_window": {"days": ["mon"], "start": "19:00", "end": "09:00", "timezone": "Asia/Shanghai"}},
            "send_window",
        ),
        ({"send_window": {"timezone": "Nowhere/City"}}, "send_window"),
        ({"hourly_cap": "lots"}, "hourly_cap"),
        ({"steps": []}, "steps"),
        ({"steps": [{"delay": "soon", "subject": "x", "body": "y"}]}, "step 1"),
        ({"steps": [{"delay": "0h", "subject": " ", "body": "y"}]}, "subject is empty"),
        (
            {"steps": [{"delay": "0h", "subject": "x", "body": "y", "condition": {"skip_if": "rain"}}]},
            "condition",
        ),
    ],
)
def test_bad_sequences_are_refused_with_a_reason(change, message):
    with pytest.raises(validation.SequenceError) as caught:
        sequences.save_sequence(sequence_data(**change), now=MONDAY_10_SHANGHAI)
    assert message in " ".join(caught.value.errors)
    assert Sequence.query.count() == 0


def test_bad_yaml_names_the_line():
    with pytest.raises(validation.SequenceError) as caught:
        sequences.import_sequence("slug: x\nsteps: [\n  - : :\n", now=MONDAY_10_SHANGHAI)
    assert "line" in caught.value.errors[0]


def test_removing_a_step_keeps_the_others():
    sequences.save_sequence(sequence_data(), now=MONDAY_10_SHANGHAI)
    data = sequence_data()
    data["steps"] = data["steps"][:1]
    sequence, outcome = sequences.save_sequence(data, now=MONDAY_10_SHANGHAI)
    assert outcome == "updated"
    assert len(sequence.steps) == 1


def test_cli_import_and_export(runner, tmp_path):
    good = tmp_path / "good.yml"
    good.write_text(DEMO_YAML, encoding="utf-8")
    bad = tmp_path / "bad.yml"
    bad.write_text(DEMO_YAML.replace("{{ lead.name }}", "{{ lead.nmae }}"), encoding="utf-8")

    result = runner.invoke(args=["nurture", "import", str(good)])
    assert result.exit_code == 0, result.output
    assert "whitepaper-followup created" in result.output

    result = runner.invoke(args=["nurture", "import", str(bad)])
    assert result.exit_code == 1
    assert "nmae" in result.output

    result = runner.invoke(args=["nurture", "export", "whitepaper-followup"])
    assert result.exit_code == 0
    assert yaml.safe_load(result.output)["slug"] == "whitepaper-followup"
    assert runner.invoke(args=["nurture", "export", "nope"]).exit_code == 1


def test_demo_sequences_load_and_are_idempotent(app):
    from nurture import demo

    lines = []
    demo.load(lines.append)
    demo.load(lines.append)
    assert Sequence.query.filter_by(slug="whitepaper-followup").one().status == "active"
    assert any("unchanged" in line for line in lines)
    assert Sequence.query.count() == 2


def test_demo_enrolls_leads_that_downloaded_before_the_sequences_existed():
    from gated.models import Submission
    from nurture import demo
    from nurture.models import Enrollment
    from tests.factories import make_whitepaper
    from tests.nurture.conftest import make_lead

    _, asset = make_whitepaper(slug="saas-renewal", sequence_slug="whitepaper-followup")
    reader, no_consent = make_lead("r@example.com"), make_lead("n@example.com", consent=False)
    for lead in (reader, no_consent):
        db.session.add(Submission(lead_id=lead.id, form="whitepaper", asset_id=asset.id))
    db.session.commit()
    demo.load(lambda line: None)
    demo.load(lambda line: None)
    assert [e.lead_id for e in Enrollment.query.all()] == [reader.id]
