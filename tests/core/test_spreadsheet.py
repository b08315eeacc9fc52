"""The CSV cell neutraliser every export writes through (OWASP "CSV Injection")."""

import csv
import io
from decimal import Decimal

import pytest

from core.spreadsheet import csv_cell, csv_text
from tests.factories import FORMULA_PAYLOADS, formula_cells


@pytest.mark.parametrize("payload", FORMULA_PAYLOADS)
def test_a_cell_that_would_start_a_formula_is_quoted_out(payload):
    assert csv_cell(payload) == "'" + payload


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (-12.5, -12.5),
        (3, 3),
        (Decimal("-0.5000"), Decimal("-0.5000")),
        (None, ""),
        ("李雷", "李雷"),
        ("2026-11-02T09:00:00Z", "2026-11-02T09:00:00Z"),
        # Text a visitor typed stays text: readable, and not turned into 8.6138E+12.
        ("+86 138 0013 8000", "'+86 138 0013 8000"),
    ],
)
def test_numbers_and_plain_text_stay_as_they_are(value, written):
    assert csv_cell(value) == written


def test_a_document_of_payloads_has_no_formula_and_keeps_every_value():
    text = csv_text(["=header", "score"], [[payload, -12.5] for payload in FORMULA_PAYLOADS])
    assert formula_cells(text) == []
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == ["'=header", "score"]
    assert [row[0] for row in rows[1:]] == ["'" + payload for payload in FORMULA_PAYLOADS]
    assert {row[1] for row in rows[1:]} == {"-12.5"}
