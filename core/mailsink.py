"""The local SMTP sink for development: aiosmtpd on a loopback port, keeping every mail
it receives as an .eml file under instance/outbox/, which the admin Outbox shows."""

import time
import uuid
from pathlib import Path

from aiosmtpd.controller import Controller


class FolderSink:
    """aiosmtpd handler that writes each message to `folder` as <time>-<uuid>.eml."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server, session, envelope):
        name = f"{time.time():.6f}-{uuid.uuid4().hex[:8]}.eml"
        tmp = self.folder / (name + ".tmp")
        tmp.write_bytes(envelope.original_content or envelope.content)
        tmp.rename(self.folder / name)
        return "250 Message accepted for delivery"


def sink_address(app):
    """Where the sink listens, for `flask serve`'s check of its port: (host, port, the
    setting that moves it), or None where MAIL_SERVER is not this machine's loopback."""
    host = app.config["MAIL_SERVER"]
    if host not in ("127.0.0.1", "localhost", "::1"):
        return None
    return host, int(app.config["MAIL_PORT"]), "LODESTAR_MAIL_PORT"


def start_sink(app):
    """Start the sink on MAIL_SERVER:MAIL_PORT (loopback only) and return its stop()."""
    host = app.config["MAIL_SERVER"]
    if sink_address(app) is None:
        app.logger.warning("DEV_SMTP_SINK is on but MAIL_SERVER is %s; not starting the sink", host)
        return None
    controller = Controller(
        FolderSink(app.config["OUTBOX_DIR"]), hostname=host, port=int(app.config["MAIL_PORT"])
    )
    try:
        controller.start()
    except (OSError, RuntimeError) as exc:
        # start() fails before its thread runs the loop (port taken) or after (on a busy
        # machine: "started, but not responding"). stop() ends a running loop and joins the
        # thread, whose exit closes the loop; a loop that never ran is ours to close.
        controller.stop(no_assert=True)
        if not controller.loop.is_closed():
            controller.loop.close()
        app.logger.warning(
            "SMTP sink not started on %s:%s (%s); is one running already?", host, app.config["MAIL_PORT"], exc
        )
        return None
    return controller.stop
