"""Demo leads: a handful of people from different channels, each with a submission.
Idempotent: leads are upserted by email and get their submission only once."""

from datetime import timedelta

from sqlalchemy import select

from core.extensions import db
from core.timeutil import utcnow
from gated.capture import RequestMeta, capture_lead
from gated.downloads import record_download
from gated.models import Asset, Lead, Submission

DEMO_LEADS = [
    (
        "wang.fang@example.cn",
        "王芳",
        "星河软件",
        "CTO",
        "13800138000",
        "decision_maker",
        {"utm_source": "baidu", "utm_medium": "cpc", "utm_campaign": "renewal"},
        "",
    ),
    ("li.lei@example.cn", "李雷", "远景制造", "IT 经理", "", "user", {}, "https://www.baidu.com/s?wd=saas"),
    (
        "zhang.min@example.cn",
        "张敏",
        "云帆科技",
        "市场总监",
        "+86 139 1234 5678",
        "requester",
        {"utm_source": "wechat", "utm_medium": "social"},
        "",
    ),
    (
        "anna.schmidt@example.de",
        "Anna Schmidt",
        "Nordwerk GmbH",
        "Head of Ops",
        "+49 151 23456789",
        "decision_maker",
        {"utm_source": "newsletter", "utm_medium": "email"},
        "",
    ),
    (
        "chen.jie@example.cn",
        "陈杰",
        "海川物流",
        "采购",
        "",
        "requester",
        {},
        "https://www.zhihu.com/question/1",
    ),
    ("sam.lee@example.com", "Sam Lee", "Brightline", "Analyst", "", "user", {}, ""),
]


def load(echo) -> None:
    now = utcnow()
    added = 0
    # Content's demo white papers load first (order 10): the leads download them.
    assets = db.session.scalars(select(Asset).order_by(Asset.id)).all()
    for index, (email, name, company, title, phone, role, utm, referrer) in enumerate(DEMO_LEADS):
        exists = db.session.scalar(select(Submission.id).join(Lead).where(Lead.email == email).limit(1))
        if exists:
            continue
        data = {
            "email": email,
            "name": name,
            "company": company,
            "job_title": title,
            "phone": phone,
            "role": role,
            "consent": "y" if index % 2 == 0 else "",
            **utm,
        }
        when = now - timedelta(days=index * 3)
        form = "demo" if index == 5 else "whitepaper"
        asset = assets[index % len(assets)] if assets and form == "whitepaper" else None
        capture = capture_lead(
            form,
            data,
            asset=asset,
            request_meta=RequestMeta(
                referrer=referrer, landing_page=f"/library/{asset.slug}" if asset else "/demo-request"
            ),
            now=when,
        )
        if asset is not None and index % 3 != 2:
            record_download(capture.lead, asset, ip=None, now=when + timedelta(minutes=1))
        added += 1
    echo(f"  leads: {added} added ({len(DEMO_LEADS) - added} already there)")
