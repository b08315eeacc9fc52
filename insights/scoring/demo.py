"""Demo scoring rules (only when there are none yet)."""

from sqlalchemy import func, select

from core.extensions import db
from insights.scoring.models import ScoreRule

DEMO_RULES = (
    ("下载资料", "action", "download", "", "", 10, 0),
    ("浏览价格页", "action", "page_view", "path", "/pricing", 15, 15),
    ("浏览页面", "action", "page_view", "", "", 1, 5),
    ("点击邮件", "action", "mail_click", "", "", 5, 0),
    ("预约演示", "action", "form_submit", "value", "demo", 30, 0),
    ("退订", "action", "unsubscribe", "", "", -20, 0),
    ("决策者", "fit", "", "role", "decision_maker", 15, 0),
    ("管理岗位", "fit", "", "job_title", "总监, 经理, director, manager, head, cto, ceo", 10, 0),
    (
        "免费邮箱",
        "fit",
        "",
        "email_domain",
        "qq.com, 163.com, 126.com, gmail.com, hotmail.com, outlook.com",
        -10,
        0,
    ),
)


def add_rule(name, kind, event_kind, field, pattern, points, cap) -> ScoreRule:
    rule = ScoreRule(
        name=name,
        kind=kind,
        event_kind=event_kind,
        field=field,
        pattern=pattern,
        points=points,
        daily_cap=cap,
    )
    db.session.add(rule)
    return rule


def load(echo=print) -> None:
    if db.session.scalar(select(func.count()).select_from(ScoreRule)):
        return
    for row in DEMO_RULES:
        add_rule(*row)
    db.session.commit()
    echo(f"scoring rules: {len(DEMO_RULES)}")
