"""The journey editor's server side: delays as people type them, the wait in words, a
running sequence edited safely, the revision history, the MQL figure, and the editor
without JavaScript (rearranging, deleting, errors beside their step)."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.extensions import db
from gated.stages import set_stage
from nurture import delays, enrolment, journey_save, scheduling, sequences, stats
from nurture.models import Enrollment, Message, Sequence, SequenceRevision
from tests.factories import audit_entries
from tests.nurture.conftest import MONDAY_10_SHANGHAI, make_lead, make_sequence, tick

NOW = MONDAY_10_SHANGHAI
THREE_STEPS = [
    {"delay": "0h", "subject": "A", "body": "第一封"},
    {"delay": "2d", "subject": "B", "body": "第二封"},
    {"delay": "2d", "subject": "C", "body": "第三封"},
]


# -- delays ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "minutes"),
    [
        ("2天", 2880),
        ("2 天", 2880),
        ("3小时", 180),
        ("1周", 10080),
        ("2d", 2880),
        ("36h", 2160),
        ("２天", 2880),  # full-width digits, as a Chinese input method types them
        ("90分钟", 90),
        ("1 个星期", 10080),
        ("2D", 2880),
        ("0h", 0),
    ],
)
def test_delays_are_read_as_people_type_them(typed, minutes):
    assert delays.parse_delay(typed) == minutes
    assert scheduling.parse_delay(typed) == minutes  # the worker's and campaigns' name for it


@pytest.mark.parametrize("typed", ["", "2", "天", "2年", "two days", "-1天", "2天3小时", "1.5天"])
def test_a_delay_that_does_not_read_is_refused_with_its_text(typed):
    with pytest.raises(delays.ScheduleError) as refused:
        delays.parse_delay(typed)
    assert refused.value.params["value"] == typed


@pytest.mark.parametrize(
    ("minutes", "chinese", "code"),
    [
        (2880, "2天", "2d"),
        (2160, "36小时", "36h"),
        (10080, "1周", "1w"),
        (90, "90分钟", "90m"),
        (0, "0小时", "0h"),
    ],
)
def test_a_saved_delay_is_shown_to_type_again(minutes, chinese, code):
    assert delays.format_delay(minutes, language="zh-CN") == chinese
    assert delays.format_delay(minutes) == code
    assert delays.parse_delay(chinese) == delays.parse_delay(code) == minutes


def test_the_wait_in_words(app):
    sequence = make_sequence(steps=THREE_STEPS, trigger={"asset": "saas-renewal"})
    first, second, _third = sequence.steps
    second.delay_minutes = 36 * 60
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert delays.delay_words(first, sequence, first=True) == "下载后立即，工作日 9:00–18:00 发送"
        first.delay_minutes = 2880
        assert delays.delay_words(first, sequence, first=True) == "下载后 2 天，工作日 9:00–18:00 发送"
        assert (
            delays.delay_words(second, sequence, first=False)
            == "上一封发出后 36 小时，工作日 9:00–18:00 发送"
        )
        sequence.window_days, sequence.window_start, sequence.window_end = ["sat", "sun"], "00:00", "24:00"
        assert (
            delays.delay_words(second, sequence, first=False) == "上一封发出后 36 小时，周六、周日全天 发送"
        )
    db.session.rollback()


# -- a running sequence edited safely --------------------------------------------------


def edit(sequence, order, *, changes=None):
    """Save the sequence with its steps in `order` (indexes of the old steps, or a dict
    for a new step), through the editor's save."""
    old = list(sequence.steps)
    data = sequences.export_dict(sequence)
    steps, ids = [], []
    for item in order:
        if isinstance(item, dict):
            steps.append(item)
            ids.append(None)
        else:
            step = dict(data["steps"][item])
            step.update((changes or {}).get(item, {}))
            steps.append(step)
            ids.append(old[item].id)
    data["steps"] = steps
    return journey_save.save_journey(sequence, data, ids, now=NOW + timedelta(days=2, hours=2), user_id=None)


def places(sequence) -> dict[str, tuple]:
    rows = db.session.execute(
        select(Enrollment.lead_id, Enrollment.position, Enrollment.next_send_at).where(
            Enrollment.sequence_id == sequence.id
        )
    ).all()
    return {lead_id: (position, due) for lead_id, position, due in rows}


def received(lead_id) -> list[str]:
    """The subjects of the mails sent to a lead (a deleted step's mails stay)."""
    return db.session.scalars(
        select(Message.subject)
        .where(Message.lead_id == lead_id, Message.status == "sent")
        .order_by(Message.id)
    ).all()


