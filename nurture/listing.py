"""The nurture admin's lists, sequences and the message log, as the shared list pieces
want them (core.listing, templates/_lists.html): filters read from the query string into
a small dataclass that gives them back for links, a query, and the sortable columns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Select, func, or_, select

from core.extensions import db
from core.ids import parse_id
from core.listing import ListFilters, Sort, search_text
from nurture.models import MESSAGE_KINDS, MESSAGE_STATUSES, SEQUENCE_STATUSES, Enrollment, Message, Sequence

PAGE_SIZE = 50
SEQUENCE_SORTS = [
    Sort("name", Sequence.name, descending=False),
    Sort("name_desc", Sequence.name),
    Sort("updated", Sequence.updated_at),
    Sort("updated_asc", Sequence.updated_at, descending=False),
]
MESSAGE_SORTS = [
    Sort("created", Message.created_at),
    Sort("created_asc", Message.created_at, descending=False),
    Sort("to", Message.to_address, descending=False),
    Sort("to_desc", Message.to_address),
    Sort("opens", Message.open_count),
    Sort("opens_asc", Message.open_count, descending=False),
]


def _chosen(value: str | None, allowed: tuple[str, ...]) -> str:
    return value if value in allowed else ""


@dataclass
class SequenceFilters(ListFilters):
    q: str = ""
    status: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> SequenceFilters:
        return cls(q=search_text(args), status=_chosen(args.get("status"), SEQUENCE_STATUSES))

    def query(self) -> Select:
        query = select(Sequence)
        if self.q:
            query = query.where(
                or_(
                    Sequence.name.icontains(self.q, autoescape=True),
                    Sequence.slug.icontains(self.q, autoescape=True),
                )
            )
        if self.status:
            query = query.where(Sequence.status == self.status)
        return query


@dataclass
class MessageFilters(ListFilters):
    q: str = ""
    status: str = ""
    kind: str = ""
    sequence: int | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> MessageFilters:
        return cls(
            q=search_text(args),
            status=_chosen(args.get("status"), MESSAGE_STATUSES),
            kind=_chosen(args.get("kind"), MESSAGE_KINDS),
            sequence=parse_id(args.get("sequence")),
        )

    def query(self) -> Select:
        query = select(Message)
        if self.q:
            query = query.where(
                or_(
                    Message.to_address.icontains(self.q, autoescape=True),
                    Message.subject.icontains(self.q, autoescape=True),
                )
            )
        if self.status:
            query = query.where(Message.status == self.status)
        if self.kind:
            query = query.where(Message.kind == self.kind)
        if self.sequence:
            query = query.where(Message.sequence_id == self.sequence)
        return query


def sequence_figures(sequence_ids: list[int]) -> dict[int, dict[str, int]]:
    """Active enrollments and mails sent of the sequences on a page, in two queries."""
    if not sequence_ids:
        return {}
    active = dict(
        db.session.execute(
            select(Enrollment.sequence_id, func.count())
            .where(Enrollment.status == "active", Enrollment.sequence_id.in_(sequence_ids))
            .group_by(Enrollment.sequence_id)
        ).all()
    )
    sent = dict(
        db.session.execute(
            select(Message.sequence_id, func.count())
            .where(Message.status == "sent", Message.sequence_id.in_(sequence_ids))
            .group_by(Message.sequence_id)
        ).all()
    )
    return {key: {"active": active.get(key, 0), "sent": sent.get(key, 0)} for key in sequence_ids}
