"""flask leads import / export / erase / anonymise / purge / deliver-webhooks."""

import csv
import io
import json

import pytest
from sqlalchemy import func, select

from core.extensions import db
from gated.models import Lead, Submission
from tests.factories import FORMULA_PAYLOADS, formula_cells, payload_leads

pytestmark = pytest.mark.usefixtures("app")

GOOD = """email,name,company,job_title,phone,role,stage,consent
 Li.Lei@Example.CN ,李雷,远景制造,IT 经理,13800138000,user,mql,yes
anna@example.de,Anna,Nordwerk,,+49 30 1234567,decision_maker,,
"""


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_import_upserts_and_enrols_with_a_sequence(runner, tmp_path, recorder):
    path = tmp_path / "leads.csv"
    path.write_text(GOOD, encoding="utf-8")
    result = runner.invoke(
        args=["leads", "import", str(path), "--sequence", "welcome", "--source", "trade-show"]
    )
    assert result.exit_code == 0, result.output
    assert "created: 2  updated: 0" in result.output and "1 leads have no marketing consent" in result.output
    lead = db.session.scalar(select(Lead).where(Lead.email == "Li.Lei@example.cn"))
    assert (lead.stage, lead.phone, lead.source, lead.marketing_consent) == (
        "mql",
        "+8613800138000",
        "trade-show",
        True,
    )
    captured = recorder.of("lead_captured")
    assert {c["sequence"] for c in captured} == {"welcome"} and {c["form"] for c in captured} == {"import"}
    assert [c["marketing_consent"] for c in captured] == [True, False]
    path.write_text(GOOD.replace(",user,mql,", ",user,sql,"), encoding="utf-8")
    again = runner.invoke(args=["leads", "import", str(path)])
    assert "created: 0  updated: 2" in again.output
    assert recorder.of("lead_stage_changed") == [{"lead_id": lead.id, "old": "mql", "new": "sql"}]
    assert count(Lead) == 2 and count(Submission) == 4


def test_a_bad_row_imports_nothing_and_names_the_line(runner, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        GOOD + "broken-address,X,,,,,,\nok@example.com,,,,12345,,,\nok2@example.com,,,,,,vip,\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["leads", "import", str(path)])
    assert result.exit_code == 1
    assert (
        f"{path}:4: email:" in result.output
        and f"{path}:5: phone:" in result.output
        and f"{path}:6: stage:" in result.output
    )
    assert "nothing imported" in result.output
    assert count(Lead) == 0


def test_a_file_without_an_email_column_is_refused(runner, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("name\nA\n", encoding="utf-8")
    result = runner.invoke(args=["leads", "import", str(path)])
    assert result.exit_code == 1 and "email column" in result.output


def test_export_csv_and_json_carry_every_field(runner, tmp_path):
    path = tmp_path / "leads.csv"
    path.write_text(GOOD, encoding="utf-8")
    runner.invoke(args=["leads", "import", str(path)])
    result = runner.invoke(args=["leads", "export", "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert {row["email"] for row in rows} == {"Li.Lei@example.cn", "anna@example.de"}
    for column in (
        "first_channel",
        "first_utm_source",
        "last_utm_campaign",
        "first_landing_page",
        "stage",
        "score",
        "source",
    ):
        assert column in rows[0]
    out = tmp_path / "out.json"
    result = runner.invoke(args=["leads", "export", "--format", "json", "--output", str(out)])
    assert result.exit_code == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert {row["name"] for row in data} == {"李雷", "Anna"}


def test_erase_anonymise_purge_and_webhooks(runner, tmp_path):
    path = tmp_path / "leads.csv"
    path.write_text(GOOD, encoding="utf-8")
    runner.invoke(args=["leads", "import", str(path)])
    assert runner.invoke(args=["leads", "erase", "anna@example.de"]).exit_code == 0
    missing = runner.invoke(args=["leads", "erase", "anna@example.de"])
    assert missing.exit_code == 1 and "no lead" in missing.output
    assert runner.invoke(args=["leads", "anonymise", "Li.Lei@example.cn"]).exit_code == 0
    assert db.session.scalar(select(Lead.email)).endswith("@anonymised.invalid")
    assert "purged:" in runner.invoke(args=["leads", "purge"]).output
    assert "delivered: 0" in runner.invoke(args=["leads", "deliver-webhooks"]).output


def test_a_file_that_is_not_utf8_is_refused(runner, tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes("email,name\nli@example.cn,李雷\n".encode("gbk"))
    result = runner.invoke(args=["leads", "import", str(path)])
    assert result.exit_code == 1 and "not UTF-8" in result.output
    assert count(Lead) == 0


def test_exported_cells_never_run_as_spreadsheet_formulas(runner, tmp_path):
    path = tmp_path / "evil.csv"
    path.write_text('email,company\nx@example.com,"=HYPERLINK(""http://evil"")"\n', encoding="utf-8")
    assert runner.invoke(args=["leads", "import", str(path)]).exit_code == 0
    rows = list(csv.DictReader(io.StringIO(runner.invoke(args=["leads", "export"]).output)))
    assert rows[0]["company"].startswith("'=")


def test_csv_export_never_writes_a_formula_and_json_keeps_values_exact(runner):
    payload_leads()
    text = runner.invoke(args=["leads", "export"]).output
    assert formula_cells(text) == []
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert {row["first_utm_campaign"] for row in rows} == {"'" + payload for payload in FORMULA_PAYLOADS}
    # JSON is read by programs, not run by spreadsheets: the values as they were stored.
    exported = json.loads(runner.invoke(args=["leads", "export", "--format", "json"]).output)
    assert {row["company"] for row in exported} == set(FORMULA_PAYLOADS)
