"""Sequence settings that could not be delivered are refused where they are typed (the
browser form, a YAML import, a test send) with a clear reason; a suppression asked for
twice at the same moment is one suppression, not an error."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import event, insert, update

from core import tokens
from core.extensions import db
from nurture import enrolment, mailqueue, sequences, validation
from nurture.models import Enrollment, Message, Sequence, Step, Suppression, email_hash
from tests.nurture.conftest import (
    MONDAY_10_SHANGHAI,
    TEST_MAIL,
    make_lead,
    make_sequence,
    sequence_data,
    sequence_form,
)

pytestmark = pytest.mark.usefixtures("app")
NOW = MONDAY_10_SHANGHAI

YAML = """
slug: checked
name: Checked
trigger: manual
{extra}
steps:
  - delay: {delay}
    subject: Hi
    body: Hello
{step_extra}
"""


def sequence_yaml(extra="", delay="0h", step_extra=""):
    return YAML.format(extra=extra, delay=delay, step_extra=step_extra)


def refusal(data: dict) -> str:
    with pytest.raises(validation.SequenceError) as caught:
        sequences.save_sequence(data, now=NOW)
    db.session.rollback()
    assert Sequence.query.count() == 0
    return " ".join(caught.value.errors)


# -- the send window -------------------------------------------------------------------


def test_a_window_starting_at_24_00_is_refused():
    window = {"days": ["mon"], "start": "24:00", "end": "24:00", "timezone": "Asia/Shanghai"}
    assert "cannot start at 24:00" in refusal(sequence_data(send_window=window))


def test_a_window_starting_at_24_00_is_refused_in_the_browser(login_as):
    marketer = login_as("marketer")
    response = marketer.post(
        "/admin/nurture/new", data=sequence_form(window_start="24:00", window_end="24:00")
    )
    assert response.status_code == 422
    # In the reader's language, beside the field it concerns.
    page = response.get_data(as_text=True)
    assert re.search(r'<p class="error" id="window_start-error">发送时段不能从 24:00 开始（[^<]*</p>', page)
    assert 'aria-describedby="window_start-help window_start-error"' in page
    assert "序列未保存：请查看各字段旁的提示。" in page and "cannot start" not in page
    assert Sequence.query.count() == 0


def test_a_window_saved_opening_at_24_00_does_not_break_enrolling():
    """A row saved before the check: enrolling (a download's) still works."""
    sequence = make_sequence()
    db.session.execute(update(Sequence).values(window_start="24:00", window_end="24:00"))
    db.session.commit()
    lead = make_lead()
    assert enrolment.enroll([lead.id], sequence.id, now=NOW) == 1
    assert db.session.get(Enrollment, Enrollment.query.one().id).next_send_at == NOW


# -- step conditions -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("{skip_if: downloaded, asset: 2024}", "condition asset: text, not a number"),
        ("{skip_if: downloaded, asset: [a, b]}", "condition asset: text, not a list"),
        ("{skip_if: clicked_previous, asset: guide}", "condition clicked_previous takes no asset"),
        ("{skip_if: downloaded, asset: guide, days: 3}", "condition downloaded takes no days"),
    ],
)
def test_a_condition_of_the_wrong_shape_is_refused(condition, message):
    with pytest.raises(validation.SequenceError) as caught:
        sequences.import_sequence(sequence_yaml(step_extra=f"    condition: {condition}"), now=NOW)
    db.session.rollback()
    assert message in " ".join(caught.value.errors)
    assert Sequence.query.count() == 0


def test_a_downloaded_condition_takes_the_asset_slug_as_text():
    """The worker compares it with assets.slug, a VARCHAR: PostgreSQL will not compare
    one with a number."""
    unquoted = sequence_yaml(step_extra="    condition: {skip_if: downloaded, asset: 2024}")
    with pytest.raises(validation.SequenceError):
        sequences.import_sequence(unquoted, now=NOW)
    db.session.rollback()
    sequence, _outcome = sequences.import_sequence(unquoted.replace("2024", "'2024'"), now=NOW)
    assert sequence.steps[0].condition == {"skip_if": "downloaded", "asset": "2024"}


# -- delays ----------------------------------------------------------------------------


@pytest.mark.parametrize("delay", ["9999999d", "3651d", "522w", "5256001"])
def test_a_delay_over_ten_years_is_refused(delay):
    with pytest.raises(validation.SequenceError) as caught:
        sequences.import_sequence(sequence_yaml(delay=delay), now=NOW)
    db.session.rollback()
    assert "too long: at most 3650d" in " ".join(caught.value.errors)
    assert Sequence.query.count() == 0


def test_ten_years_is_the_longest_delay():
    sequence, _outcome = sequences.import_sequence(sequence_yaml(delay="3650d"), now=NOW)
    assert sequence.steps[0].delay_minutes == 3650 * 1440
    with pytest.raises(validation.SequenceError):
        sequences.import_sequence(sequence_yaml(delay="3651d"), now=NOW)


