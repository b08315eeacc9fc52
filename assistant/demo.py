"""Demo data of the assistant: the five tiers and three customer accounts (one per
route), owned by the demo sales user. Idempotent: accounts are matched by company."""

from sqlalchemy import select

from accounts.models import User
from assistant import tiers
from assistant.models import CustomerAccount
from core.extensions import db
from core.timeutil import utcnow

DEMO_ACCOUNTS = (
    ("星河软件", "xinghe.example.cn", 1),
    ("远景制造", "yuanjing.example.cn", 3),
    ("云帆科技", "yunfan.example.cn", 5),
)


def load(echo) -> None:
    levels = {tier.level: tier for tier in tiers.ensure_tiers()}
    owner = db.session.scalars(select(User).where(User.role == "sales").order_by(User.id)).first()
    added = 0
    for company, domain, level in DEMO_ACCOUNTS:
        if db.session.scalars(select(CustomerAccount).where(CustomerAccount.company == company)).first():
            continue
        tiers.save_account(
            None,
            {
                "company": company,
                "domains": domain,
                "tier_id": levels[level].id,
                "owner_id": owner.id if owner else "",
            },
            now=utcnow(),
        )
        added += 1
    echo(f"assistant: 5 tiers, {added} customer accounts added")
