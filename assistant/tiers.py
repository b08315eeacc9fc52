"""Who a visitor is: support tiers, customer accounts, and matching a visitor to an
account by a signed login link, an email they give, or their company's domain.

Free-mail domains (gmail.com, qq.com, 163.com, …) never match by domain: thousands of
unrelated people share them.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from sqlalchemy import select

from accounts.models import User
from assistant.models import ROUTES, CustomerAccount, Tier, split_list
from core.extensions import db
from core.ids import parse_id, token_id
from core.tokens import InvalidToken, sign, unsign

ACCOUNT_PURPOSE = "assistant-account"
# The roles that work tickets (admins always): the admin's guard, and the only people a
# ticket or an account may be given to (an editor given one could not open it).
SUPPORT_ROLES = ("sales",)
# Level, name, route: the two top tiers go to a person, the others to the ticket form.
DEFAULT_TIERS = (
    (1, "Strategic", "owner"),
    (2, "Enterprise", "owner"),
    (3, "Business", "ticket"),
    (4, "Team", "ticket"),
    (5, "Starter", "ticket"),
)
# The default tiers' names in the reader's words; a name a team typed shows as typed.
DEFAULT_TIER_NAMES = {
    "Strategic": _lp("support tier", "Strategic"),
    "Enterprise": _lp("support tier", "Enterprise"),
    "Business": _lp("support tier", "Business"),
    "Team": _lp("support tier", "Team"),
    "Starter": _lp("support tier", "Starter"),
}
FREE_MAIL_DOMAINS = (
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "yahoo.com",
    "icloud.com", "me.com", "aol.com", "proton.me", "protonmail.com", "qq.com", "foxmail.com",
    "163.com", "126.com", "yeah.net", "sina.com", "sina.cn", "sohu.com", "aliyun.com",
    "139.com", "189.cn", "yandex.ru", "mail.ru",
)  # fmt: skip


class AccountError(Exception):
    """Account data to correct; `errors` maps a field to its message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def ensure_tiers() -> list[Tier]:
    """The five tiers, created with their default names when missing; commits."""
    existing = {tier.level: tier for tier in db.session.scalars(select(Tier))}
    for level, name, route in DEFAULT_TIERS:
        if level not in existing:
            existing[level] = Tier(level=level, name=name, route=route)
            db.session.add(existing[level])
    db.session.commit()
    return [existing[level] for level in sorted(existing)]


def save_tiers(values: dict[int, tuple[str, str]]) -> list[Tier]:
    """Rename tiers and set their routes: {tier id: (name, route)}. Raises AccountError."""
    errors = {}
    tiers = ensure_tiers()
    for tier in tiers:
        if tier.id not in values:
            continue
        name, route = values[tier.id]
        name = " ".join((name or "").split())
        if not name or len(name) > 80:
            errors[f"name-{tier.id}"] = str(_l("A tier needs a name of at most 80 characters."))
        if route not in ROUTES:
            errors[f"route-{tier.id}"] = str(_l("Choose a route from the list."))
        tier.name, tier.route = name, route
    if errors:
        db.session.rollback()
        raise AccountError(errors)
    db.session.commit()
    return tiers


def free_mail_domains() -> set[str]:
    return set(FREE_MAIL_DOMAINS) | set(
        split_list(",".join(current_app.config["ASSISTANT_FREE_MAIL_DOMAINS"]))
    )


def save_account(account_id: int | None, data: dict, *, now: datetime) -> CustomerAccount:
    """Create or update a customer account from the admin form. Raises AccountError."""
    errors = {}
    company = " ".join(str(data.get("company") or "").split())
    if not company or len(company) > 200:
        errors["company"] = str(_l("Enter the company name (at most 200 characters)."))
    domains = split_list(str(data.get("domains") or ""))
    free = free_mail_domains()
    if any(domain in free for domain in domains):
        errors["domains"] = str(_l("Free-mail domains cannot identify a company; list its contacts instead."))
    if any("@" in domain or "." not in domain for domain in domains):
        errors["domains"] = str(_l("Enter domains like example.com, without @."))
    contacts = split_list(str(data.get("contacts") or ""))
    if any("@" not in contact for contact in contacts):
        errors["contacts"] = str(_l("Enter email addresses, one per line."))
    # parse_id: a number past the INTEGER column is no tier or user, not a database error.
    tier_id = parse_id(data.get("tier_id"))
    tier = db.session.get(Tier, tier_id) if tier_id else None
    if tier is None:
        errors["tier_id"] = str(_l("Choose a tier."))
    owner_id = None
    if str(data.get("owner_id") or "").strip():  # empty: no owner
        owner_id = parse_id(data.get("owner_id"))
        if not works_tickets(owner_id):
            errors["owner_id"] = str(_l("Choose an account owner from the list."))
    if len(" ".join(domains)) > 500:
        errors["domains"] = str(_l("At most 500 characters."))
    if errors:
        raise AccountError(errors)
    account = db.session.get(CustomerAccount, account_id) if account_id else None
    if account is None:
        account = CustomerAccount(created_at=now)
        db.session.add(account)
    account.company, account.tier_id, account.owner_id = company, tier.id, owner_id
    account.domains, account.contacts = " ".join(domains), "\n".join(contacts)
    db.session.commit()
    return account


def account_link_token(account_id: int) -> str:
    """The signed part of a customer's login link (/help/ask?account=…)."""
    return sign(ACCOUNT_PURPOSE, {"a": account_id})


def account_from_token(token: str) -> CustomerAccount:
    """The account of a signed login link. Raises InvalidToken (forged, expired or gone)."""
    payload = unsign(ACCOUNT_PURPOSE, token or "", max_age=current_app.config["ASSISTANT_LINK_MAX_AGE"])
    account_id = token_id(payload.get("a")) if isinstance(payload, dict) else None
    account = db.session.get(CustomerAccount, account_id) if account_id else None
    if account is None:
        raise InvalidToken("gone")
    return account


def match_account(email: str) -> CustomerAccount | None:
    """The account of an address: a listed contact first, then the company's domain
    (never a free-mail domain)."""
    email = (email or "").strip().lower()
    if "@" not in email:
        return None
    accounts = db.session.scalars(select(CustomerAccount).order_by(CustomerAccount.id)).all()
    for account in accounts:
        if email in account.contact_list:
            return account
    domain = email.rpartition("@")[2]
    if domain in free_mail_domains():
        return None
    for account in accounts:
        if domain in account.domain_list:
            return account
    return None


def tier_name(name: str) -> str:
    """A tier's name as the page shows it (a default one translated)."""
    return str(DEFAULT_TIER_NAMES.get(name, name))


def ticket_workers() -> list[User]:
    """Active staff who may open tickets, by email."""
    query = select(User).where(User.active.is_(True), User.role.in_(("admin", *SUPPORT_ROLES)))
    return db.session.scalars(query.order_by(User.email)).all()


def works_tickets(user_id: int | None) -> bool:
    """Whether this user is one ticket_workers() lists: one row read, by the guard's own
    role check (User.has_role)."""
    user = db.session.get(User, user_id) if user_id is not None else None
    return user is not None and user.active and user.has_role(*SUPPORT_ROLES)