def test_a_delay_over_ten_years_is_refused_in_the_browser(login_as):
    marketer = login_as("marketer")
    response = marketer.post("/admin/nurture/new", data=sequence_form(**{"steps-1-delay": "9999999d"}))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(
        r'<p class="error" id="steps-1-delay-error">延迟 &#39;9999999d&#39; 太长：最多 3650d（十年）</p>',
        page,
    )
    assert Sequence.query.count() == 0


def test_a_delay_saved_over_ten_years_counts_as_ten_years():
    """A row saved before the cap (it fits PostgreSQL's INTEGER): no overflow."""
    sequence = make_sequence(steps=[{"delay": "0h", "subject": "one", "body": "one"}])
    db.session.execute(update(Step).values(delay_minutes=1_000_000 * 1440))
    db.session.commit()
    assert enrolment.enroll([make_lead().id], sequence.id, now=NOW) == 1
    due = Enrollment.query.one().next_send_at
    assert NOW + timedelta(days=3649) < due < NOW + timedelta(days=3660)


# -- odd YAML values, through the command line -----------------------------------------


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("send_window: {days: 5}", "send_window: days is a list"),
        ("send_window: {start: 10:00, end: '18:00'}", "write the start time in quotes, '10:00'"),
        ("send_window: {start: '24:00', end: '24:00'}", "cannot start at 24:00"),
        ("send_window: {timezone: [Asia/Shanghai]}", "timezone: text, not a list"),
        ("locale: zh-Hans-CN-x", "“zh-Hans-CN-x” is not a language of the site; use one of zh-CN, en"),
        ("locale: cn", "“cn” is not a language of the site"),
        ("locale: [en]", "is not a language of the site"),
        ("name: [1, 2]", "name: text, not a list"),
        ("trigger: {asset: [a, b]}", "trigger asset: text, not a list"),
        ("trigger: {asset: 2024}", "trigger asset: text, not a number"),
        ("trigger: {form: '   '}", "trigger: {asset: SLUG}"),
    ],
)
def test_cli_import_refuses_odd_values_with_a_reason(runner, tmp_path, extra, message):
    path = tmp_path / "sequence.yml"
    path.write_text(sequence_yaml(extra=extra), encoding="utf-8")
    result = runner.invoke(args=["nurture", "import", str(path)])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # an error line, not a traceback
    assert message in result.output
    assert Sequence.query.count() == 0


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ({"delay": "yes"}, "delay “True”"),
        ({"subject": "x" * 301}, "step 1 subject: at most 300 characters"),
        ({"body": '"a\\0b"'}, "step 1 body: contains a NUL character"),
        ({"subject": "2024"}, "step 1 subject: text, not a number"),
    ],
)
def test_cli_import_refuses_odd_step_values(runner, tmp_path, step, message):
    fields = {"delay": "0h", "subject": "Hi", "body": "Hello", **step}
    lines = "".join(f"    {key}: {value}\n" for key, value in fields.items())
    path = tmp_path / "sequence.yml"
    path.write_text(f"slug: checked\nname: Checked\nsteps:\n  -\n{lines}", encoding="utf-8")
    result = runner.invoke(args=["nurture", "import", str(path)])
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert "the subject is empty" not in result.output
    assert Sequence.query.count() == 0


def test_a_refused_update_leaves_the_sequence_as_it_was(runner, tmp_path):
    path = tmp_path / "sequence.yml"
    path.write_text(sequence_yaml(), encoding="utf-8")
    assert runner.invoke(args=["nurture", "import", str(path)]).exit_code == 0
    path.write_text(sequence_yaml(extra="locale: cn", delay="2d"), encoding="utf-8")
    assert runner.invoke(args=["nurture", "import", str(path)]).exit_code == 1
    sequence = Sequence.query.one()
    assert (sequence.locale, sequence.steps[0].delay_minutes) == ("zh-CN", 0)


def test_the_locale_is_one_of_the_sites_languages(app, monkeypatch):
    sequence, _outcome = sequences.import_sequence(sequence_yaml(extra="locale: EN"), now=NOW)
    assert sequence.locale == "en"
    sequence, _outcome = sequences.import_sequence(sequence_yaml(extra="locale: zh_CN"), now=NOW)
    assert sequence.locale == "zh-CN"
    monkeypatch.setitem(app.config, "LOCALES", ["zh_CN"])
    with pytest.raises(validation.SequenceError) as caught:
        sequences.import_sequence(sequence_yaml(extra="locale: en"), now=NOW)
    assert "use one of zh-CN" in caught.value.errors[0]


# -- preview and test send -------------------------------------------------------------