@pytest.fixture
def running(app, smtp_sink):
    """A running sequence A → B → C with three leads: one waiting for C (got A and B),
    one waiting for B (got A), one waiting for A."""
    sequence = make_sequence(steps=THREE_STEPS)
    at_c, at_b, at_a = (make_lead(f"{name}@example.com").id for name in ("at-c", "at-b", "at-a"))
    enrolment.enroll([at_c], sequence.id, now=NOW)
    tick(NOW)
    enrolment.enroll([at_b], sequence.id, now=NOW + timedelta(days=2))
    tick(NOW + timedelta(days=2))
    enrolment.enroll([at_a], sequence.id, now=NOW + timedelta(days=2, hours=1))
    assert {lead: position for lead, (position, _due) in places(sequence).items()} == {
        at_c: 2,
        at_b: 1,
        at_a: 0,
    }
    return sequence, at_c, at_b, at_a


def test_reordering_a_running_sequence_keeps_each_lead_on_the_mail_it_waits_for(running):
    sequence, at_c, at_b, at_a = running
    before = places(sequence)
    saved, outcome = edit(sequence, [2, 0, 1], changes={1: {"delay": "3d"}})
    assert outcome == "updated"
    after = places(sequence)
    b = saved.steps[2]
    assert [step.subject for step in saved.steps] == ["C", "A", "B"]
    # Waiting for C: C is first now; same step, same delay, same time.
    assert after[at_c] == (0, before[at_c][1])
    # Waiting for A: A is second; its time is unchanged.
    assert after[at_a] == (1, before[at_a][1])
    # Waiting for B, whose delay changed: its time is worked out again from its last mail.
    last_sent = db.session.scalar(select(Enrollment.last_sent_at).where(Enrollment.lead_id == at_b))
    expected = scheduling.due_at(saved, b, enrolled_at=NOW, previous_at=last_sent)
    assert after[at_b] == (2, expected) and expected != before[at_b][1]

    for days in range(3, 40, 2):
        tick(NOW + timedelta(days=days))
    # Nobody gets a mail twice, and a mail moved before a lead's place is not sent to it.
    assert received(at_c) == ["A", "B", "C"]
    assert received(at_b) == ["A", "B"]
    assert received(at_a) == ["A", "B"]
    assert db.session.scalar(select(Enrollment.status).where(Enrollment.lead_id == at_c)) == "completed"


def test_a_lead_waiting_for_a_deleted_mail_waits_for_the_one_that_took_its_place(running):
    sequence, at_c, at_b, at_a = running
    saved, _outcome = edit(sequence, [0, {"delay": "1d", "subject": "D", "body": "新的一封"}])
    after = places(sequence)
    d = saved.steps[1]
    assert after[at_a][0] == 0
    for lead in (at_b, at_c):  # B and C are gone: both go on with D, timed from their last mail
        last_sent = db.session.scalar(select(Enrollment.last_sent_at).where(Enrollment.lead_id == lead))
        assert after[lead] == (1, scheduling.due_at(saved, d, enrolled_at=NOW, previous_at=last_sent))
    for days in range(3, 20, 2):
        tick(NOW + timedelta(days=days))
    assert received(at_c) == ["A", "B", "D"]
    assert received(at_b) == ["A", "D"]
    assert received(at_a) == ["A", "D"]


def test_each_save_is_one_revision_saying_what_changed(running):
    sequence = running[0]
    edit(sequence, [2, 0, 1], changes={1: {"subject": "B 改过"}})
    _saved, outcome = edit(sequence, [0, 1, 2])
    assert outcome == "unchanged"
    edit(sequence, [0, 2])
    revisions = db.session.scalars(select(SequenceRevision).order_by(SequenceRevision.number)).all()
    assert [revision.number for revision in revisions] == [1, 2]
    assert revisions[0].changes == [{"change": "reordered"}, {"change": "edited", "step": 3}]
    assert revisions[1].changes == [{"change": "deleted", "step": 2}]
    assert [step["subject"] for step in revisions[1].snapshot["steps"]] == ["C", "B 改过"]


def test_leads_that_became_mql_after_a_mail_are_counted_on_it(app, smtp_sink):
    sequence = make_sequence(steps=THREE_STEPS)
    before, after = make_lead("before@example.com"), make_lead("after@example.com")
    enrolment.enroll([before.id, after.id], sequence.id, now=NOW)
    set_stage(before, "mql", now=NOW - timedelta(minutes=5))  # before any mail: not counted
    db.session.commit()
    tick(NOW)
    set_stage(after, "sql", now=NOW)  # straight past MQL counts too
    db.session.commit()
    first, second, _third = stats.step_figures(sequence)
    assert (first["sent"], first["qualified"], second["qualified"]) == (2, 1, 0)


# -- the editor, without JavaScript ----------------------------------------------------


def form_of(sequence, **changes) -> dict:
    data = {
        "slug": sequence.slug,
        "name": sequence.name,
        "locale": sequence.locale,
        "topic": sequence.topic.slug if sequence.topic else "",
        "trigger_kind": sequence.trigger_kind,
        "trigger_value": sequence.trigger_value,
        "days": list(sequence.window_days),
        "window_start": sequence.window_start,
        "window_end": sequence.window_end,
        "timezone": sequence.timezone,
    }
    for index, step in enumerate(sequence.steps):
        data |= {
            f"steps-{index}-step_id": str(step.id),
            f"steps-{index}-delay": delays.format_delay(step.delay_minutes, language="zh-CN"),
            f"steps-{index}-delay_from": step.delay_from,
            f"steps-{index}-subject": step.subject,
            f"steps-{index}-body": step.body,
            f"steps-{index}-condition": "",
        }
    data.update(changes)
    return data


