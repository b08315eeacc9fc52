"""Standards per kind: the Markdown template a new article starts from, the parts it
must have before it is published, the reviewer's checklist, the review interval and the
owning team.

Every `##` heading of a kind's template is a required part: an article of that kind is
published only when it has each of them as a heading (any level, same words), every
required front-matter field filled in and every checklist item ticked by the reviewer.
The migration stores DEFAULTS below for every kind; admins change them at
/admin/content/standards/.

A change that would make published articles fall short (a new heading or field they lack)
is refused with the articles it would break: the standard describes what is live.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from content.documents import Problem
from content.models import KINDS, Article
from core.extensions import db
from core.timeutil import utcnow

# The front-matter fields a kind may require, with the words the editor shows them by.
REQUIRABLE = {
    "summary": _l("Summary"),
    "category": _l("Category"),
    "tags": _l("Tags"),
    "seo_title": _l("SEO title"),
    "seo_description": _l("SEO description"),
    "sequence_slug": _l("Nurture sequence (slug)"),
}
# The editor form's field for each attribute, where a problem is shown.
FORM_FIELD = {"sequence_slug": "sequence"}
MONTHS_MIN, MONTHS_MAX = 1, 60
CHECKLIST_MAX = 20
SHOWN_BROKEN = 5
DEFAULT_MONTHS = {"help": 6}
HEADING = re.compile(r"^#{2,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Default:
    team: str
    template: str
    required: tuple[str, ...]
    checklist: tuple[str, ...]
    months: int


DEFAULTS = {
    "help": Default(
        "客服",
        "## 操作步骤\n\n1. \n2. \n\n## 截图\n\n",
        ("summary", "category"),
        ("已按当前版本把步骤实际操作一遍", "截图与当前界面一致"),
        6,
    ),
    "whitepaper": Default("市场", "", ("summary",), ("数据与引用已注明来源", "下载文件为最新版本"), 12),
    "case-study": Default(
        "客户成功",
        "## 客户背景\n\n## 挑战\n\n## 方案\n\n## 成效\n\n",
        ("summary",),
        ("客户已同意公开", "数据已与客户确认"),
        12,
    ),
    "solution": Default(
        "售前", "## 行业挑战\n\n## 解决方案\n\n## 客户价值\n\n", ("summary",), ("与当前产品能力一致",), 12
    ),
    "blog": Default("市场", "", ("summary",), ("标题与摘要准确，不夸大",), 12),
    "video": Default(
        "市场",
        "## 视频简介\n\n## 您将学到\n\n",
        ("summary",),
        ("字幕与章节已按成片核对", "视频中的界面与当前版本一致"),
        12,
    ),
}


class KindStandard(db.Model):
    """An admin's standard for one kind (a kind without a row uses DEFAULTS)."""

    __tablename__ = "kind_standards"

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    template_md: Mapped[str] = mapped_column(Text, default="")
    required_fields: Mapped[list] = mapped_column(JSON, default=list)
    checklist: Mapped[list] = mapped_column(JSON, default=list)
    review_months: Mapped[int] = mapped_column(default=12)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


@dataclass(frozen=True)
class Standard:
    kind: str
    team_id: int | None
    template: str
    required_fields: tuple[str, ...]
    checklist: tuple[str, ...]
    review_months: int
    headings: tuple[str, ...] = field(default=())


class StandardError(Exception):
    """A standard change refused; `problems` maps form fields to messages."""

    def __init__(self, problems: dict):
        super().__init__("; ".join(str(message) for message in problems.values()))
        self.problems = problems


def template_headings(template: str) -> tuple[str, ...]:
    return tuple(match.group(1).strip() for match in HEADING.finditer(template or ""))


def _make(kind, team_id, template, required, checklist, months) -> Standard:
    return Standard(
        kind, team_id, template, tuple(required), tuple(checklist), months, template_headings(template)
    )


def standard_for(kind: str) -> Standard:
    """The kind's stored standard; a kind without one requires nothing (a schema built
    without the migrations, which store DEFAULTS) and is reviewed every DEFAULT_MONTHS."""
    row = db.session.get(KindStandard, kind)
    if row is not None:
        return _make(
            kind, row.team_id, row.template_md, row.required_fields, row.checklist, row.review_months
        )
    return _make(kind, None, "", (), (), DEFAULT_MONTHS.get(kind, 12))


def install_default_standards(*, now: datetime) -> int:
    """Store DEFAULTS for the kinds that have no standard yet, each owned by its default
    team where that team exists (what the migration does on a new site). Returns how
    many were stored."""
    from content.teams import Team

    teams = dict(db.session.execute(select(Team.name, Team.id)).all())
    made = 0
    for kind, default in DEFAULTS.items():
        if db.session.get(KindStandard, kind) is None:
            db.session.add(
                KindStandard(
                    kind=kind,
                    team_id=teams.get(default.team),
                    template_md=default.template,
                    required_fields=list(default.required),
                    checklist=list(default.checklist),
                    review_months=default.months,
                    updated_at=now,
                )
            )
            made += 1
    db.session.commit()
    return made


