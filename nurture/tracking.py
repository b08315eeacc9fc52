"""Tracking: opens and clicks recorded on the mail they came from (and told to later
packages by signal), and a lead's mails for the lead page's timeline."""

from datetime import datetime

from flask import current_app
from sqlalchemy import func, select, update

from core.extensions import db
from nurture import signals
from nurture.models import Message


def record_open(message_id: int, *, now: datetime) -> None:
    db.session.execute(
        update(Message)
        .where(Message.id == message_id)
        .values(open_count=Message.open_count + 1, opened_at=func.coalesce(Message.opened_at, now))
    )
    signals.mail_opened.send(current_app._get_current_object(), message_id=message_id)
    db.session.commit()


def record_click(message_id: int, *, now: datetime, url: str = "") -> None:
    """A click is an open too (images are often blocked). `url`: where the link led, for
    the receivers that count clicks per link."""
    db.session.execute(
        update(Message)
        .where(Message.id == message_id)
        .values(
            click_count=Message.click_count + 1,
            clicked_at=func.coalesce(Message.clicked_at, now),
            opened_at=func.coalesce(Message.opened_at, now),
        )
    )
    signals.mail_clicked.send(current_app._get_current_object(), message_id=message_id, url=url)
    db.session.commit()


def lead_timeline(lead_id: int) -> list[dict]:
    """The lead's mails for the lead page: sent, opened, clicked, unsubscribed."""
    from flask_babel import gettext as _

    from nurture.labels import nurture_label

    events = []
    rows = db.session.scalars(
        select(Message).where(Message.lead_id == lead_id, Message.sent_at.is_not(None)).order_by(Message.id)
    )
    for message in rows:
        moments = (
            ("mail_sent", message.sent_at, _("Mail sent: %(s)s", s=message.subject)),
            ("mail_opened", message.opened_at, _("Mail opened: %(s)s", s=message.subject)),
            ("mail_clicked", message.clicked_at, _("Link clicked in: %(s)s", s=message.subject)),
            ("unsubscribed", message.unsubscribed_at, _("Unsubscribed")),
        )
        url = f"/admin/nurture/messages/{message.id}"
        events.extend(
            {"at": at, "kind": kind, "label": nurture_label("event", kind), "text": text, "url": url}
            for kind, at, text in moments
            if at
        )
    return events
