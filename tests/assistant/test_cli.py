"""`flask assistant purge` and `flask assistant link`, and the demo loader."""

from datetime import timedelta

from sqlalchemy import func, select

from assistant import demo, services, tiers
from assistant.models import Conversation, CustomerAccount, Tier
from core.extensions import db
from core.timeutil import utcnow


def test_purge_command_removes_conversations_past_retention(runner, help_center):
    old = utcnow() - timedelta(days=400)
    services.start("单点登录", account=None, locale="zh_CN", now=old)
    services.start("单点登录", account=None, locale="zh_CN", now=utcnow())
    result = runner.invoke(args=["assistant", "purge"])
    assert result.exit_code == 0, result.output
    assert "1 conversations purged" in result.output
    assert db.session.scalar(select(func.count()).select_from(Conversation)) == 1
    result = runner.invoke(
        args=[
            "assistant",
            "purge",
            "--days",
            "0",
            "--now",
            (utcnow() + timedelta(days=1)).strftime("%Y-%m-%d"),
        ]
    )
    assert "1 conversations purged" in result.output


def test_link_command_prints_a_signed_link(runner, customers):
    result = runner.invoke(args=["assistant", "link", str(customers["low"].id)])
    assert result.exit_code == 0
    token = result.output.strip().split("account=")[1]
    assert tiers.account_from_token(token).id == customers["low"].id
    assert runner.invoke(args=["assistant", "link", "999"]).exit_code != 0


def test_demo_loader_is_idempotent(app):
    lines = []
    demo.load(lines.append)
    demo.load(lines.append)
    assert db.session.scalar(select(func.count()).select_from(Tier)) == 5
    assert db.session.scalar(select(func.count()).select_from(CustomerAccount)) == 3
