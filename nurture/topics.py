"""Topics: who receives a topic's mail, and a person keeping or leaving topics.

The rule, in one SQL condition (`receives`) so that sending and counting never loop over
leads in Python:
- a lead who chose a topic (the preference page, a form's checkbox) receives it;
- a lead who left it does not;
- any other lead receives it when they agreed to marketing mail and the topic is not
  opt-in only.
Suppressions (an address that left all mail, bounced, complained) hold on top of this,
where they always have: at the worker.

Leaving a topic ends the lead's enrollments in the sequences of that topic (reason
`topic_left`), so the lead page and the sequence's figures say so; the worker still skips
a mail of a left topic that was queued before.
"""

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from sqlalchemy import ColumnElement, and_, exists, not_, or_, select
from sqlalchemy.orm import aliased

from core.extensions import db
from core.schema import upsert_insert
from gated.models import Lead
from nurture.exits import exit_where
from nurture.models import Enrollment, Message, Sequence, Topic, TopicChoice

# Where a choice was made (stored with it, shown to staff).
SOURCES = ("preferences", "one_click", "form", "import", "admin")
# The wording of the preference page, versioned like the form's consent text.
PREFERENCES_VERSION = "2026-12-05"


def preferences_text() -> str:
    return str(_l("Choose which mail you receive from us. You can change this at any time."))


def receives(lead_id, topic_id) -> ColumnElement[bool]:
    """The SQL condition "lead `lead_id` receives topic `topic_id`" (columns or values)."""
    # Aliases: `lead_id` or `topic_id` may be the outer query's own Lead.id (a campaign's
    # audience) or Topic.id (the preference page), which the subqueries must not shadow.
    choice, topic, person = aliased(TopicChoice), aliased(Topic), aliased(Lead)

    def chose(subscribed: bool):
        return exists().where(
            choice.lead_id == lead_id, choice.topic_id == topic_id, choice.subscribed.is_(subscribed)
        )

    consenting = exists().where(person.id == lead_id, person.marketing_consent.is_(True))
    open_topic = exists().where(topic.id == topic_id, topic.opt_in_only.is_(False))
    return or_(chose(True), and_(consenting, open_topic, not_(chose(False))))


def leads_receiving(topic_id: int) -> ColumnElement[bool]:
    """The condition on Lead for a campaign's audience: the leads who receive `topic_id`."""
    return receives(Lead.id, topic_id)


def unwanted(message_ids: list[int]) -> set[int]:
    """Of these messages, the marketing mails whose recipient does not receive their topic
    now: one query for a whole batch, at the moment of sending."""
    if not message_ids:
        return set()
    query = select(Message.id).where(
        Message.id.in_(message_ids),
        Message.topic_id.is_not(None),
        Message.lead_id.is_not(None),
        not_(receives(Message.lead_id, Message.topic_id)),
    )
    return set(db.session.scalars(query))


DEFAULT_SEQUENCE_TOPIC = "follow-up"


def default_topic_id() -> int | None:
    """The topic of a sequence that names none: `follow-up` (the mails after a download or
    a request, which leaving the newsletter does not stop), else the first topic."""
    topics = db.session.execute(select(Topic.id, Topic.slug).order_by(Topic.id)).all()
    return next(
        (id_ for id_, slug in topics if slug == DEFAULT_SEQUENCE_TOPIC), topics[0][0] if topics else None
    )


def all_topics() -> list[Topic]:
    return list(db.session.scalars(select(Topic).order_by(Topic.id)))


def by_slug(slug: str) -> Topic | None:
    return db.session.scalar(select(Topic).where(Topic.slug == slug))


@dataclass(frozen=True)
class Preference:
    """One topic as the preference page shows it to one lead."""

    topic: Topic
    receiving: bool


def choices_of(lead_id: int) -> dict[int, TopicChoice]:
    """The lead's recorded choices by topic id (for staff: where and when each was made)."""
    return {
        choice.topic_id: choice
        for choice in db.session.scalars(select(TopicChoice).where(TopicChoice.lead_id == lead_id))
    }


def preferences(lead_id: int) -> list[Preference]:
    """Every topic and whether the lead receives it now (by the same rule as sending)."""
    rows = db.session.execute(
        select(Topic, receives(lead_id, Topic.id).label("receiving")).order_by(Topic.id)
    ).all()
    return [Preference(topic, bool(receiving)) for topic, receiving in rows]


@dataclass(frozen=True)
class Decision:
    """Where and how a choice was made (stored with each topic's choice)."""

    source: str
    now: datetime
    ip: str | None = None
    version: str = PREFERENCES_VERSION
    text: str = ""


def choose(lead_id: int, kept: dict[int, bool], decision: Decision) -> int:
    """Record the lead's choice of each topic in `kept` ({topic id: keeps it}) in one
    upsert, and end the lead's enrollments in the sequences of the topics left; not
    committed. How many enrollments ended."""
    if not kept:
        return 0
    rows = [
        {
            "lead_id": lead_id,
            "topic_id": topic_id,
            "subscribed": keeps,
            "source": decision.source,
            "version": decision.version,
            "text": decision.text,
            "ip": decision.ip,
            "changed_at": decision.now,
        }
        for topic_id, keeps in kept.items()
    ]
    statement = upsert_insert(db.engine, TopicChoice.__table__)
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["lead_id", "topic_id"],
            set_={
                name: getattr(statement.excluded, name)
                for name in ("subscribed", "source", "version", "text", "ip", "changed_at")
            },
        ),
        rows,
    )
    left = [topic_id for topic_id, keeps in kept.items() if not keeps]
    if not left:
        return 0
    in_left_topics = select(Sequence.id).where(Sequence.topic_id.in_(left))
    return exit_where(
        (Enrollment.lead_id == lead_id) & Enrollment.sequence_id.in_(in_left_topics),
        "topic_left",
        decision.now,
    )


def leave(lead_id: int, topic_id: int, decision: Decision) -> int:
    """The lead leaves one topic (one-click unsubscribe of a mail of it), and the
    sequences of it; not committed. How many enrollments ended."""
    return choose(lead_id, {topic_id: False}, decision)


def receiving(lead_id: int, topic_id: int) -> bool:
    return bool(db.session.scalar(select(receives(lead_id, topic_id))))


# The topics the migrations create, with the Chinese words they were given: a reader of
# another language reads them in theirs until the team renames or rewrites them (what a
# team typed shows as typed).
BUILT_IN_TOPICS = {
    "newsletter": ("新闻简报", _lp("mail topic", "Newsletter"), "", ""),
    "events": ("活动与直播", _lp("mail topic", "Events and live streams"), "", ""),
    "product-news": ("产品动态", _lp("mail topic", "Product news"), "", ""),
    "follow-up": (
        "资料跟进",
        _lp("mail topic", "Follow-up on what you asked for"),
        "您下载资料或提出咨询后，我们发送的后续邮件",
        _lp("mail topic", "The mails we send after you download something or ask us a question"),
    ),
}


def topic_name(topic: Topic) -> str:
    """A topic's name for a reader: a built-in one in the page's language."""
    built_in = BUILT_IN_TOPICS.get(topic.slug)
    return str(built_in[1]) if built_in and topic.name == built_in[0] else topic.name


def topic_description(topic: Topic) -> str:
    built_in = BUILT_IN_TOPICS.get(topic.slug)
    if built_in and built_in[2] and topic.description == built_in[2]:
        return str(built_in[3])
    return topic.description
