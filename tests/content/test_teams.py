"""Teams: who writes and who approves which articles, and the team admin's bad input."""

import pytest

from content import teams
from content.documents import DocumentError
from content.models import Article
from content.services import save_article, transition
from content.teams import CategoryTeam, TeamMember
from content.workflow import NotAllowed, allowed_actions, can_edit
from core.extensions import db
from tests.conftest import join_team
from tests.content.helpers import ARTICLE_FORM
from tests.factories import UserFactory, audit_entries, make_article

SOLUTION_BODY = "## 行业挑战\n\n挑战\n\n## 解决方案\n\n方案\n\n## 客户价值\n\n价值"


def in_review_solution(default_teams, now=None):
    """A 售前 solution that meets its standard, waiting for review."""
    article = make_article(
        SOLUTION_BODY, kind="solution", title="制造业解决方案", summary="摘要", status="in_review"
    )
    assert article.team_id == default_teams["售前"].id
    return article


def test_an_editor_of_support_cannot_publish_a_presales_solution(app, default_teams, login_as):
    support = login_as("editor")
    join_team(default_teams["客服"], support.user, reviewer=True)
    solution = in_review_solution(default_teams)

    with pytest.raises(NotAllowed, match="属于其他团队"):
        transition(solution, "publish", user=support.user, now=solution.updated_at)
    form = {**ARTICLE_FORM, "kind": "solution", "title": solution.title, "body": SOLUTION_BODY}
    page = support.post(f"/admin/content/{solution.id}", data={**form, "action": "publish"})
    assert page.status_code == 403
    # Nor may they tick its checklist or change it.
    support.post(f"/admin/content/{solution.id}/checklist", data={"items": ["与当前产品能力一致"]})
    db.session.expire_all()
    assert db.session.get(Article, solution.id).status == "in_review"
    assert not db.session.get(Article, solution.id).checklist
    assert not can_edit(support.user, solution)


def test_the_teams_reviewer_publishes_after_ticking_the_checklist(app, default_teams, login_as):
    presales = login_as("editor")
    join_team(default_teams["售前"], presales.user, reviewer=True)
    solution = in_review_solution(default_teams)
    form = {
        **ARTICLE_FORM,
        "kind": "solution",
        "title": solution.title,
        "body": SOLUTION_BODY,
        "category": "",
    }

    refused = presales.post(f"/admin/content/{solution.id}", data={**form, "action": "publish"})
    assert refused.status_code == 409
    assert "与当前产品能力一致" in refused.get_data(as_text=True)

    presales.post(f"/admin/content/{solution.id}/checklist", data={"items": ["与当前产品能力一致"]})
    published = presales.post(f"/admin/content/{solution.id}", data={**form, "action": "publish"})
    assert published.status_code == 303
    db.session.expire_all()
    article = db.session.get(Article, solution.id)
    assert article.status == "published"
    assert article.checklist == []  # the next approval is ticked afresh
    assert article.review_by is not None


def test_a_team_member_who_is_not_a_reviewer_cannot_publish(app, default_teams):
    writer = UserFactory(role="editor")
    join_team(default_teams["售前"], writer)
    solution = in_review_solution(default_teams)
    assert can_edit(writer, solution)
    assert [action.name for action in allowed_actions(writer, solution)] == ["save"]


def test_an_editor_writes_new_articles_only_in_their_teams(app, default_teams):
    support = UserFactory(role="editor")
    join_team(default_teams["客服"], support)
    fields = {"title": "售前方案", "kind": "solution", "locale": "zh-CN", "category": ""}
    with pytest.raises(DocumentError) as refused:
        save_article(fields, "正文", user=support, now=support.created_at)
    assert refused.value.problems[0].field == "kind"
    assert "售前" in str(refused.value.problems[0].message)
    assert db.session.scalar(db.select(db.func.count(Article.id))) == 0

    help_article = save_article({**fields, "kind": "help"}, "正文", user=support, now=support.created_at)
    assert help_article.team_id == default_teams["客服"].id


