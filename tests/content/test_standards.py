"""Standards per kind: templates, required parts, the reviewer's checklist, and a template
change that would break published articles."""

import pytest

from content import standards
from content.documents import DocumentError
from content.models import Article
from content.services import save_article, transition
from content.workflow import NotReady
from core.extensions import db
from core.timeutil import utcnow
from tests.content.helpers import ARTICLE_FORM
from tests.factories import audit_entries, make_article

CASE_BODY = "## 客户背景\n\n背景\n\n## 挑战\n\n挑战\n\n## 方案\n\n方案\n\n## 成效\n\n成效"


def test_a_new_article_starts_from_its_kinds_template(app, default_teams, login_as):
    page = login_as("editor").get("/admin/content/new?kind=case-study").get_data(as_text=True)
    assert "## 客户背景" in page and "## 成效" in page


def test_publishing_is_refused_while_a_required_part_is_missing(app, default_teams, login_as):
    admin = login_as("admin")
    form = {**ARTICLE_FORM, "kind": "case-study", "summary": "", "body": "## 客户背景\r\n\r\n背景"}
    page = admin.post("/admin/content/new", data={**form, "action": "publish"})
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert "发布前必填：摘要" in text
    assert "挑战、方案、成效" in text
    assert db.session.scalar(db.select(db.func.count(Article.id))) == 0  # nothing half-saved


def test_the_editor_says_what_publishing_will_need_on_every_save_of_a_draft(app, default_teams, login_as):
    editor = login_as("editor")
    form = {**ARTICLE_FORM, "kind": "case-study", "summary": "", "body": "## 客户背景\r\n\r\n背景"}
    saved = editor.post("/admin/content/new", data={**form, "action": "save"})
    assert saved.status_code == 303  # a draft is saved as it is
    page = editor.get(saved.headers["Location"]).get_data(as_text=True)
    needs = page[page.index('id="publish-needs"') :].split("</div>")[0]
    assert "按此类内容的标准，发布前还需要：" in needs
    assert "发布前必填：摘要" in needs and "挑战、方案、成效" in needs
    assert "审阅清单：客户已同意公开、数据已与客户确认。" in needs
    article = db.session.scalar(db.select(Article))
    article.summary, article.checklist = "摘要", ["客户已同意公开", "数据已与客户确认"]
    save_article({}, CASE_BODY, article=article, now=utcnow())
    assert 'id="publish-needs"' not in editor.get(saved.headers["Location"]).get_data(as_text=True)


def test_the_checklist_must_be_ticked_before_an_admin_publishes_too(app, default_teams):
    from tests.factories import UserFactory

    admin = UserFactory(role="admin")
    article = make_article(CASE_BODY, kind="case-study", summary="摘要", status="in_review")
    with pytest.raises(NotReady, match="客户已同意公开"):
        transition(article, "publish", user=admin, now=utcnow())
    article.checklist = ["客户已同意公开", "数据已与客户确认"]
    db.session.commit()
    assert transition(article, "publish", user=admin, now=utcnow()).status == "published"


def test_a_complete_article_passes_and_missing_parts_name_their_fields():
    standard = standards.Standard(
        "case-study", None, CASE_BODY, ("summary", "tags"), (), 12, standards.template_headings(CASE_BODY)
    )
    headings = [{"title": title} for title in ("客户背景", "挑战", "方案", "成效")]
    assert standards.missing_parts(standard, {"summary": "有", "tags": ["a"]}, headings) == []
    problems = standards.missing_parts(standard, {"summary": " ", "tags": []}, headings[:2])
    assert [problem.field for problem in problems] == ["summary", "tags", "body"]


def test_a_template_change_that_would_break_published_articles_is_refused(app, default_teams, login_as):
    make_article(CASE_BODY, kind="case-study", title="某银行的案例", summary="摘要")
    before = standards.standard_for("case-study")
    admin = login_as("admin")
    form = {
        "team": str(default_teams["客户成功"].id),
        "review_months": "12",
        "required_fields": ["summary"],
        "template": CASE_BODY + "\n\n## 客户证言\n",
        "checklist": "客户已同意公开",
    }
    page = admin.post("/admin/content/standards/case-study", data=form)
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert "某银行的案例" in text and "会使" in text
    assert "## 客户证言" in text  # what was typed stays
    db.session.expire_all()
    assert standards.standard_for("case-study") == before

    # An article that already falls short is not "broken" by the change.
    bad_months = admin.post(
        "/admin/content/standards/case-study", data={**form, "template": CASE_BODY, "review_months": "0"}
    )
    assert bad_months.status_code == 422
    saved = admin.post(
        "/admin/content/standards/case-study", data={**form, "template": CASE_BODY, "review_months": "3"}
    )
    assert saved.status_code == 303
    assert standards.standard_for("case-study").review_months == 3
    assert audit_entries("content.standard_save")


def test_an_import_is_not_held_to_the_standard(app, default_teams):
    # The importer acts for the operator, as before standards.
    article = make_article("正文", kind="case-study")
    assert article.status == "published"


def test_a_refused_publish_names_the_body_field(app, default_teams):
    from tests.factories import UserFactory

    with pytest.raises(DocumentError) as refused:
        save_article(
            {"title": "案例", "kind": "case-study", "locale": "zh-CN", "summary": "摘要"},
            "## 客户背景\n\n只有背景",
            user=UserFactory(role="admin"),
            action="publish",
            now=utcnow(),
        )
    assert [problem.field for problem in refused.value.problems] == ["body"]
