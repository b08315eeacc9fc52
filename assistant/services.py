"""What the help assistant does: answer a question with the help center's best articles
(content's own search), take "solved" or "not yet", offer the next ones, and after the
last unhelpful round hand the person to a human by their tier.

Each service owns its transaction. Mails go through nurture's queue (rendered and sent
by the worker); leads are made by gated's capture service, so its consent rules hold.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from assistant import contact
from assistant.models import TICKET_STATUSES, Conversation, CustomerAccount, Round, Ticket
from assistant.tiers import match_account
from content.search.analysis import CJK_RE
from content.search.services import search_articles
from core.extensions import db
from core.i18n import article_language
from core.ids import token_id
from core.tokens import InvalidToken, sign, unsign
from core.urls import absolute_url, absolute_url_for
from gated import phonecodes
from gated.capture import RequestMeta, capture_lead
from gated.identity import phone_number
from gated.validation import InvalidSubmission
from nurture.mailqueue import add_mail
from nurture.models import Message, normalise_email

CONVERSATION_PURPOSE = "assistant-conversation"
PER_ROUND = 3
TICKET_BODY_LIMIT = 5000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028-\u202e\ufeff]")


class AssistantError(Exception):
    """Input to correct, or a step that no longer applies; `errors` maps field to message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def clean_question(text: str | None) -> str:
    """The question without control characters, trimmed. Raises AssistantError."""
    text = _CONTROL.sub(" ", str(text or "")).strip()
    limit = current_app.config["ASSISTANT_MAX_QUESTION"]
    if not text:
        raise AssistantError({"question": str(_l("Type your question first."))})
    if len(text) > limit:
        raise AssistantError(
            {"question": str(_l("Please keep your question under %(limit)d characters.", limit=limit))}
        )
    return text


def answer_locale(question: str, visitor_locale: str) -> str | None:
    """The language of the articles to offer (zh-CN, en): Chinese for a question with
    Chinese in it, else the visitor's (a Latin-letter question on the Chinese site is
    often a product word such as "SSO"). None when neither is known: every language."""
    if CJK_RE.search(question):
        return "zh-CN"
    return article_language(visitor_locale) or None


def find_answers(
    question: str, *, exclude: list[int], now: datetime, locale: str | None = None
) -> list[dict]:
    """The best PER_ROUND help articles in `locale` (None: any) for `question`, leaving out
    those in `exclude`, from the site's own search (title, url and the matching passage)."""
    results, _query_id = search_articles(
        question, now=now, kind="help", locale=locale, per_page=PER_ROUND + len(exclude)
    )
    answers = []
    for hit in results.hits:
        if hit.id in exclude:
            continue
        answers.append({"id": hit.id, "title": hit.title, "url": hit.url, "passage": str(hit.snippet)})
        if len(answers) == PER_ROUND:
            break
    return answers


def conversation_token(conversation_id: int) -> str:
    return sign(CONVERSATION_PURPOSE, conversation_id)


def conversation_from_token(token: str) -> Conversation | None:
    """The conversation of a signed id, or None (forged, or purged)."""
    try:
        conversation_id = unsign(CONVERSATION_PURPOSE, token or "")
    except InvalidToken:
        return None
    conversation_id = token_id(conversation_id)
    return db.session.get(Conversation, conversation_id) if conversation_id else None


def start(question: str, *, account: CustomerAccount | None, locale: str, now: datetime) -> Conversation:
    """A new conversation and its first round. Raises AssistantError on a bad question."""
    question = clean_question(question)
    conversation = Conversation(
        locale=locale,
        account_id=account.id if account else None,
        tier_id=account.tier_id if account else None,
        created_at=now,
        updated_at=now,
    )
    db.session.add(conversation)
    _add_round(conversation, question, now=now)
    db.session.commit()
    return conversation


def _add_round(conversation: Conversation, question: str, *, now: datetime) -> Round:
    offered = find_answers(
        question,
        exclude=conversation.shown_ids,
        now=now,
        locale=answer_locale(question, conversation.locale or ""),
    )
    round_ = Round(number=len(conversation.rounds) + 1, question=question, offered=offered, created_at=now)
    conversation.rounds.append(round_)
    if not offered:
        # Nothing (more) to offer: asking "did this help?" about nothing wastes a round.
        conversation.status = "escalating"
    return round_


