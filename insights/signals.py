"""Signals the insights package sends.

event_recorded is sent inside the transaction that stores the event (before commit):
receivers (scoring) add rows to db.session and never commit or roll back, so an event and
what it changes are stored together or not at all.
"""

from blinker import Namespace

signals = Namespace()

event_recorded = signals.signal("event-recorded")
"""Inside the transaction, after an Event row is added and flushed. Payload: event (Event)."""
