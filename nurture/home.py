"""The mail's section of the staff home (marketers): sequences running and when each
sends next, mails that failed, and the send queue's state (due, sending, the oldest wait)."""

from flask import url_for
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import func, select

from core.extensions import db
from core.home import Figure, Row, panel
from core.localtime import local_time
from core.timeutil import utcnow
from nurture import stats
from nurture.models import Enrollment, Sequence

SHOWN = 5


def mail_panel(_user) -> Markup:
    now = utcnow()
    queue = stats.mail_status(now)
    running = db.session.execute(
        select(Sequence, func.min(Enrollment.next_send_at))
        .outerjoin(Enrollment, (Enrollment.sequence_id == Sequence.id) & (Enrollment.status == "active"))
        .where(Sequence.status == "active")
        .group_by(Sequence.id)
        .order_by(func.min(Enrollment.next_send_at), Sequence.name)
    ).all()
    messages = "nurture_admin.messages"
    figures = [
        Figure(_("Sequences running"), len(running), url_for("nurture_admin.sequences")),
        Figure(
            _("Mails due now"), queue["due"], url_for(messages, status="queued"), alert=queue["worker_stale"]
        ),
        Figure(_("Mails failed"), queue["failed"], url_for(messages, status="failed"), alert=True),
    ]
    rows = [
        Row(
            sequence.name,
            url_for("nurture_admin.sequence", sequence_id=sequence.id),
            _("next send %(when)s", when=local_time(next_send)) if next_send else _("nothing scheduled"),
        )
        for sequence, next_send in running[:SHOWN]
    ]
    return panel("mail", _("Sequences and mail"), figures=figures, rows=rows)