def answer(conversation: Conversation, reply: str, *, rephrased: str = "", now: datetime) -> Conversation:
    """Record the visitor's answer to the last round: "solved" ends the conversation (a
    deflection); "not yet" offers the next articles (for the rephrased question if one
    was given) or, after the last round, moves on to a person; "person" moves on to a
    person at once (the articles did not help: the round counts as "not yet")."""
    if conversation.status != "open" or not conversation.rounds:
        raise AssistantError({"answer": str(_l("This conversation has moved on; see below."))})
    if reply not in ("solved", "not_yet", "person"):
        raise AssistantError({"answer": str(_l("Choose one of the buttons."))})
    if reply == "not_yet" and rephrased.strip():
        rephrased = clean_question(rephrased)
    last = conversation.rounds[-1]
    last.answer = "not_yet" if reply == "person" else reply
    conversation.updated_at = now
    if reply == "solved":
        conversation.status = "solved"
        conversation.ended_at = now
    elif reply == "person" or len(conversation.rounds) >= current_app.config["ASSISTANT_ROUNDS"]:
        conversation.status = "escalating"
    else:
        _add_round(conversation, rephrased.strip() or last.question, now=now)
    db.session.commit()
    return conversation


def transcript(conversation: Conversation) -> list[dict]:
    """The conversation as plain data (for mails, which store their context as JSON)."""
    return [
        {
            "number": round_.number,
            "question": round_.question,
            "answer": round_.answer,
            "articles": [
                {"title": item["title"], "url": absolute_url(item["url"])} for item in round_.offered
            ],
        }
        for round_ in conversation.rounds
    ]


def default_message(conversation: Conversation) -> str:
    """The ticket text pre-filled from what the visitor already asked."""
    questions = []
    for round_ in conversation.rounds:
        if round_.question not in questions:
            questions.append(round_.question)
    return "\n\n".join(questions)


def route_for(conversation: Conversation) -> str:
    """ "owner", "ticket", or "" (not known yet: the email will tell)."""
    if conversation.account is None:
        return ""
    return conversation.account.tier.route


def escalate(conversation: Conversation, data: dict, *, visitor: RequestMeta, now: datetime) -> Ticket:
    """Hand the conversation to a person, by the visitor's tier.

    A top tier's account owner (or the human queue) gets the whole conversation by mail;
    a lower tier's message becomes a ticket; an unknown visitor becomes (or is matched
    to) a lead under gated's consent rules. Every route stores a ticket and queues an
    acknowledgement to the visitor. Raises AssistantError with per-field messages."""
    if conversation.status != "escalating":
        raise AssistantError({"form": str(_l("This conversation has moved on; see below."))})
    errors = {}
    message = _CONTROL.sub(" ", str(data.get("message") or "")).strip()
    if not message:
        errors["message"] = str(_l("Tell us what you need."))
    elif len(message) > TICKET_BODY_LIMIT:
        errors["message"] = str(_l("At most %(limit)d characters.", limit=TICKET_BODY_LIMIT))
    person, contact_errors = contact.clean_contact(data, now=now)
    errors.update(contact_errors)
    if errors:
        raise AssistantError(errors)
    account = conversation.account or match_account(person.email)
    lead_id = None
    if account is None:
        lead_id = _capture_lead(person, data, visitor=visitor, now=now)
        route = "lead"
    else:
        route = account.tier.route
        if person.code_id is not None:
            phonecodes.spend(person.code_id, now=now)
    ticket = Ticket(
        conversation_id=conversation.id,
        account_id=account.id if account else None,
        lead_id=lead_id,
        owner_id=account.owner_id if account else None,
        route=route,
        status="open",
        email=person.email,
        phone=person.phone,
        name=person.name,
        subject=conversation.question[:300],
        body=message,
        created_at=now,
        updated_at=now,
    )
    db.session.add(ticket)
    conversation.status = "escalated"
    conversation.email = person.email
    conversation.account_id = account.id if account else None
    conversation.tier_id = account.tier_id if account else None
    conversation.updated_at = conversation.ended_at = now
    db.session.flush()
    _queue_mails(ticket, conversation, account, now=now)
    db.session.commit()
    return ticket


