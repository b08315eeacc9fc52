"""Fixtures of the assistant tests: a help center of seven articles (indexed by the real
search), the five tiers, a customer account per route, and helpers to walk a conversation."""

import pytest

from accounts import services as accounts
from assistant import services, tiers
from assistant.models import Conversation, Round
from content.search.state import get_index
from core.extensions import db
from core.timeutil import utcnow
from tests.factories import make_article

HELP = [
    (
        "sso-setup",
        "如何配置单点登录",
        "在「设置 → 安全」里上传身份提供方的元数据,再用测试账号登录一次。单点登录支持 SAML。",
    ),
    ("sso-errors", "单点登录失败怎么办", "单点登录报错时,检查证书是否过期,以及时钟是否同步。"),
    ("sso-users", "单点登录的用户同步", "单点登录用户可以通过 SCIM 自动同步,离职员工自动停用。"),
    ("sso-mfa", "单点登录与两步验证", "开启单点登录后,两步验证由身份提供方负责。"),
    ("sso-domains", "单点登录的域名验证", "单点登录前需要验证公司域名,在 DNS 里添加 TXT 记录。"),
    ("sso-logout", "单点登录的退出", "退出单点登录会同时退出身份提供方的会话。"),
    ("sso-apps", "单点登录支持哪些应用", "单点登录支持钉钉、企业微信和飞书。"),
    ("sso-audit", "单点登录的审计日志", "每次单点登录都会写入审计日志,可导出。"),
    ("sso-price", "单点登录的价格", "单点登录包含在企业版中,无需另外付费。"),
    ("invoice", "如何下载发票", "在账单页面选择月份,点击下载发票。"),
]


@pytest.fixture
def help_center(app):
    now = utcnow()
    articles = {
        slug: make_article(body, title=title, slug=slug, category="帮助", now=now)
        for slug, title, body in HELP
    }
    get_index().sync(now, force=True)
    return articles


@pytest.fixture
def english_help(help_center):
    """English help articles on single sign-on that name it in Chinese too (as bilingual
    teams write), so a Chinese question finds them unless languages are kept apart."""
    now = utcnow()
    articles = {
        slug: make_article(body, title=title, slug=slug, locale="en", category="Help", now=now)
        for slug, title, body in (
            ("sso-setup-en", "Set up single sign-on (单点登录)", "单点登录 (SSO): upload the SAML metadata."),
            (
                "sso-errors-en",
                "单点登录 errors",
                "When 单点登录 single sign-on fails, check the certificate.",
            ),
        )
    }
    get_index().sync(now, force=True)
    return articles


@pytest.fixture
def levels(app):
    return {tier.level: tier for tier in tiers.ensure_tiers()}


@pytest.fixture
def customers(app, levels):
    """Accounts: a top tier with an owner, a lower tier, a top tier without an owner."""
    owner = accounts.create_user(
        "owner@lodestar.example", role="sales", password="long enough pw", name="Owner Li"
    )
    now = utcnow()
    top = tiers.save_account(
        None,
        {
            "company": "星河软件",
            "domains": "xinghe.cn",
            "contacts": "boss@gmail.com",
            "tier_id": levels[1].id,
            "owner_id": owner.id,
        },
        now=now,
    )
    low = tiers.save_account(
        None, {"company": "远景制造", "domains": "yuanjing.cn", "tier_id": levels[4].id}, now=now
    )
    queue = tiers.save_account(
        None, {"company": "云帆科技", "domains": "yunfan.cn", "tier_id": levels[2].id}, now=now
    )
    return {"top": top, "low": low, "queue": queue, "owner": owner}


def walk(conversation: Conversation, replies: list[str], now=None) -> Conversation:
    for reply in replies:
        services.answer(conversation, reply, now=now or utcnow())
    return conversation


def fresh(conversation_id: int) -> Conversation:
    db.session.expire_all()
    return db.session.get(Conversation, conversation_id)


QUESTION = "单点登录怎么配置?"


def ask(client, question=QUESTION, **kwargs):
    return client.post("/help/ask", data={"question": question}, **kwargs)


def conversation_url(response) -> str:
    assert response.status_code == 303, response.status_code
    return response.headers["Location"].split("#")[0]


def conversation(created, status, question="单点登录怎么配置", tier=None, answers=("solved",)):
    """A stored conversation, as the services leave it, at a chosen time."""
    row = Conversation(
        status=status, created_at=created, updated_at=created, tier_id=tier.id if tier else None
    )
    for number, answer in enumerate(answers, start=1):
        row.rounds.append(
            Round(
                number=number,
                question=question,
                answer=answer,
                offered=[{"id": number, "title": f"文章{number}", "url": f"/help/a{number}", "passage": ""}],
                created_at=created,
            )
        )
    db.session.add(row)
    return row
