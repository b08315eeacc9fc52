"""One mail's SMTP exchange, as smtplib's sendmail does it but with the two hooks
delivery needs: work to do while the content travels, and a last check before the final
"." (which is what makes the server accept the mail). Nothing runs between the server's
acceptance and the moment its reply is read: the caller records the outcome at once.

Why a copy and not sendmail: sendmail has no place between the content and the ".", where
delivery commits the previous outcome and checks that the address is still wanted and the
lease has time left (the exactly-once rules, nurture.delivery). It uses smtplib's public
calls only; tests/nurture/test_wire.py pins it to sendmail against a real server (the same
commands, options, quoting, dot-stuffing and content), so an smtplib release that changes
sendmail's exchange fails there.
"""

import contextlib
import re
import smtplib
from functools import lru_cache

_LEADING_DOT = re.compile(rb"(?m)^\.")
_PLAIN_ADDRESS = re.compile(r"[^\s()<>@,;:\\\"\[\]]+@[^\s()<>@,;:\\\"\[\]]+")


@lru_cache(maxsize=1024)
def _bracketed(address: str) -> str:
    """smtplib.quoteaddr without its parser for the plain addresses mail goes to (the
    parse was 8 % of a mail's CPU); anything else still goes through it."""
    return f"<{address}>" if _PLAIN_ADDRESS.fullmatch(address) else smtplib.quoteaddr(address)


def send(smtp: smtplib.SMTP, sender: str, recipient: str, raw: bytes, *, before_dot, meanwhile) -> None:
    """smtplib's sendmail for one recipient, with two hooks: `meanwhile()` runs once the
    content is handed to the socket, so the next mail is rendered while this one's
    content travels, and `before_dot()` after it, before the final "." that makes the
    server accept the mail (raising in either abandons the mail: the connection is
    closed). The "." and the server's reply come last, with nothing in between: the
    time from the server's acceptance to the caller's commit, in which a worker that
    dies sends the mail again, is one reply's reading. Raises what sendmail raises."""
    smtp.ehlo_or_helo_if_needed()
    option = f" size={len(raw)}" if smtp.does_esmtp and smtp.has_extn("size") else ""
    smtp.putcmd("mail", f"FROM:{_bracketed(sender)}{option}")
    code, reply = smtp.getreply()
    if code != 250:
        abandon(smtp, code)
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    smtp.putcmd("rcpt", f"TO:{_bracketed(recipient)}")
    code, reply = smtp.getreply()
    if code not in (250, 251):
        abandon(smtp, code)
        raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})
    smtp.putcmd("data")
    code, reply = smtp.getreply()
    if code != 354:
        raise smtplib.SMTPDataError(code, reply)
    content = _LEADING_DOT.sub(b"..", raw)
    try:
        smtp.send(content)
        meanwhile()
        before_dot()
    except BaseException:
        # Still inside DATA: a QUIT now would be read as content. A mail whose "."
        # never came is dropped by the server.
        smtp.close()
        raise
    smtp.send(b".\r\n" if content.endswith(b"\r\n") else b"\r\n.\r\n")
    code, reply = smtp.getreply()
    if code != 250:
        abandon(smtp, code)
        raise smtplib.SMTPDataError(code, reply)


def abandon(smtp: smtplib.SMTP, code: int) -> None:
    """As sendmail does after a refusal: 421 closes the connection, others reset it (a
    server already gone needs no reset: the next mail reconnects)."""
    if code == 421:
        smtp.close()
        return
    with contextlib.suppress(smtplib.SMTPServerDisconnected):
        smtp.rset()
