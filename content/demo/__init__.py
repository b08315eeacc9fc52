"""Demo content: the Markdown folder content/demo/articles/, imported through the same
service as `flask content import`, so a second `flask demo load` reports everything
unchanged."""

from pathlib import Path

from flask_babel import force_locale

from content import transfer
from core.timeutil import utcnow

ARTICLES = Path(__file__).resolve().parent / "articles"


def load(echo, folder: Path = ARTICLES) -> transfer.ImportReport:
    """Import the demo articles; print one line per problem and the counts."""
    with force_locale("en"):
        report = transfer.import_paths([folder], now=utcnow())
        for result in report.results:
            if result.outcome == "error":
                for line in result.lines():
                    echo(line)
        echo(f"articles: {report.summary()}")
    return report
