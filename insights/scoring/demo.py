"""The default scoring rules for `flask demo load`, where there are none yet.

A database built by the migrations has them already (migration 6c2e9a4d1f70 inserts the
same rows, written out there as a snapshot); this loader gives them to one built another
way (the tests' create_all), so the demo's leads always score and reach sales."""

from sqlalchemy import func, select

from core.extensions import db
from insights.scoring.models import ScoreRule

COLUMNS = ("name", "kind", "event_kind", "field", "pattern", "points", "daily_cap")
# docs/INSIGHTS.md, "Rules"
DEFAULT_RULES = (
    ("下载资料", "action", "download", "", "", 10, 0),
    ("浏览价格页", "action", "page_view", "path", "/pricing", 15, 15),
    ("浏览页面", "action", "page_view", "", "", 1, 5),
    ("点击邮件", "action", "mail_click", "", "", 5, 0),
    ("预约演示", "action", "form_submit", "value", "demo", 30, 0),
    ("退订", "action", "unsubscribe", "", "", -20, 0),
    ("决策者", "fit", "", "role", "decision_maker", 15, 0),
    ("管理岗位", "fit", "", "job_title", "总监, 经理, director, manager, head, cto, ceo", 10, 0),
    ("免费邮箱", "fit", "", "email_domain", "qq.com, 163.com, 126.com, gmail.com, hotmail.com, outlook.com", -10, 0),
)  # fmt: skip


def load(echo=print) -> None:
    if db.session.scalar(select(func.count()).select_from(ScoreRule)):
        return
    db.session.add_all(ScoreRule(**dict(zip(COLUMNS, row, strict=True))) for row in DEFAULT_RULES)
    db.session.commit()
    echo(f"scoring rules: {len(DEFAULT_RULES)}")