def all_standards() -> dict[str, Standard]:
    return {kind: standard_for(kind) for kind in KINDS}


def checklist_kinds() -> dict[str, list[str]]:
    """Every checklist item of every kind's standard, each with the kinds that list it (a
    new article's form shows the items of the kind chosen)."""
    kinds: dict[str, list[str]] = {}
    for kind, standard in all_standards().items():
        for item in standard.checklist:
            kinds.setdefault(item, []).append(kind)
    return kinds


def missing_parts(standard: Standard, values: dict, headings: list) -> list[Problem]:
    """What keeps an article with these attribute `values` and rendered `headings` from
    being published, each with the editor field it belongs to."""
    problems = []
    for name in standard.required_fields:
        value = values.get(name)
        if not value or (isinstance(value, str) and not value.strip()):
            label = REQUIRABLE.get(name, name)
            problems.append(
                Problem(
                    _l("Required before publishing: %(field)s.", field=label),
                    None,
                    FORM_FIELD.get(name, name),
                )
            )
    present = {str(heading.get("title", "")).strip() for heading in headings or []}
    absent = [heading for heading in standard.headings if heading not in present]
    if absent:
        problems.append(
            Problem(
                _l(
                    "The body needs the heading(s) of its template: %(headings)s.", headings="、".join(absent)
                ),
                None,
                "body",
            )
        )
    return problems


def still_needed(article) -> list[str]:
    """What a saved, unpublished article still needs before it may be published, in
    words (the editor shows it on every save, not first when publishing is refused)."""
    standard = standard_for(article.kind)
    needs = [str(problem.message) for problem in missing_parts(standard, _values(article), article.headings)]
    left = unticked(standard, article.checklist)
    if left:
        needs.append(str(_l("The reviewer's checklist: %(items)s.", items="、".join(left))))
    return needs


def unticked(standard: Standard, ticked) -> list[str]:
    return [item for item in standard.checklist if item not in set(ticked or ())]


def _values(article: Article) -> dict:
    return {name: getattr(article, name) for name in REQUIRABLE}


def save_standard(
    kind: str,
    *,
    team_id: int | None,
    template: str,
    required_fields: list[str],
    checklist_text: str,
    review_months,
    now: datetime,
) -> Standard:
    """Store a kind's standard. Refuses (StandardError, nothing saved) an unknown field,
    an interval outside 1–60 months, a template past the Markdown bounds, and a change
    that would leave published articles short of a part they have today."""
    from content.bounds import TooComplex
    from content.services import render_body
    from content.teams import Team

    problems = {}
    if kind not in KINDS:
        raise StandardError({"kind": _l("Unknown kind.")})
    try:
        months = int(review_months)
    except (TypeError, ValueError):
        months = 0
    if not MONTHS_MIN <= months <= MONTHS_MAX:
        problems["review_months"] = _l(
            "A whole number of months from %(a)d to %(b)d.", a=MONTHS_MIN, b=MONTHS_MAX
        )
    unknown = [name for name in required_fields if name not in REQUIRABLE]
    if unknown:
        problems["required_fields"] = _l("Choose among the fields listed.")
    if team_id is not None and db.session.get(Team, team_id) is None:
        problems["team"] = _l("Choose one of the teams.")
    items = [line.strip() for line in (checklist_text or "").splitlines() if line.strip()]
    if len(items) > CHECKLIST_MAX or any(len(item) > 200 for item in items):
        problems["checklist"] = _l("At most %(n)d items of 200 characters each.", n=CHECKLIST_MAX)
    template = (template or "").replace("\r\n", "\n")
    try:
        render_body(template)
    except TooComplex as exc:
        problems["template"] = exc.message
    if problems:
        raise StandardError(problems)
    old = standard_for(kind)
    new = _make(kind, team_id, template, required_fields, items, months)
    broken = [
        article.title
        for article in db.session.scalars(
            select(Article).where(Article.kind == kind, Article.status == "published").order_by(Article.title)
        )
        if not missing_parts(old, _values(article), article.headings)
        and missing_parts(new, _values(article), article.headings)
    ]
    if broken:
        raise StandardError(
            {
                "template": _l(
                    "This change would break %(n)d published article(s) that meet today's standard: "
                    "%(titles)s. Add the new parts to them first, or leave the template as it is.",
                    n=len(broken),
                    titles="、".join(broken[:SHOWN_BROKEN]) + ("…" if len(broken) > SHOWN_BROKEN else ""),
                )
            }
        )
    row = db.session.get(KindStandard, kind) or KindStandard(kind=kind)
    row.team_id, row.template_md, row.required_fields = team_id, template, list(required_fields)
    row.checklist, row.review_months, row.updated_at = items, months, now
    db.session.add(row)
    db.session.commit()
    return new
