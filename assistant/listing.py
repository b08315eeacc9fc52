"""The assistant's admin lists, tickets and customer accounts, as the shared list pieces
want them (core.listing, templates/_lists.html): filters read from the query string into
a small dataclass that gives them back for links, a query, and the sortable columns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Select, or_, select

from assistant.models import TICKET_ROUTES, TICKET_STATUSES, CustomerAccount, Ticket
from core.ids import parse_id
from core.listing import ListFilters, Sort, search_text

PAGE_SIZE = 50
TICKET_SORTS = [
    Sort("created", Ticket.created_at),
    Sort("created_asc", Ticket.created_at, descending=False),
    Sort("updated", Ticket.updated_at),
    Sort("updated_asc", Ticket.updated_at, descending=False),
]
ACCOUNT_SORTS = [
    Sort("company", CustomerAccount.company, descending=False),
    Sort("company_desc", CustomerAccount.company),
    Sort("created", CustomerAccount.created_at),
    Sort("created_asc", CustomerAccount.created_at, descending=False),
]


def _like(column, text: str):
    return column.contains(text, autoescape=True)


@dataclass
class TicketFilters(ListFilters):
    """Open tickets unless ?status= says another (or "all")."""

    q: str = ""
    status: str = "open"
    route: str = ""
    owner: int | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> TicketFilters:
        status = args.get("status", "open")
        return cls(
            q=search_text(args),
            status=status if status in TICKET_STATUSES else "",
            route=args.get("route", "") if args.get("route") in TICKET_ROUTES else "",
            owner=parse_id(args.get("owner")),
        )

    def as_args(self) -> dict:
        """The filters for links; "all" when no status is chosen (no ?status= means open)."""
        args = super().as_args()
        return args if self.status else {**args, "status": "all"}

    @property
    def narrowed(self) -> bool:
        return bool(self.q or self.route or self.owner or self.status != "open")

    def query(self) -> Select:
        query = select(Ticket)
        if self.q:
            query = query.where(
                or_(_like(Ticket.subject, self.q), _like(Ticket.email, self.q), _like(Ticket.name, self.q))
            )
        if self.status:
            query = query.where(Ticket.status == self.status)
        if self.route:
            query = query.where(Ticket.route == self.route)
        if self.owner:
            query = query.where(Ticket.owner_id == self.owner)
        return query


@dataclass
class AccountFilters(ListFilters):
    q: str = ""
    tier: int | None = None
    owner: int | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> AccountFilters:
        return cls(q=search_text(args), tier=parse_id(args.get("tier")), owner=parse_id(args.get("owner")))

    def query(self) -> Select:
        query = select(CustomerAccount)
        if self.q:
            query = query.where(
                or_(_like(CustomerAccount.company, self.q), _like(CustomerAccount.domains, self.q))
            )
        if self.tier:
            query = query.where(CustomerAccount.tier_id == self.tier)
        if self.owner:
            query = query.where(CustomerAccount.owner_id == self.owner)
        return query
