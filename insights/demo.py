"""Demo activity: six weeks of visitors replayed, in time order, through the services that
record real ones, so that every dashboard figure comes out of the same pipeline as in
production and the tables add up as insights.stages defines them:

- anonymous visits (landings by channel, second pages, forms opened, searches) are stored
  as the page-view writer stores them (tracking.store_views);
- some visitors fill a white paper's form: gated's capture_lead, inside a replayed POST
  that carries the visitor's cookies, so the submission is attributed to the visit and
  the visitor's earlier views join the new lead and are scored; most then download it;
- some leads come back to read more (their views scored as they are stored) or request a
  demo, and the scoring engine (the demo rules, loaded before this) hands to sales those
  that cross the threshold;
- the owner decides each hand-off a few days later (scoring's decide), and some accepted
  leads become customers (gated's change_stage).

Nothing is written into aggregate, stage or hand-off tables directly. Idempotent: the
demo visitors' ids start with "demo" and are replayed once.
"""

import heapq
import itertools
import random
from datetime import datetime, timedelta
from urllib.parse import quote

from flask import current_app
from sqlalchemy import select

from core.extensions import db
from core.timeutil import utcnow
from insights import rollups, tracking
from insights.models import Event

DAYS = 42
CHANNEL_WEIGHTS = {
    "organic_search": 40,
    "direct": 20,
    "paid_search": 15,
    "social": 10,
    "referral": 8,
    "email": 7,
}
# What a visit from each channel brings to a form (utm fields, referrer): gated's
# attribution classifies it into that channel again.
TOUCHES = {
    "organic_search": ({}, "https://www.baidu.com/s?wd=saas+%E7%BB%AD%E8%B4%B9"),
    "direct": ({}, ""),
    "paid_search": ({"utm_source": "baidu", "utm_medium": "cpc", "utm_campaign": "renewal"}, ""),
    "social": ({"utm_source": "wechat", "utm_medium": "social"}, ""),
    "referral": ({}, "https://blog.example.org/saas-tools"),
    "email": ({"utm_source": "newsletter", "utm_medium": "email"}, ""),
}
SEARCHES = ("续费", "客户成功", "pricing", "CRM 集成", "onboarding", "私有化部署")
SURNAMES = "王李张刘陈杨黄赵吴周"
GIVEN_NAMES = ("伟", "芳", "敏", "静", "磊", "洋", "婷", "杰", "军", "丽")
COMPANIES = ("星河软件", "远景制造", "云帆科技", "海川物流", "恒信金融", "博远教育", "启明医疗", "华拓零售")
JOB_TITLES = ("市场总监", "IT 经理", "CTO", "采购", "运营专员", "产品经理", "CEO", "数据分析师")
ROLES = ("decision_maker", "user", "requester", "other")
DEMO_MESSAGES = (
    "我们有 30 人的销售团队，想看看线索评分和移交怎么配置。",
    "下季度准备替换现有的营销工具，希望下周安排一次演示。",
    "请介绍一下私有化部署和数据迁移的方案。",
    "我们主要做华东市场，想了解企业微信的对接。",
)
# Hours before the demo's load at which its last demo requests came in.
FRESH_REQUESTS = (2, 5, 26, 30, 50, 75)
# Why sales return a lead: the desk's preset reason (its words as the Chinese desk shows
# them) and a note.
REJECTIONS = (
    ("no_budget", "没有预算", "明年一季度再联系"),
    ("not_a_fit", "不合适", "学生，无采购计划"),
    ("other", "已有供应商，明年再谈", ""),
    ("wrong_contact", "联系人不对", "请市场找到 IT 负责人"),
)
CONVERSION_CHANCE = 0.2


