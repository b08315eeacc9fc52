"""The audit log records content actions done through the real views and commands:
publish, unpublish, archive, import."""

from pathlib import Path

import pytest

from tests.content.helpers import ARTICLE_FORM as FORM
from tests.factories import audit_entries, make_article

pytestmark = pytest.mark.usefixtures("app")
SITE = Path(__file__).parent / "fixtures" / "site"


@pytest.mark.parametrize("action", ["publish", "unpublish", "archive"])
def test_workflow_actions_that_change_what_the_public_sees_are_recorded(login_as, action):
    article = make_article(status="draft" if action == "publish" else "published")
    admin = login_as("admin")
    assert admin.post(f"/admin/content/{article.id}", data={**FORM, "action": action}).status_code == 303
    [entry] = audit_entries(f"content.{action}")
    assert (entry.user_id, entry.target) == (admin.user.id, f"article:{article.id}")
    assert entry.details == {"slug": article.slug}


def test_a_plain_save_is_not_an_audited_action(login_as):
    article = make_article(status="draft")
    login_as("admin").post(f"/admin/content/{article.id}", data={**FORM, "action": "save"})
    assert [
        entry for name in ("publish", "unpublish", "archive") for entry in audit_entries(f"content.{name}")
    ] == []


def test_an_import_is_recorded_and_a_dry_run_is_not(runner):
    runner.invoke(args=["content", "import", "--dry-run", str(SITE)])
    assert audit_entries("content.import") == []
    runner.invoke(args=["content", "import", str(SITE)])
    [entry] = audit_entries("content.import")
    assert entry.details["ok"] is True and entry.details["imported"] == 5
    assert entry.user_agent == "command line"
