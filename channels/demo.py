"""Demo short links: a booth QR code for the first white paper, a partner and its
personal link to it, and a few visits and a lead through that link, made by the services
a real visit uses (the counted redirect, then the form with the tags it carried).
Idempotent: the booth link is found by its code, the partner by its name, the share link
by its share key, and the lead by its address."""

from urllib.parse import parse_qsl, urlsplit

from sqlalchemy import select

from channels import links, sharing
from channels.models import Partner, ShortLink
from content.models import Article
from core.extensions import db
from core.timeutil import utcnow
from gated.assets import asset_for_article
from gated.capture import RequestMeta, capture_lead
from gated.models import Lead

BOOTH_CODE = "expo-booth"
PARTNER = ("星海咨询", "微信 xinghai-consult")
PARTNER_LEAD = {"email": "liu.yang@example.cn", "name": "刘洋", "company": "星海咨询客户", "role": "user"}


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
    partner = db.session.scalar(select(Partner).where(Partner.name == PARTNER[0]))
    if partner is None:
        partner = sharing.save_partner(*PARTNER, now=now)
    link = sharing.share_link(article, now=now, partner_id=partner.id)
    if db.session.scalar(select(Lead.id).where(Lead.email == PARTNER_LEAD["email"])) is None:
        for scanned in (True, True, False):
            visit = links.visit(link.code, scanned=scanned, now=now)
        tags = dict(parse_qsl(urlsplit(visit.location).query))
        capture_lead(
            "whitepaper",
            {**PARTNER_LEAD, **tags},
            asset=asset_for_article(article.id),
            request_meta=RequestMeta(landing_page=visit.location),
            now=now,
        )
    echo(f"  short links: /s/{BOOTH_CODE}, and {PARTNER[0]}'s share link to {article.url_path} with a lead")