def _capture_lead(person: contact.Contact, data: dict, *, visitor: RequestMeta, now: datetime) -> int:
    """The lead of an unknown visitor (known by email, by mobile number, or both), through
    gated's form capture (identity and consent rules, consent record, double opt-in, the
    SMS code spent, lead_captured): it commits on its own."""
    fields = {
        "email": person.email,
        "phone": person.phone,
        "name": person.name,
        "consent": data.get("consent", ""),
    }
    try:
        capture = capture_lead(
            contact.FORM,
            fields,
            request_meta=visitor,
            now=now,
            consent_shown=True,
            phone_code_id=person.code_id,
        )
    except InvalidSubmission as exc:
        raise AssistantError(exc.errors) from exc
    return capture.lead.id


def _queue_mails(ticket: Ticket, conversation: Conversation, account, *, now: datetime) -> None:
    context = {
        "ticket_id": ticket.id,
        "route": ticket.route,
        "name": ticket.name,
        "email": ticket.email,
        "phone": phone_number(ticket.phone),
        "company": account.company if account else "",
        "tier": account.tier.name if account else "",
        "message": ticket.body,
        "rounds": transcript(conversation),
        "locale": conversation.locale.replace("_", "-"),
        "admin_url": absolute_url_for("assistant_admin.ticket", ticket_id=ticket.id),
    }
    if ticket.route == "owner":
        owner = account.owner
        to = (
            owner.email if owner is not None and owner.active else current_app.config["ASSISTANT_HUMAN_QUEUE"]
        )
        add_mail(to=to, template="assistant/email/escalation", context=context, now=now, kind="staff")
    if not ticket.email:
        contact.acknowledge_by_sms(ticket, now=now)
        return
    add_mail(
        to=ticket.email,
        template="assistant/email/received",
        context={**context, "owner_name": account.owner.display_name if account and account.owner else ""},
        now=now,
        lead_id=ticket.lead_id,
    )


def acknowledged(ticket: Ticket) -> bool:
    """Whether the visitor's acknowledgement of the ticket was queued: an address that
    has had its share of mail lately gets none (nurture/caps.py), and the page must not
    say one is on its way. A ticket reached by phone alone: its acknowledgement text."""
    if not ticket.email:
        return contact.sms_acknowledged(ticket)
    status = db.session.scalar(
        select(Message.status).where(
            Message.to_address == normalise_email(ticket.email),
            Message.template == "assistant/email/received",
            Message.created_at == ticket.created_at,
        )
    )
    return status not in ("skipped", "failed")


def update_ticket(ticket: Ticket, *, status: str, owner_id: int | None, now: datetime) -> Ticket:
    """Change a ticket's status and staff owner (admin)."""
    if status not in TICKET_STATUSES:
        raise AssistantError({"status": str(_l("Choose a status from the list."))})
    ticket.status, ticket.owner_id, ticket.updated_at = status, owner_id, now
    db.session.commit()
    return ticket


def purge(*, now: datetime, days: int | None = None) -> int:
    """Delete conversations untouched for ASSISTANT_RETENTION_DAYS (their rounds go with
    them); a ticket still open keeps its conversation. Returns how many were deleted."""
    days = current_app.config["ASSISTANT_RETENTION_DAYS"] if days is None else days
    cutoff = now - timedelta(days=days)
    kept = select(Ticket.conversation_id).where(
        Ticket.status != "closed", Ticket.conversation_id.is_not(None)
    )
    ids = db.session.scalars(
        select(Conversation.id).where(Conversation.updated_at < cutoff, Conversation.id.not_in(kept))
    ).all()
    if ids:
        db.session.execute(delete(Ticket).where(Ticket.conversation_id.in_(ids)))
        db.session.execute(delete(Round).where(Round.conversation_id.in_(ids)))
        db.session.execute(delete(Conversation).where(Conversation.id.in_(ids)))
    db.session.commit()
    return len(ids)


def lead_timeline(lead_id: int) -> list[dict]:
    """A lead's questions to the assistant that reached a person, for the lead's page."""
    tickets = db.session.scalars(select(Ticket).where(Ticket.lead_id == lead_id)).all()
    return [
        {
            "at": ticket.created_at,
            "kind": "assistant",
            "label": str(_l("Help assistant")),
            "text": str(_l("Asked the help assistant: %(question)s", question=ticket.subject)),
            "url": url_for("assistant_admin.ticket", ticket_id=ticket.id),
        }
        for ticket in tickets
    ]
