"""What to write next, from real searches (recorded by the search pages), pages people
left to search again, and the assistant's unsolved questions; each idea one click from a
planned piece."""

import re
from datetime import timedelta

from sqlalchemy import select

from assistant.models import Conversation, Round
from content.ideas import what_to_write_next
from content.planning import PlannedPiece
from core.extensions import db
from core.localtime import local_today
from core.timeutil import utcnow
from tests.conftest import join_team
from tests.factories import audit_entries

IDEAS = "/admin/content/calendar/ideas"


def test_what_to_write_next_from_real_searches_and_questions(app, client, publish, default_teams, login_as):
    sso = publish("单点登录配置指南", "在管理后台开启单点登录。", kind="help")
    for _ in range(2):
        assert client.get("/search?q=量子纠缠").status_code == 200
    client.get("/search?q=私有化部署")
    # A result opened, then another search in the same visit: the page did not answer.
    found = client.get("/api/search?q=单点登录").get_json()
    assert found["results"][0]["slug"] == sso.slug
    assert client.post("/api/search/click", json={"token": found["results"][0]["click"]}).status_code == 200
    client.get("/search?q=单点登录失败怎么办")
    conversation = Conversation(status="human")
    db.session.add(conversation)
    db.session.flush()
    db.session.add(
        Round(conversation_id=conversation.id, number=1, question="怎么开具增值税发票？", answer="not_yet")
    )
    db.session.commit()

    groups = {group.source.name: group for group in what_to_write_next(app, now=utcnow())}
    empty = groups["empty_searches"].ideas
    counts = {idea.title: idea.count for idea in empty}
    assert empty[0].title == "量子纠缠" and counts["量子纠缠"] == 2 and counts["私有化部署"] == 1
    assert "单点登录" not in counts  # it found the guide
    assert all(idea.last_at is not None for idea in groups["empty_searches"].ideas)
    assert [(idea.title, idea.count) for idea in groups["left_pages"].ideas] == [("单点登录配置指南", 1)]
    assert [idea.title for idea in groups["assistant_unsolved"].ideas] == ["怎么开具增值税发票？"]

    editor = login_as("editor")
    join_team(default_teams["客服"], editor.user)
    page = editor.get(IDEAS).get_data(as_text=True)
    for text in ("量子纠缠", "2 次", "单点登录配置指南", "怎么开具增值税发票？", "助手未能解答的问题"):
        assert text in page, text

    quantum = next(idea for idea in groups["empty_searches"].ideas if idea.title == "量子纠缠")
    form = {
        "idea": quantum.key,
        "title": "量子纠缠",
        "kind": "help",
        "team": str(default_teams["客服"].id),
        "target_date": (local_today() - timedelta(days=1)).isoformat(),
    }
    refused = editor.post(f"{IDEAS}/plan", data=form)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert re.search(r'id="idea-empty_searches-\d+-target_date-error">[^<]*目标日期已过', html)
    assert db.session.scalars(select(PlannedPiece)).all() == []

    target = local_today() + timedelta(days=7)
    planned = editor.post(
        f"{IDEAS}/plan", data={**form, "title": "量子纠缠是什么", "target_date": target.isoformat()}
    )
    assert planned.status_code == 303 and f"date={target}" in planned.headers["Location"]
    [plan] = db.session.scalars(select(PlannedPiece)).all()
    assert (plan.title, plan.idea, plan.owner_id, plan.target_date) == (
        "量子纠缠是什么",
        quantum.key,
        editor.user.id,
        target,
    )
    assert audit_entries("content.plan_save")[0].details["idea"] == quantum.key
    # The idea now shows its plan instead of the form.
    again = editor.get(IDEAS).get_data(as_text=True)
    assert f'/admin/content/calendar/plans/{plan.id}"' in again
    assert again.count('name="idea"') == page.count('name="idea"') - 1