def test_a_category_belongs_to_its_team_whatever_the_kind(app, default_teams):
    db.session.add(CategoryTeam(category="售前问答", team_id=default_teams["售前"].id))
    db.session.commit()
    article = make_article(kind="help", category="售前问答")
    assert article.team_id == default_teams["售前"].id


def test_an_editor_in_no_team_writes_as_before(app, default_teams):
    loner = UserFactory(role="editor")
    article = save_article(
        {"title": "方案", "kind": "solution", "locale": "zh-CN"}, "正文", user=loner, now=loner.created_at
    )
    assert article.team_id == default_teams["售前"].id
    assert can_edit(loner, article)


def test_a_reviewer_outside_the_team_is_refused_and_nothing_is_saved(app, default_teams, login_as):
    admin = login_as("admin")
    member, outsider = UserFactory(role="editor"), UserFactory(role="editor")
    team = default_teams["客服"]
    join_team(team, member)

    page = admin.post(
        f"/admin/content/teams/{team.id}",
        data={
            "name": "客服中心",
            "members": [str(member.id)],
            "reviewers": [str(outsider.id)],
            "categories": "常见问题",
        },
    )
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert "审核人必须是团队成员" in text and outsider.email in text
    assert 'value="客服中心"' in text  # what was typed stays
    db.session.expire_all()
    assert db.session.get(teams.Team, team.id).name == "客服"
    assert db.session.scalars(db.select(TeamMember.user_id).where(TeamMember.team_id == team.id)).all() == [
        member.id
    ]
    assert db.session.scalar(db.select(CategoryTeam).where(CategoryTeam.category == "常见问题")) is None

    saved = admin.post(
        f"/admin/content/teams/{team.id}",
        data={
            "name": "客服中心",
            "members": [str(member.id), str(outsider.id)],
            "reviewers": [str(outsider.id)],
        },
    )
    assert saved.status_code == 303
    assert teams.membership(outsider).reviews == {team.id}
    assert audit_entries("content.team_save")


def test_team_pages_are_for_admins_only(app, default_teams, login_as):
    editor = login_as("editor")
    assert editor.get("/admin/content/teams/").status_code == 403
    assert editor.get("/admin/content/standards/").status_code == 403
    admin = login_as("admin")
    page = admin.get("/admin/content/teams/").get_data(as_text=True)
    assert all(name in page for name in ("产品", "客服", "客户成功", "售前", "市场"))


def test_the_editor_list_filters_by_team(app, default_teams, login_as):
    make_article(title="帮助一篇")
    make_article(SOLUTION_BODY, kind="solution", title="方案一篇")
    page = login_as("admin").get(f"/admin/content/?team={default_teams['售前'].id}").get_data(as_text=True)
    assert "方案一篇" in page and "帮助一篇" not in page


def test_the_owner_must_belong_to_the_articles_team(app, default_teams, login_as):
    reviewer = login_as("editor")
    join_team(default_teams["客服"], reviewer.user, reviewer=True)
    outsider = UserFactory(role="editor")
    article = make_article(title="帮助")
    team = str(default_teams["客服"].id)

    reviewer.post(f"/admin/content/{article.id}/ownership", data={"team": team, "owner": str(outsider.id)})
    db.session.expire_all()
    assert db.session.get(Article, article.id).owner_id is None
    assert "负责人必须是文章所属团队的成员" in reviewer.get(f"/admin/content/{article.id}").get_data(
        as_text=True
    )

    join_team(default_teams["客服"], outsider)
    reviewer.post(f"/admin/content/{article.id}/ownership", data={"team": team, "owner": str(outsider.id)})
    db.session.expire_all()
    assert db.session.get(Article, article.id).owner_id == outsider.id
    assert audit_entries("content.ownership")
