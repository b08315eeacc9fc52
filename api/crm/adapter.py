"""The interface a CRM adapter offers the sync, and the words both sides share.

An adapter knows one CRM's HTTP API and nothing of our database:
- `push(record_id, person)` creates the record (record_id None) or updates it, and
  returns (the record id, whether it made a new record): an address the CRM knows
  already updates that record. It raises RecordGone when the record no longer exists.
- `changes(since)` yields the stage changes made in the CRM after `since`, as
  StageChange(record_id, stage, changed_at), oldest first.
Errors are CrmUnavailable (429, 5xx, a timeout: the worker tries again later) or
CrmRefused (the CRM said no to this request: logged, not retried until the lead changes).
"""

from dataclasses import dataclass
from datetime import datetime

# The stages a CRM reports back, and the lead stage each becomes (gated.models.STAGES):
# an opportunity is still a sales-qualified lead to us; won makes a customer.
CRM_STAGES = {"sql": "sql", "opportunity": "sql", "won": "customer", "lost": "lost"}


class CrmError(Exception):
    pass


class CrmUnavailable(CrmError):
    def __init__(self, message: str, *, retry_after: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class CrmRefused(CrmError):
    pass


class RecordGone(CrmError):
    """The record was deleted or merged away in the CRM."""


@dataclass(frozen=True)
class Person:
    email: str
    name: str
    company: str
    job_title: str
    phone: str
    stage: str


@dataclass(frozen=True)
class StageChange:
    record_id: str
    stage: str  # a key of CRM_STAGES
    changed_at: datetime