class Replay:
    """The demo's timeline: actions run in time order, each of which may add later ones
    (a lead's return, a hand-off's decision). Anonymous page views wait in `views` and
    are stored before the next action that concerns a lead, as the page-view writer
    would have stored them by then."""

    def __init__(self, rng: random.Random, now: datetime, paths: list[str], papers: dict, ids: dict):
        self.rng, self.now, self.paths, self.papers, self.ids = rng, now, paths, papers, ids
        # Search clicks draw from their own generator, so the rest of the replay stays as it was.
        self.clicks = random.Random(11)
        self.queue: list = []
        self.order = itertools.count()
        self.views: list[dict] = []
        self.leads = itertools.count(1)
        self.decided: set[int] = set()
        self.accepted = itertools.count()

    def later(self, at: datetime, action, *args) -> None:
        if at < self.now:
            heapq.heappush(self.queue, (at, next(self.order), action, args))

    def run(self) -> None:
        while self.queue:
            at, _order, action, args = heapq.heappop(self.queue)
            action(at, *args)
        self.store_views()

    def store_views(self) -> None:
        if self.views:
            tracking.store_views(self.views)
            self.views = []

    # -- visits ------------------------------------------------------------------------

    def visit(self, at, visitor, channel, pages, lead_id=None) -> datetime:
        """A visit's page views (and the form opened on a white paper's page, a search
        result clicked to reach an article, each page's leave ping); returns when it ended."""
        landing = pages[0]
        for seq, path in enumerate(pages, start=1):
            row = dict(
                visitor_id=visitor, lead_id=lead_id, channel=channel, landing=landing, value="", ref_id=None
            )
            if seq > 1 and path in self.ids and self.clicks.random() < 0.3:
                self.views.append(
                    dict(
                        row,
                        kind="search_click",
                        path=path,
                        ref_id=self.ids[path],
                        visit_seq=0,
                        occurred_at=at,
                    )
                )
            self.views.append(dict(row, kind="page_view", path=path, visit_seq=min(seq, 3), occurred_at=at))
            if path in self.papers:
                self.views.append(
                    dict(row, kind="form_view", path=path, value="whitepaper", visit_seq=0, occurred_at=at)
                )
            seconds = self.rng.randint(20, 240)
            at += timedelta(seconds=seconds)
            self.views.append(
                dict(
                    row,
                    kind="page_time",
                    lead_id=None,
                    path=path,
                    value=str(seconds),
                    visit_seq=0,
                    occurred_at=at,
                )
            )
        if self.rng.random() < 0.15:
            query = self.rng.choice(SEARCHES)
            self.views.append(
                dict(
                    visitor_id=visitor,
                    lead_id=lead_id,
                    channel=channel,
                    landing=landing,
                    kind="search",
                    path="/search",
                    value=query,
                    ref_id=None,
                    visit_seq=0,
                    occurred_at=at,
                )
            )
        return at

    def anonymous_visit(self, at, visitor, channel, pages) -> None:
        ended = self.visit(at, visitor, channel, pages)
        read = [path for path in pages if path in self.papers]
        if read and self.rng.random() < CONVERSION_CHANCE:
            self.later(ended, self.convert, visitor, channel, pages[0], len(pages), read[0])

    # -- leads -------------------------------------------------------------------------

    def submit(self, at, form, visitor, channel, landing, seq, path, person, asset=None):
        """A form POST replayed: the visitor's cookies make the submission theirs."""
        from gated.capture import RequestMeta, capture_lead

        self.store_views()
        utm, referrer = TOUCHES[channel]
        cookies = f"{tracking.VISITOR_COOKIE}={visitor}; {tracking.VISIT_COOKIE}={seq}.{channel}.{quote(landing, safe='/')}"
        with current_app.test_request_context(path, method="POST", headers={"Cookie": cookies}):
            return capture_lead(
                form,
                {**person, **utm},
                asset=asset,
                request_meta=RequestMeta(referrer=referrer, landing_page=landing),
                now=at,
            )

    def person(self) -> dict:
        number = next(self.leads)
        rng = self.rng
        return {
            "email": f"lead{number:03d}@demo-{rng.randint(1, 60)}.example.cn",
            "name": rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES),
            "company": rng.choice(COMPANIES),
            "job_title": rng.choice(JOB_TITLES),
            "role": rng.choice(ROLES),
            "consent": "y" if rng.random() < 0.6 else "",
        }

    def convert(self, at, visitor, channel, landing, seq, path) -> None:
        """A visitor fills a white paper's form, most download it; some come back."""
        from gated.downloads import record_download

        asset = self.papers[path]
        capture = self.submit(at, "whitepaper", visitor, channel, landing, seq, path, self.person(), asset)
        lead_id = capture.lead_id
        if self.rng.random() < 0.8:
            record_download(capture.lead, asset, ip=None, now=at + timedelta(minutes=1))
        self.settle(lead_id)
        for _return in range(self.rng.choice((0, 1, 1, 2, 3))):
            self.later(
                at + timedelta(days=self.rng.randint(1, 10), hours=self.rng.randint(0, 8)),
                self.come_back,
                lead_id,
                visitor,
            )
        if self.rng.random() < 0.3:
            self.later(at + timedelta(days=self.rng.randint(1, 12)), self.request_demo, lead_id, visitor)

    def come_back(self, at, lead_id, visitor) -> None:
        pages = self.rng.sample(self.paths, k=min(len(self.paths), self.rng.randint(2, 6)))
        channel = self.rng.choice(("direct", "email", "organic_search"))
        self.visit(at, visitor, channel, pages, lead_id=lead_id)
        self.store_views()
        self.settle(lead_id)

    def request_demo(self, at, lead_id, visitor) -> None:
        from gated.models import Lead

        lead = db.session.get(Lead, lead_id)
        if lead is None or lead.stage not in ("new", "engaged"):
            return
        person = {
            "email": lead.email,
            "name": lead.name,
            "company": lead.company,
            "job_title": lead.job_title,
            "message": DEMO_MESSAGES[
                lead_id % len(DEMO_MESSAGES)
            ],  # not from rng: the replay stays as it was
        }
        self.visit(at, visitor, "direct", ["/demo-request"], lead_id=lead_id)
        self.submit(at, "demo", visitor, "direct", "/demo-request", 1, "/demo-request", person)
        self.settle(lead_id)

    # -- sales -------------------------------------------------------------------------

    def settle(self, lead_id: int) -> None:
        """A hand-off the engine made for the lead is decided within two days: those of
        the last two days are still on the desk when the demo is loaded."""
        from insights.scoring.models import Handoff

        for handoff_id, made in db.session.execute(
            select(Handoff.id, Handoff.created_at).where(
                Handoff.lead_id == lead_id, Handoff.outcome == "pending"
            )
        ):
            if handoff_id not in self.decided:
                self.decided.add(handoff_id)
                self.later(
                    made + timedelta(hours=self.rng.randint(1, 48), minutes=self.rng.randint(0, 59)),
                    self.decide,
                    handoff_id,
                )

    def decide(self, at, handoff_id) -> None:
        from accounts.models import User
        from insights.scoring.handoff import decide
        from insights.scoring.models import Handoff

        handoff = db.session.get(Handoff, handoff_id)
        owner = db.session.get(User, handoff.owner_id) if handoff and handoff.owner_id else None
        if owner is None:
            return
        if self.rng.random() < 0.6:
            decide(handoff_id, "accepted", "", user=owner, now=at)
            if next(self.accepted) % 2 == 0:  # every other accepted lead signs, the first included
                self.later(at + timedelta(days=self.rng.randint(3, 10)), self.win, handoff.lead_id)
        else:
            code, words, note = self.rng.choice(REJECTIONS)
            decide(handoff_id, "rejected", words, user=owner, now=at, reason_code=code, note=note)

    def win(self, at, lead_id) -> None:
        from gated.stages import change_stage

        change_stage(lead_id, "customer", now=at)


