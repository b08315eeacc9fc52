"""Signals the gated package sends; nurture (and later insights) subscribe in init_app.
gated never imports nurture.

Signals marked "inside the transaction" are sent before the sender commits: receivers add
rows to db.session and never commit or roll back, so the submission and what the
receivers add (queued mail, enrollments) are stored together or not at all.
"""

from blinker import Namespace

signals = Namespace()

lead_captured = signals.signal("lead-captured")
"""Inside the transaction, after a form submission is stored.
Payload: lead_id, submission_id, asset_id (or None), form (str: "whitepaper", "demo",
"newsletter", "import"), marketing_consent (bool: may the lead get nurture mail),
sequence (str slug or None: a sequence to enrol into, given by `flask leads import
--sequence SLUG`; None for web forms, whose sequence nurture finds from the asset or form),
proven (bool: the submitting browser is the lead's person's: the lead is new, the browser's
signed lead cookie names it, or the double opt-in was confirmed; anyone can type a known
address, so only then may the browser's history join the lead).

With DOUBLE_OPT_IN, a submission with the consent box ticked first sends
marketing_consent=False (and a confirmation mail); when the lead confirms, lead_captured
is sent again for that submission with marketing_consent=True. A lead confirmed once is
never asked again. Receivers should accept **extra keys."""

mail_requested = signals.signal("mail-requested")
"""Inside the transaction: a transactional mail to a lead (download link, double opt-in
confirmation, fresh link). Payload: lead_id, template (str, e.g. "gated/email/download_link",
a folder holding subject.txt, body.txt, body.html), context (dict of JSON values).
A receiver returns whether it queued the mail: False when it held it back (an address
without mail, or one that has had its share of mail lately), so pages do not say "we have
emailed you" for a mail that will not come."""

lead_stage_changed = signals.signal("lead-stage-changed")
"""Inside the transaction. Payload: lead_id, old (str), new (str)."""

lead_erased = signals.signal("lead-erased")
"""Inside the transaction, before the lead's rows are deleted (erase) or its identity is
dropped (anonymise: the lead row stays with a placeholder address). Payload: lead_id,
email (normalised; "" for a lead known by phone alone), phone (E.164 or "", only on
erase): receivers delete their rows of the person and keep a suppression hash."""

download_recorded = signals.signal("download-recorded")
"""After commit: a file was downloaded. Payload: lead_id, asset_id, download_id, proven
(bool: through a link that went to the lead's mailbox, so the browser is the person's)."""

sms_requested = signals.signal("sms-requested")
"""Inside the transaction: a transactional text message. Payload: to_number (E.164),
lead_id (or None: a code for a number not yet a lead), template (str, a key of
nurture.sms.texts.TEXTS: "verify_code", "download_link"), params (dict of str),
secret (list of the params never to show or keep once sent, e.g. ["code"]), expires_at
(datetime or None: not worth sending after). A receiver returns whether it queued the
text (False: that number had its share of texts lately)."""

leads_merged = signals.signal("leads-merged")
"""Inside the transaction, after one lead's rows were moved to another (a merge) or moved
back (its undo). Payload: lead_ids (list of the leads that exist now and whose history
changed): receivers recompute what they derive from a lead's rows, such as the score."""
