"""The one way Lodestar writes a CSV file: every cell made safe to open in a spreadsheet.

Excel, LibreOffice Calc and Google Sheets run a cell as a formula when it starts with
= + - or @, and a leading tab or carriage return is dropped before they look, so
`\\t=cmd|' /C calc'!A0` runs too (OWASP, "CSV Injection"). A lead's name, company, UTM
tags, a search query or a landing path are typed by strangers, so every CSV export writes
its cells through `csv_cell`, which follows OWASP's advice: such a cell gets a leading
single quote and is then read as text. Whatever follows the first character does not
matter (`=0+WEBSERVICE(…)`, `-1+1|cmd` are formulas as much as `=cmd`).

What stays as it is: numbers that are numbers (int, float, Decimal: a score of -12.5 is
written -12.5), dates and empty cells. Text that merely looks like a number is still
text a stranger typed: a phone `+86 138 0013 8000` is written `'+86 138 0013 8000`, which
a spreadsheet shows as that text instead of turning it into 8.6138E+12.
"""

import csv
import io
from collections.abc import Iterable

# OWASP's list: the formula characters, then tab and carriage return.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """A cell a spreadsheet shows as written: text that would start a formula quoted
    out with a leading ', None as an empty cell, anything else unchanged."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(header: Iterable[str], rows: Iterable[Iterable]) -> str:
    """A CSV document (RFC 4180 quoting by the csv module) with every cell, the header's
    too, through csv_cell."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([csv_cell(name) for name in header])
    writer.writerows([csv_cell(value) for value in row] for row in rows)
    return out.getvalue()


def csv_download(text: str, filename: str):
    """A CSV document as a download: with a BOM, which makes Excel read UTF-8 (Chinese
    names, companies) instead of the system's code page."""
    from flask import Response

    return Response(
        "\ufeff" + text,
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={filename}"},
    )
