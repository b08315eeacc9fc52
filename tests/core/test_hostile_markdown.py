"""Every shape of hostile Markdown from the security review, through every entry point
that renders Markdown: the editor's save and preview, the live preview, `flask content
import`, a nurture step (save, preview, test send) and a campaign's body and a
variant's body. Each is refused with a message (never a 500, never a hang), and nothing
is stored or queued. tests/content/test_bounds.py checks the bounds themselves."""

import pytest
import yaml
from sqlalchemy import func, select

from campaigns import services as campaign_services
from campaigns.models import Campaign
from campaigns.validation import CampaignError
from content.models import Article, Revision
from core.extensions import db
from nurture import sequences, validation
from nurture.models import Message, Sequence
from tests.campaigns.conftest import GOOD, NOW, person
from tests.content.helpers import ARTICLE_FORM as FORM
from tests.content.helpers import HOSTILE
from tests.nurture.conftest import MONDAY_10_SHANGHAI as SEQUENCE_NOW
from tests.nurture.conftest import sequence_data, sequence_form

pytestmark = pytest.mark.usefixtures("app")

# The shapes the review found (each ran for minutes or raised RecursionError).
SHAPES = {
    name: HOSTILE[name]
    for name in (
        "50,000 open brackets",
        "500,000 character references",
        "20,000 headings",
        "a 1,000-level nested list",
        '3,000 nested <div markdown="1">',
        "500 nested admonitions",
    )
}
shapes = pytest.mark.parametrize("body", SHAPES.values(), ids=SHAPES.keys())


def count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


@shapes
@pytest.mark.parametrize("action", ["save", "preview"])
def test_the_editor_refuses_it_beside_the_body(login_as, body, action):
    editor = login_as("editor")
    response = editor.post("/admin/content/new", data={**FORM, "body": body, "action": action})
    assert response.status_code == 422
    assert 'class="error"' in response.get_data(as_text=True)
    assert count(Article) == 0 and count(Revision) == 0


@shapes
def test_the_live_preview_refuses_it_as_json(login_as, body):
    editor = login_as("editor")
    response = editor.post("/admin/content/preview", data={"body": body})
    assert response.status_code == 422
    assert response.get_json()["field"] == "body" and response.get_json()["error"]


@shapes
def test_the_import_names_the_file_and_stores_nothing_of_it(runner, tmp_path, body):
    (tmp_path / "hostile.md").write_text("---\ntitle: ok\n---\n" + body, encoding="utf-8")
    result = runner.invoke(args=["content", "import", str(tmp_path)])
    assert result.exit_code == 1
    assert f"error     {tmp_path / 'hostile.md'}" in result.output
    assert count(Article) == 0


@shapes
def test_a_sequence_step_is_refused_with_its_reason(body):
    with pytest.raises(validation.SequenceError) as refused:
        sequences.save_sequence(
            sequence_data(steps=[{"delay": "0h", "subject": "你好", "body": body}]), now=SEQUENCE_NOW
        )
    assert any(error.startswith("step 1 body:") for error in refused.value.errors), refused.value.errors
    assert count(Sequence) == 0


@shapes
def test_the_step_preview_and_test_send_refuse_it(login_as, body):
    marketer = login_as("marketer")
    form = sequence_form(step="0", **{"steps-0-body": body})
    preview = marketer.post("/admin/nurture/preview", data=form)
    assert preview.status_code < 500
    assert "body" in preview.get_data(as_text=True)
    sent = marketer.post("/admin/nurture/test-send", data=form)
    assert sent.status_code == 422
    assert count(Message) == 0


@shapes
@pytest.mark.parametrize("where", ["body", "variant"])
@pytest.mark.usefixtures("topics")
def test_a_campaign_body_is_refused_by_its_field(runner, tmp_path, body, where):
    person("boss@mfg.cn", role="decision_maker")
    data = dict(GOOD)
    if where == "body":
        data["body"] = body
        field = "body:"
    else:
        data["variants"] = [GOOD["variants"][0], {"subject": "二", "body": body}]
        field = "variants[1].body:"
    with pytest.raises(CampaignError) as refused:
        campaign_services.save_campaign(data, now=NOW)
    assert any(error.startswith(field) for error in refused.value.errors), refused.value.errors
    path = tmp_path / "campaign.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = runner.invoke(args=["campaigns", "import", str(path)])
    assert result.exit_code == 1 and field in result.output
    assert count(Campaign) == 0
