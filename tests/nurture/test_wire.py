"""nurture.wire.send makes the SMTP exchange smtplib's sendmail makes, as a real server sees
it: the same commands with the same arguments and the same content. wire re-implements
sendmail (for its two hooks); an smtplib release that changes what sendmail sends
(quoting, options, dot-stuffing, the final line) makes these fail, and wire is brought
in line."""

import smtplib
import threading
from functools import wraps

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

from nurture import wire
from tests.conftest import free_port

SENDER = "news@lodestar.example"
MAIL = (
    b"From: news@lodestar.example\r\nTo: li.lei@example.cn\r\nSubject: Hello\r\n\r\n"
    b"First line.\r\n.A line that starts with a dot\r\n..and one with two\r\n.\r\nLast line.\r\n"
)


def noting(command: str):
    """aiosmtpd's handler of `command`, noting the command and its argument first."""
    handle = getattr(SMTP, f"smtp_{command}")

    @wraps(handle)
    async def noted(self, arg):
        self.event_handler.note(command, arg)
        await handle(self, arg)

    return noted


# aiosmtpd's server noting each command as it arrives (it dispatches COMMAND to smtp_COMMAND).
RecordingSMTP = type(
    "RecordingSMTP",
    (SMTP,),
    {
        f"smtp_{command}": noting(command)
        for command in ("EHLO", "HELO", "MAIL", "RCPT", "DATA", "RSET", "QUIT")
    },
)


class Recorder:
    """The handler: keeps the commands and, for each mail, its content as received."""

    def __init__(self):
        self.seen = []
        self._lock = threading.Lock()

    def note(self, *what):
        with self._lock:
            self.seen.append(what)

    async def handle_DATA(self, server, session, envelope):
        self.note("content", envelope.original_content, tuple(envelope.mail_options))
        return "250 OK"

    def take(self) -> list:
        with self._lock:
            seen, self.seen = self.seen, []
        return seen


class RecordingController(Controller):
    def factory(self):
        return RecordingSMTP(self.handler, **self.SMTP_kwargs)


@pytest.fixture(params=["size", "no-size"])
def server(request):
    """A real aiosmtpd server that records what it sees, with the SIZE extension
    advertised (aiosmtpd's default limit) or not (no limit)."""
    limit = {} if request.param == "size" else {"data_size_limit": None}
    recorder = Recorder()
    controller = RecordingController(recorder, hostname="127.0.0.1", port=free_port(), **limit)
    controller.start()
    yield controller, recorder, request.param == "size"
    controller.stop()


def exchange(controller, recorder, send) -> list:
    """What the server saw of one connection that sends one mail through `send`."""
    recorder.take()
    with smtplib.SMTP(controller.hostname, controller.port, local_hostname="sender.test") as smtp:
        send(smtp)
    return recorder.take()


@pytest.mark.parametrize(
    "recipient",
    ["li.lei@example.cn", '"li lei"@example.cn', "Li Lei <li.lei@example.cn>"],
    ids=["plain", "quoted-local-part", "display-name"],
)
@pytest.mark.parametrize("raw", [MAIL, MAIL.rstrip(b"\r\n")], ids=["ends-with-crlf", "no-final-crlf"])
def test_wire_send_makes_the_exchange_sendmail_makes(server, recipient, raw):
    controller, recorder, size = server

    def by_wire(smtp):
        wire.send(smtp, SENDER, recipient, raw, before_dot=lambda: None, meanwhile=lambda: None)

    def by_sendmail(smtp):
        assert smtp.sendmail(SENDER, recipient, raw) == {}

    seen = exchange(controller, recorder, by_wire)
    assert seen == exchange(controller, recorder, by_sendmail)
    # And it is the exchange meant: the size option only where the server offers it, the
    # address bracketed once, the dotted lines arriving as they were written.
    commands = dict((what[0], what[1]) for what in seen if what[0] != "content")
    assert commands["MAIL"] == f"FROM:<{SENDER}>" + (f" size={len(raw)}" if size else "")
    assert commands["RCPT"].startswith("TO:<") and commands["RCPT"].count("<") == 1
    content = next(what[1] for what in seen if what[0] == "content")
    assert content.rstrip(b"\r\n") == raw.rstrip(b"\r\n")
    assert b"\r\n.A line that starts with a dot\r\n..and one with two\r\n.\r\n" in content
