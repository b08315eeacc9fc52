"""The preference center behind every mail's unsubscribe link (/u/<token>): the person
keeps some topics and leaves others, or leaves all marketing mail; and the RFC 8058
one-click unsubscribe, which leaves the topic of the mail it came from.

Leaving all mail is the unsubscribe it always was (a suppression: nothing but what the
person asks for again reaches them). Leaving topics is not a suppression: the person
still gets the other topics, the sequences of the topics they kept, and every
transactional mail (a download link they ask for).
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from core.extensions import db
from nurture import suppression, topics
from nurture.models import Message, Suppression, email_hash


@dataclass(frozen=True)
class Page:
    """What the preference page shows for one mail's link."""

    message: Message
    choices: list[topics.Preference]


def page(message_id: int) -> Page | None:
    """The page of a mail's link; None when the mail has no lead or no topic exists (the
    plain "unsubscribe from everything" page then). Raises suppression.UnknownMessage."""
    message = suppression.message_for_token(message_id)
    if message.lead_id is None:
        return None
    choices = topics.preferences(message.lead_id)
    return Page(message, choices) if choices else None


def one_click(message_id: int, *, now: datetime) -> str:
    """A mail provider's one-click unsubscribe: the mail's topic is left; a mail without
    one (transactional) leaves all marketing mail, as before topics. Commits; the address."""
    message = suppression.message_for_token(message_id)
    if message.topic_id is None or message.lead_id is None:
        return suppression.unsubscribe(message_id, now=now)
    topics.leave(message.lead_id, message.topic_id, topics.Decision(source="one_click", now=now))
    if message.unsubscribed_at is None:
        message.unsubscribed_at = now
    db.session.commit()
    return message.to_address


def save(message_id: int, kept: set[int], *, now: datetime, ip: str | None) -> list[topics.Preference] | None:
    """The person's choice on the page: every topic in `kept` (ids) kept, every other
    left, each recorded with the page's wording and version. Keeping any topic lifts an
    earlier "unsubscribe from everything" of this address (never a bounce or a
    complaint). Commits; the topics as they now stand. A mail with no lead behind it
    (one to an address that is no lead) has no topics to keep: its recipient leaves all
    marketing mail, and None is returned."""
    message = suppression.message_for_token(message_id)
    if message.lead_id is None:
        suppression.unsubscribe(message_id, now=now)
        return None
    known = {choice.topic.id for choice in topics.preferences(message.lead_id)}
    decision = topics.Decision(source="preferences", now=now, ip=ip, text=topics.preferences_text())
    topics.choose(message.lead_id, {topic_id: topic_id in kept for topic_id in known}, decision)
    if message.topic_id is not None and message.topic_id not in kept and message.unsubscribed_at is None:
        message.unsubscribed_at = now
    if kept & known:
        db.session.execute(
            delete(Suppression).where(
                Suppression.email_hash == email_hash(message.to_address), Suppression.reason == "unsubscribed"
            )
        )
    db.session.commit()
    return topics.preferences(message.lead_id)


def suppressed(address: str) -> bool:
    return (
        db.session.scalar(select(Suppression.id).where(Suppression.email_hash == email_hash(address)))
        is not None
    )