def test_the_journey_page_shows_each_mail_rendered_with_its_wait_in_words(login_as):
    marketer = login_as("marketer")
    sequence = make_sequence(steps=[{"delay": "2d", "subject": "{{ lead.company }} 的方案", "body": "正文"}])
    page = marketer.get(f"/admin/nurture/{sequence.id}/edit").get_data(as_text=True)
    assert "加入序列后 2 天，工作日 9:00–18:00 发送" in page
    assert "示例科技有限公司 的方案" in page  # the subject as the sample lead reads it
    # Each saved mail's frames load its preview with the page (no script needed).
    src = f"/admin/nurture/{sequence.id}/steps/{sequence.steps[0].id}/preview"
    assert page.count(f'src="{src}"') == 2  # desktop and phone
    preview = marketer.get(src).get_data(as_text=True)
    assert "示例科技有限公司 的方案" in preview
    lead = make_lead(company="远航软件")
    assert "远航软件 的方案" in marketer.get(f"{src}?lead={lead.id}").get_data(as_text=True)


def test_without_javascript_the_move_buttons_rearrange_and_one_save_keeps_it(login_as):
    marketer = login_as("marketer")
    sequence = make_sequence(steps=THREE_STEPS)
    moved = marketer.post(f"/admin/nurture/{sequence.id}/edit", data=form_of(sequence, arrange="up-2"))
    page = moved.get_data(as_text=True)
    assert moved.status_code == 200
    assert page.index('value="C"') < page.index('value="B"')  # shown moved, not yet saved
    assert [step.subject for step in sequence.steps] == ["A", "B", "C"]
    copied = marketer.post(f"/admin/nurture/{sequence.id}/edit", data=form_of(sequence, arrange="copy-0"))
    assert copied.get_data(as_text=True).count('value="A"') == 2
    added = marketer.post(f"/admin/nurture/{sequence.id}/edit", data=form_of(sequence, arrange="add"))
    assert 'name="steps-3-subject"' in added.get_data(as_text=True)

    ids = [step.id for step in sequence.steps]
    form = form_of(
        sequence, **{"steps-1-remove": "y", "steps-0-delay": "3 天", "steps-2-step_id": str(ids[2])}
    )
    form |= {
        "steps-0-step_id": str(ids[2]),
        "steps-0-subject": "C",
        "steps-2-subject": "A",
        "steps-2-step_id": str(ids[0]),
    }
    form |= {"steps-0-body": "第三封", "steps-2-body": "第一封", "steps-2-delay": "0小时"}
    saved = marketer.post(f"/admin/nurture/{sequence.id}/edit", data=form)
    assert saved.status_code == 302
    db.session.expire_all()
    assert [(step.id, step.subject, step.delay_minutes) for step in sequence.steps] == [
        (ids[2], "C", 4320),
        (ids[0], "A", 0),
    ]
    (revision,) = db.session.scalars(select(SequenceRevision)).all()
    assert {change["change"] for change in revision.changes} == {"reordered", "edited", "deleted"}
    assert revision.user_id == marketer.user.id
    [audited] = audit_entries("nurture.sequence_saved")
    assert (audited.user_id, audited.target) == (marketer.user.id, f"sequence:{sequence.id}")


def test_a_delay_that_does_not_read_is_shown_on_its_step_in_chinese(login_as):
    marketer = login_as("marketer")
    sequence = make_sequence(steps=THREE_STEPS)
    response = marketer.post(
        f"/admin/nurture/{sequence.id}/edit", data=form_of(sequence, **{"steps-1-delay": "2年"})
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert (
        'id="steps-1-delay-error">延迟“2年”无法识别：请写数字加单位，例如 2天、3小时、1周、2d 或 36h' in page
    )
    assert "delay" not in page.split('id="steps-1-delay-error">')[1].split("<")[0]
    db.session.expire_all()
    assert sequence.steps[1].delay_minutes == 2880  # nothing saved


def test_a_new_sequence_of_three_steps_in_one_save(login_as):
    marketer = login_as("marketer")
    template = make_sequence(slug="template", steps=THREE_STEPS)
    form = form_of(template, slug="three-in-one", **{f"steps-{i}-step_id": "" for i in range(3)})
    form["steps-0-delay"] = "2天"
    assert marketer.post("/admin/nurture/new", data=form).status_code == 302
    saved = db.session.scalar(select(Sequence).where(Sequence.slug == "three-in-one"))
    assert [(step.delay_minutes, step.subject) for step in saved.steps] == [
        (2880, "A"),
        (2880, "B"),
        (2880, "C"),
    ]
    (revision,) = db.session.scalars(select(SequenceRevision)).all()
    assert (revision.sequence_id, revision.changes) == (saved.id, [{"change": "created", "steps": 3}])