def _fresh_demo_requests(replay: Replay) -> None:
    """Demo requests of the last days, after the replay (so nobody decides them): the
    leads closest to the threshold ask, and those it hands off wait on the sales desk,
    some within their promise and some past it."""
    from gated.models import Lead

    leads = db.session.execute(
        select(Lead.id, select(Event.visitor_id).where(Event.lead_id == Lead.id).limit(1).scalar_subquery())
        .where(Lead.stage.in_(("new", "engaged")), Lead.score >= 10)
        .order_by(Lead.score.desc(), Lead.id)
        .limit(len(FRESH_REQUESTS))
    ).all()
    for hours_ago, (lead_id, visitor) in zip(FRESH_REQUESTS, leads, strict=False):
        if visitor:
            replay.request_demo(replay.now - timedelta(hours=hours_ago), lead_id, visitor)
    replay.store_views()


def _papers() -> dict:
    """The white papers' pages and their files."""
    from content.models import Article
    from gated.assets import asset_for_article

    papers = {}
    for article in db.session.scalars(
        select(Article).where(Article.kind == "whitepaper", Article.status == "published")
    ):
        asset = asset_for_article(article.id)
        if asset is not None:
            papers[article.url_path] = asset
    return papers


def _article_ids() -> dict:
    """Each article's page and id (what a search click names)."""
    from content.models import KIND_PREFIX, Article

    rows = db.session.execute(select(Article.id, Article.kind, Article.slug))
    return {f"/{KIND_PREFIX.get(kind, kind)}/{slug}": id_ for id_, kind, slug in rows}


def _schedule(replay: Replay) -> None:
    """Each day's anonymous visits, more each week; the rest follows from them."""
    rng, now, paths = replay.rng, replay.now, replay.paths
    channels, weights = list(CHANNEL_WEIGHTS), list(CHANNEL_WEIGHTS.values())
    for day in range(DAYS, 0, -1):
        for number in range(rng.randint(25, 45) + (DAYS - day) // 2):
            visitor = f"demo{day:03d}{number:04d}".ljust(32, "0")
            at = (now - timedelta(days=day)).replace(hour=rng.randint(0, 23), minute=rng.randint(0, 59))
            landing = rng.choice(paths)
            pages = [landing] + rng.sample(paths, k=min(len(paths), rng.choice((0, 0, 1, 2, 3))))
            replay.later(at, replay.anonymous_visit, visitor, rng.choices(channels, weights)[0], pages)


def load(echo) -> None:
    from insights.scoring.desk import escalate

    if db.session.scalar(select(Event.id).where(Event.visitor_id.like("demo%")).limit(1)):
        return
    paths = sorted(_article_ids())
    papers = _papers()
    if not paths or not papers:
        return
    now = utcnow()
    replay = Replay(random.Random(9), now, paths, papers, _article_ids())
    _schedule(replay)
    replay.run()
    _fresh_demo_requests(replay)
    escalate(now=now)  # the hand-offs left waiting past their promise: the marketer's home shows them
    days = rollups.rollup(now=now)
    echo(
        f"insights: six weeks of visits replayed, {next(replay.leads) - 1} demo leads, {days} days rolled up"
    )
