"""The queue: due enrollment steps become message rows, due messages are claimed with a
lease, checked against suppression, rendered, and delivered over one SMTP connection.

SMTP cannot deliver exactly once: a worker that dies after the server accepted a mail
and before the outcome's commit sends that mail again. What the database keeps, not the
worker's memory, is at most one repeat of the mail in flight when a worker dies, with
the same Message-ID:
- a step becomes a message by an INSERT that does nothing on the unique (enrollment,
  step, round) key, together with an UPDATE of the enrollment guarded by its position,
  so two workers advancing the same enrollment cannot both win;
- a claim is an UPDATE guarded by the row's state, behind FOR UPDATE SKIP LOCKED on
  PostgreSQL (SQLite has one writer at a time), marking the rows with this claim's token;
- each message is marked sent in its own commit the moment the server accepts it, and
  the next mail is accepted by the server only once that commit is done: the commit
  runs while the next mail's envelope and content travel, and the final "." that makes
  the server accept it is sent after the commit (a connection dropped before the "."
  delivers nothing). So a crash can repeat at most the one mail in flight, and a
  crashed worker's claimed rows come back when their lease runs out;
- the outcome's commit starts the moment the server's reply is read: the next mail is
  rendered while this one's content travels, before its ".", so nothing runs between
  the server's acceptance and the commit;
- the Message-ID is fixed when the row is queued and every attempt sends it, so that
  one repeat carries the same Message-ID and receiving systems can drop it;
- leases are on the real clock, never on a pass's `now` (which `--now` may set ahead
  and a long pass leaves behind), and a worker stops sending a batch before its lease
  runs out, so a lease taken back is never one still being worked on.

The steps, a module each: materialising (due enrollment steps become message rows),
claiming (due messages taken with a lease), rendering (what a message says, or why it
must not go now) and sending (the SMTP loop over one connection, retries and
refusals). The outcomes are committed by nurture.recorder; one mail's SMTP exchange,
with its last check before the ".", is nurture.wire.
"""

from nurture.delivery.claiming import claim
from nurture.delivery.materialising import materialise
from nurture.delivery.rendering import add_renderer
from nurture.delivery.sending import deliver

__all__ = ["add_renderer", "claim", "deliver", "materialise"]