def test_preview_with_an_unknown_language_shows_why(login_as):
    marketer = login_as("marketer")
    response = marketer.post("/admin/nurture/preview", data=sequence_form(step="0", locale="cn"))
    assert response.status_code == 200
    # The frame's list of problems, each with its field's name, in the reader's language.
    assert "<li>邮件语言：“cn”不是本站的语言，请使用以下之一：zh-CN, en</li>" in response.get_data(
        as_text=True
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"locale": "cn"}, "邮件语言：“cn”不是本站的语言"),
        ({"steps-0-subject": "x" * 301}, "主题：最多 300 个字符"),
        ({"steps-0-body": "{{ lead.compnay }}"}, "正文（Markdown）：未知变量 lead.compnay（可用：lead.name"),
    ],
)
def test_test_send_refuses_a_step_that_cannot_render(login_as, changes, message):
    marketer = login_as("marketer")
    response = marketer.post("/admin/nurture/test-send", data=sequence_form(step="0", **changes))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert Message.query.count() == 0


def test_testing_a_saved_step_of_a_sequence_in_an_unknown_language_queues_nothing(login_as):
    """A sequence saved before its language was checked."""
    marketer = login_as("marketer")
    sequence = make_sequence()
    db.session.execute(update(Sequence).values(locale="cn"))
    db.session.commit()
    response = marketer.post(f"/admin/nurture/{sequence.id}/steps/0/test", follow_redirects=True)
    assert response.status_code == 200
    assert "不是本站的语言" in response.get_data(as_text=True)
    assert Message.query.count() == 0


# -- suppressions ----------------------------------------------------------------------


def test_an_unsubscribe_and_a_bounce_at_the_same_moment_are_one_suppression(client):
    """The provider's bounce webhook commits the address's suppression just before the
    one-click unsubscribe inserts its own (another request, on another connection)."""
    lead = make_lead("both@example.com")
    sequence = make_sequence()
    enrolment.enroll([lead.id], sequence.id, now=NOW)
    message = mailqueue.add_mail(to=lead.email, template=TEST_MAIL, context={}, lead_id=lead.id, now=NOW)
    db.session.commit()
    competed = []

    def bounce_webhook_first(conn, cursor, statement, parameters, context, executemany):
        if competed or not statement.lstrip().upper().startswith("INSERT INTO SUPPRESSIONS"):
            return
        competed.append(statement)
        with db.engine.connect() as other:
            other.execute(
                insert(Suppression).values(
                    email_hash=email_hash(lead.email), reason="bounced", detail="webhook", created_at=NOW
                )
            )
            other.commit()

    event.listen(db.engine, "before_cursor_execute", bounce_webhook_first)
    try:
        response = client.post(
            f"/u/{tokens.sign('unsubscribe', message.id)}", data={"List-Unsubscribe": "One-Click"}
        )
    finally:
        event.remove(db.engine, "before_cursor_execute", bounce_webhook_first)
    assert competed
    assert response.status_code == 204
    assert [(s.reason, s.detail) for s in Suppression.query.all()] == [("bounced", "webhook")]
    enrollment = Enrollment.query.one()
    assert (enrollment.status, enrollment.exit_reason) == ("exited", "unsubscribed")
    assert db.session.get(type(lead), lead.id).marketing_consent is False


# -- Markdown bodies -------------------------------------------------------------------


@pytest.mark.parametrize(
    "body", ["[" * 50000, "&#x41;" * 80000, "".join(" " * (4 * i) + "- a\n" for i in range(100))]
)
def test_a_step_body_past_the_markdown_bounds_is_refused_with_a_reason(body):
    errors = refusal(sequence_data(steps=[{"delay": "0h", "subject": "你好", "body": body}]))
    assert "step 1 body:" in errors
    assert "行内标记" in errors or "嵌套过深" in errors


def test_problems_of_several_fields_show_beside_each_in_english_too(login_as):
    marketer = login_as("marketer")
    marketer.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    form = sequence_form(slug="bad slug!", window_start="9am", **{"steps-1-delay": "soon"})
    response = marketer.post("/admin/nurture/new", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'id="slug-error">use letters, digits, - and _', page)
    assert re.search(r"id=\"window_start-error\">time &#39;9am&#39;: write it as HH:MM", page)
    assert re.search(r"id=\"steps-1-delay-error\">delay “soon”: write a number and a unit", page)
    assert Sequence.query.count() == 0


def test_the_forms_own_check_and_the_sequences_show_in_one_round(login_as):
    """A missing name (the form's check) used to hide a bad delay and a taken slug (the
    sequence's) until it was fixed: each field now says what is wrong at once."""
    marketer = login_as("marketer")
    sequence_form_data = sequence_form(slug="taken")
    assert marketer.post("/admin/nurture/new", data=sequence_form_data).status_code == 302
    form = sequence_form(slug="taken", name="", window_start="9am", **{"steps-1-delay": "soon"})
    response = marketer.post("/admin/nurture/new?lang=zh_CN", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'id="name-error">', page)
    assert re.search(r'id="slug-error">已有序列使用了标识 taken。', page)
    assert re.search(r'id="window_start-error">', page)
    assert re.search(r'id="steps-1-delay-error">延迟“soon”无法识别', page)
    assert page.count('id="name-error"') == 1
    assert Sequence.query.count() == 1
