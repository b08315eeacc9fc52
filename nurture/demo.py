"""Demo sequences: the Chinese white-paper follow-up the demo white papers name in
their front matter (sequence: whitepaper-followup), and an English one. Idempotent:
loading again leaves them unchanged.

The demo leads (loaded before, by gated) downloaded white papers before these sequences
existed, so they are enrolled here as their downloads would have enrolled them."""

from pathlib import Path

from sqlalchemy import select

from core.extensions import db
from core.timeutil import utcnow
from nurture import enrolment, sequences

FOLDER = Path(__file__).resolve().parent / "demo"


def load(echo) -> None:
    now = utcnow()
    for path in sorted(FOLDER.glob("*.yml")):
        sequence, outcome = sequences.import_sequence(path.read_text(encoding="utf-8"), now=now)
        echo(f"  sequence {sequence.slug}: {outcome}")
    enrolled = _enroll_earlier_downloads(now)
    if enrolled:
        echo(f"  {enrolled} demo leads enrolled after their downloads")


def _enroll_earlier_downloads(now) -> int:
    from gated.models import Lead, Submission

    count = 0
    rows = db.session.execute(
        select(Submission.asset_id, Submission.form, Lead)
        .join(Lead, Lead.id == Submission.lead_id)
        .where(Submission.asset_id.is_not(None), Lead.marketing_consent.is_(True))
    ).all()
    for asset_id, form, lead in rows:
        for sequence in enrolment.sequences_triggered(asset_id=asset_id, form=form):
            if enrolment.add_enrollment(lead, sequence, now=now, source="demo", asset_id=asset_id):
                count += 1
    db.session.commit()
    return count
