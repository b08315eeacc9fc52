"""The development Outbox: the mails the local SMTP sink caught, as files."""

import re
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.parser import BytesHeaderParser
from pathlib import Path

from flask import abort, current_app, render_template, request

from accounts.guards import roles_required
from core.listing import TextSort, chosen_sort, list_args, request_slice, search_text
from nurture import listing
from nurture.admin import ROLES, bp, frame

OUTBOX_NAME = re.compile(r"^[0-9]+\.[0-9]+-[0-9a-f]{8}\.eml$")


def _outbox_path(name: str) -> Path:
    if not OUTBOX_NAME.match(name):
        abort(404)
    path = Path(current_app.config["OUTBOX_DIR"]) / name
    if not path.is_file():
        abort(404)
    return path


@dataclass(frozen=True)
class CaughtMail:
    """One caught mail's headers, as the Outbox lists it."""

    name: str
    to: str
    subject: str
    date: str


# The Outbox's orders (?sort=), the first the default.
OUTBOX_SORTS = [
    TextSort("caught", lambda mail: mail.name),  # file names start with the time caught
    TextSort("caught_asc", lambda mail: mail.name, descending=False),
    TextSort("subject", lambda mail: mail.subject.casefold(), descending=False),
    TextSort("subject_desc", lambda mail: mail.subject.casefold()),
    TextSort("to", lambda mail: mail.to.casefold(), descending=False),
    TextSort("to_desc", lambda mail: mail.to.casefold()),
]
# The newest this many files are read: the Outbox is a development tool, not an archive.
OUTBOX_LIMIT = 2000


def caught_mails(folder: Path) -> list[CaughtMail]:
    """The newest OUTBOX_LIMIT mails in the sink's folder, headers only."""
    if not folder.is_dir():
        return []
    files = sorted((p for p in folder.glob("*.eml") if OUTBOX_NAME.match(p.name)), reverse=True)
    parser = BytesHeaderParser(policy=policy.default)
    mails = []
    for path in files[:OUTBOX_LIMIT]:
        with path.open("rb") as handle:
            headers = parser.parse(handle)
        mails.append(
            CaughtMail(
                path.name,
                str(headers.get("To", "")),
                str(headers.get("Subject", "")),
                str(headers.get("Date", "")),
            )
        )
    return mails


@bp.get("/outbox")
@roles_required(*ROLES)
def outbox():
    folder = Path(current_app.config["OUTBOX_DIR"])
    q = search_text(request.args)
    sort = chosen_sort(OUTBOX_SORTS, request.args.get("sort"))
    mails = caught_mails(folder)
    if q:
        needle = q.casefold()
        mails = [mail for mail in mails if needle in mail.to.casefold() or needle in mail.subject.casefold()]
    page = request_slice(mails, sort=sort, ident=lambda mail: mail.name, per_page=listing.PAGE_SIZE)
    filter_args = {"q": q} if q else {}
    return render_template(
        "nurture/admin/outbox.html",
        page=page,
        q=q,
        filter_args=filter_args,
        args=list_args(filter_args, sort, OUTBOX_SORTS),
        sort=sort.key,
        folder=folder,
        sink_on=current_app.config["DEV_SMTP_SINK"],
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
        header=lambda name: str(mail.get(name) or ""),
        text=text.get_content() if text else "",
        has_html=mail.get_body(("html",)) is not None,
    )


@bp.get("/outbox/<name>/html")
@roles_required(*ROLES)
def outbox_html(name):
    html = _parsed(name).get_body(("html",))
    return frame(html.get_content() if html else "<p></p>")
