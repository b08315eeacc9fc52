"""Demo sequences: the Chinese white-paper follow-up the demo white papers name in
their front matter (sequence: whitepaper-followup), and an English one. Idempotent:
loading again leaves them unchanged."""

from pathlib import Path

from core.timeutil import utcnow
from nurture import services

FOLDER = Path(__file__).resolve().parent / "demo"


def load(echo) -> None:
    for path in sorted(FOLDER.glob("*.yml")):
        sequence, outcome = services.import_sequence(path.read_text(encoding="utf-8"), now=utcnow())
        echo(f"  sequence {sequence.slug}: {outcome}")
