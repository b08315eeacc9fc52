"""The development Outbox: the mails the local SMTP sink caught, as files."""

import re
from email import message_from_bytes, policy
from email.parser import BytesHeaderParser
from pathlib import Path

from flask import abort, current_app, render_template

from accounts.guards import roles_required
from nurture.admin import ROLES, bp, frame

OUTBOX_NAME = re.compile(r"^[0-9]+\.[0-9]+-[0-9a-f]{8}\.eml$")


def _outbox_path(name: str) -> Path:
    if not OUTBOX_NAME.match(name):
        abort(404)
    path = Path(current_app.config["OUTBOX_DIR"]) / name
    if not path.is_file():
        abort(404)
    return path


@bp.get("/outbox")
@roles_required(*ROLES)
def outbox():
    folder = Path(current_app.config["OUTBOX_DIR"])
    files = (
        sorted((p for p in folder.glob("*.eml") if OUTBOX_NAME.match(p.name)), reverse=True)[:200]
        if folder.is_dir()
        else []
    )
    parser = BytesHeaderParser(policy=policy.default)
    rows = []
    for path in files:
        with path.open("rb") as handle:
            headers = parser.parse(handle)
        rows.append(
            {
                "name": path.name,
                "to": headers.get("To", ""),
                "subject": headers.get("Subject", ""),
                "date": headers.get("Date", ""),
            }
        )
    return render_template(
        "nurture/admin/outbox.html", rows=rows, folder=folder, sink_on=current_app.config["DEV_SMTP_SINK"]
    )


def _parsed(name: str):
    return message_from_bytes(_outbox_path(name).read_bytes(), policy=policy.default)


@bp.get("/outbox/<name>")
@roles_required(*ROLES)
def outbox_mail(name):
    mail = _parsed(name)
    text = mail.get_body(("plain",))
    return render_template(
        "nurture/admin/outbox_mail.html",
        name=name,
        headers=list(mail.items()),
        text=text.get_content() if text else "",
        has_html=mail.get_body(("html",)) is not None,
    )


@bp.get("/outbox/<name>/html")
@roles_required(*ROLES)
def outbox_html(name):
    html = _parsed(name).get_body(("html",))
    return frame(html.get_content() if html else "<p></p>")
