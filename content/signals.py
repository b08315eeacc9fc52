"""Signals the content package sends; later packages (search, insights) subscribe.

Each is sent after the change is committed, with the app as sender.
"""

from blinker import Namespace

from core import signals as core_signals

signals = Namespace()

article_changed = signals.signal("article-changed")
"""An article was created, saved, published, unpublished or archived.
Payload: article_id (int)."""

article_deleted = signals.signal("article-deleted")
"""An article was deleted. Payload: article_id (int), slug (str)."""

# Defined in core, so packages below content (accounts' invitations) can ask for staff
# mail too; kept importable from here for the packages that always have.
staff_mail_requested = core_signals.staff_mail_requested
