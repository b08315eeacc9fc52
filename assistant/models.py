"""The help assistant's records: support tiers and customer accounts (who a visitor is),
conversations and their rounds (what was asked and offered, and the answer), tickets
(every hand-over to a person: owner mail, ticket form or lead).

A conversation keeps copies of the articles it offered (id, title, url, passage), so the
history reads the same after an article is renamed or removed.
"""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.timeutil import utcnow

ROUTES = ("owner", "ticket")
# Where a conversation ended: solved by the articles, handed to a person, or neither yet.
STATUSES = ("open", "solved", "escalating", "escalated")
TICKET_STATUSES = ("open", "answered", "closed")
# How a ticket reached a person: the account owner's (or queue's) inbox, the ticket form,
# or an anonymous visitor's email (a lead).
TICKET_ROUTES = ("owner", "ticket", "lead")
ANSWERS = ("solved", "not_yet")


class Tier(db.Model):
    """One of five support levels (1 is the top); staff rename them and choose the route."""

    __tablename__ = "assistant_tiers"

    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[int] = mapped_column(unique=True)
    name: Mapped[str] = mapped_column(String(80))
    route: Mapped[str] = mapped_column(String(20), default="ticket")


class CustomerAccount(db.Model):
    """A customer company: its email domains and known contacts, its tier, its owner."""

    __tablename__ = "assistant_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    company: Mapped[str] = mapped_column(String(200))
    # Space- or comma-separated lists, lower case (small: a company has a few of each).
    domains: Mapped[str] = mapped_column(String(500), default="")
    contacts: Mapped[str] = mapped_column(Text, default="")
    tier_id: Mapped[int] = mapped_column(ForeignKey("assistant_tiers.id"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    tier: Mapped[Tier] = relationship()
    owner = relationship("User")

    @property
    def domain_list(self) -> list[str]:
        return split_list(self.domains)

    @property
    def contact_list(self) -> list[str]:
        return split_list(self.contacts)


def split_list(text: str) -> list[str]:
    return [part for part in (text or "").replace(",", " ").lower().split() if part]


class Conversation(db.Model):
    """One visitor's question and the rounds of answers it took."""

    __tablename__ = "assistant_conversations"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    locale: Mapped[str] = mapped_column(String(10), default="zh_CN")
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("assistant_accounts.id", ondelete="SET NULL"), index=True
    )
    tier_id: Mapped[int | None] = mapped_column(ForeignKey("assistant_tiers.id", ondelete="SET NULL"))
    email: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]

    account: Mapped[CustomerAccount | None] = relationship()
    tier: Mapped[Tier | None] = relationship()
    rounds: Mapped[list["Round"]] = relationship(
        back_populates="conversation",
        order_by="Round.number",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    ticket: Mapped["Ticket | None"] = relationship(back_populates="conversation", uselist=False)

    @property
    def question(self) -> str:
        return self.rounds[0].question if self.rounds else ""

    @property
    def shown_ids(self) -> list[int]:
        return [item["id"] for round_ in self.rounds for item in round_.offered]


class Round(db.Model):
    """A question (the first, or a rephrasing), the articles offered, the visitor's answer."""

    __tablename__ = "assistant_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("assistant_conversations.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int]
    question: Mapped[str] = mapped_column(Text)
    offered: Mapped[list] = mapped_column(JSON, default=list)
    answer: Mapped[str] = mapped_column(String(20), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    conversation: Mapped[Conversation] = relationship(back_populates="rounds")


class Ticket(db.Model):
    """A hand-over to a person, with its conversation, status and staff owner."""

    __tablename__ = "assistant_tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("assistant_conversations.id", ondelete="SET NULL"), unique=True
    )
    account_id: Mapped[int | None] = mapped_column(ForeignKey("assistant_accounts.id", ondelete="SET NULL"))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id", ondelete="SET NULL"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    route: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    # How to reach the person: an email address, a mobile number (E.164), or both; a
    # visitor who left only a number has "" as email (assistant.contact).
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str] = mapped_column(String(40), default="", server_default="")
    name: Mapped[str] = mapped_column(String(120), default="")
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    conversation: Mapped[Conversation | None] = relationship(back_populates="ticket")
    account: Mapped[CustomerAccount | None] = relationship()
    owner = relationship("User")
