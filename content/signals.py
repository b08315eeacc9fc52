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
