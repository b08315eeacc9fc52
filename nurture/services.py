"""The names nurture/admin.py, insights/scoring/services.py and assistant/services.py
still take from here, as they were before this module was split (each is being
reworked; each name now lives in the module that does its job, and new code imports it
from there):
sequences, enrolment (and enrolling, the admin's), exits, suppression, the mail queue
and tracking. This module goes once neither imports it.
"""

from nurture.enrolling import enroll_filtered
from nurture.enrolment import enroll, enroll_listed
from nurture.exits import exit_lead
from nurture.mailqueue import add_mail, queue_test
from nurture.sequences import export_sequence, save_sequence, set_status
from nurture.suppression import suppress, unsuppress
from nurture.validation import SequenceError

__all__ = [
    "SequenceError",
    "add_mail",
    "enroll",
    "enroll_filtered",
    "enroll_listed",
    "exit_lead",
    "export_sequence",
    "queue_test",
    "save_sequence",
    "set_status",
    "suppress",
    "unsuppress",
]
