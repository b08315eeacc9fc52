"""Demo short links: a booth QR code for the first white paper, a partner and its
personal link to it. Idempotent: the booth link is found by its code, the partner by its
name and the share link by its share key."""

from sqlalchemy import select

from channels import links, sharing
from channels.models import Partner, ShortLink
from content.models import Article
from core.extensions import db
from core.timeutil import utcnow

BOOTH_CODE = "expo-booth"


def load(echo) -> None:
    now = utcnow()
    article = db.session.scalar(
        select(Article)
        .where(Article.kind == "whitepaper", Article.status == "published")
        .order_by(Article.id)
    )
    if article is None:
        return
    if db.session.scalar(select(ShortLink.id).where(ShortLink.code == BOOTH_CODE)) is None:
        links.save_link(
            {"target": article.url_path, "code": BOOTH_CODE, "channel": "booth", "campaign": "expo-2026"},
            now=now,
        )
    partner = db.session.scalar(select(Partner).where(Partner.name == "星海咨询"))
    if partner is None:
        partner = sharing.save_partner("星海咨询", "微信 xinghai-consult", now=now)
    sharing.share_link(article, now=now, partner_id=partner.id)
    echo(f"Short links: /s/{BOOTH_CODE} and a partner's share link to {article.url_path}")
