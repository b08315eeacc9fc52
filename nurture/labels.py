"""Words for the codes stored by nurture (statuses, exit reasons, triggers, conditions,
weekdays, timeline events), for pages; YAML files and exports keep the codes."""

from flask_babel import lazy_gettext as _l

from core.i18n import words_for

LABELS = {
    "status": {
        "draft": _l("draft"),
        "active": _l("active"),
        "paused": _l("paused"),
        "archived": _l("archived"),
        "completed": _l("completed"),
        "exited": _l("exited"),
        "queued": _l("queued"),
        "sending": _l("sending"),
        "sent": _l("sent"),
        "failed": _l("failed"),
        "suppressed": _l("suppressed"),
        "skipped": _l("skipped"),
    },
    # What a message is (models.MESSAGE_KINDS).
    "kind": {
        "transactional": _l("transactional"),
        "nurture": _l("nurture"),
        "staff": _l("to staff"),
        "campaign": _l("campaign mail"),
    },
    # Why an enrollment ended (models.EXIT_REASONS).
    "exit": {
        "unsubscribed": _l("unsubscribed"),
        "bounced": _l("the address bounced"),
        "complained": _l("marked as spam"),
        "stage": _l("handed to sales"),
        "removed": _l("removed from the sequence"),
        "erased": _l("lead erased"),
        "suppressed": _l("address suppressed"),
        "topic_left": _l("left the sequence's topic"),
        # delivery.materialising.CANNOT_SCHEDULE: its settings could not be scheduled.
        "could not schedule": _l("its next mail could not be scheduled"),
    },
    "trigger": {
        "asset": _l("download of an asset"),
        "form": _l("submission of a form"),
        "manual": _l("manual or import only"),
    },
    "condition": {
        "downloaded": _l("the lead downloaded the asset"),
        "clicked_previous": _l("the lead clicked the previous mail"),
        "opened_previous": _l("the lead opened the previous mail"),
    },
    "day": {
        "mon": _l("Mon"),
        "tue": _l("Tue"),
        "wed": _l("Wed"),
        "thu": _l("Thu"),
        "fri": _l("Fri"),
        "sat": _l("Sat"),
        "sun": _l("Sun"),
    },
    "event": {
        "mail_sent": _l("Mail sent"),
        "mail_opened": _l("Mail opened"),
        "mail_clicked": _l("Link in a mail clicked"),
        "unsubscribed": _l("Unsubscribed"),
        "sequence_left": _l("Left a sequence"),
    },
    # Where a person's topic choice was made (nurture.topics.SOURCES).
    "choice_source": {
        "preferences": _l("on the preference page"),
        "one_click": _l("one-click unsubscribe"),
        "form": _l("on a form"),
        "import": _l("by import"),
        "admin": _l("by staff"),
    },
}


def nurture_label(kind: str, value: str | None) -> str:
    """The words for a code, or the code itself when it has none."""
    return words_for(LABELS, kind, value)


def day_label(code: str) -> str:
    """A weekday of a send window (mon … sun) as the reader's language shortens it."""
    return nurture_label("day", code)
