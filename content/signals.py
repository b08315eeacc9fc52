"""Signals the content package sends; later packages (search, insights) subscribe.

Each is sent after the change is committed, with the app as sender.
"""

from blinker import Namespace

signals = Namespace()

article_changed = signals.signal("article-changed")
"""An article was created, saved, published, unpublished or archived.
Payload: article_id (int)."""

article_deleted = signals.signal("article-deleted")
"""An article was deleted. Payload: article_id (int), slug (str)."""

staff_mail_requested = signals.signal("staff-mail-requested")
"""Inside the transaction (unlike the two above): a mail to a member of staff, such as
the weekly review reminder. Payload: to (str, an address), template (str, a folder with
subject.txt, body.txt, body.html and reason.txt), context (dict of JSON values), now (datetime: when it is due). nurture
queues it as a staff mail; the sender commits it with its own rows."""
