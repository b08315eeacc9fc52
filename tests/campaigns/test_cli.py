"""`flask segments import|export`: upsert by slug, round trip, errors naming the field
with exit 1 and nothing saved."""

import yaml

from campaigns.models import Segment
from core.extensions import db

GOOD = """slug: renewal-readers
name: 续费白皮书读者
rules:
  all:
    - {field: role, op: in, value: [decision_maker, user]}
    - {event: download, asset: renewal-paper, within: 30d}
    - not:
        - {event: mail_open, within: 30d}
"""


def test_import_then_export_round_trips(runner, tmp_path):
    path = tmp_path / "segment.yml"
    path.write_text(GOOD, encoding="utf-8")
    first = runner.invoke(args=["segments", "import", str(path)])
    assert first.exit_code == 0 and "renewal-readers created" in first.output
    again = runner.invoke(args=["segments", "import", str(path)])
    assert "renewal-readers unchanged" in again.output
    exported = runner.invoke(args=["segments", "export", "renewal-readers"])
    assert exported.exit_code == 0
    assert yaml.safe_load(exported.output) == yaml.safe_load(GOOD)
    path.write_text(exported.output, encoding="utf-8")
    assert "unchanged" in runner.invoke(args=["segments", "import", str(path)]).output


def test_an_error_names_the_field_exits_1_and_saves_nothing(runner, tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text(
        GOOD.replace("field: role", "field: rank").replace("mail_open", "mail_opened"), encoding="utf-8"
    )
    good = tmp_path / "good.yml"
    good.write_text(GOOD.replace("renewal-readers", "other"), encoding="utf-8")
    result = runner.invoke(args=["segments", "import", str(bad), str(good)])
    assert result.exit_code == 1
    assert "rules.all[0].field" in result.output and "rank" in result.output
    assert "rules.all[2].not[0].event" in result.output
    assert [s.slug for s in db.session.query(Segment)] == ["other"]


def test_a_broken_file_and_an_unknown_slug(runner, tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("slug: [\n", encoding="utf-8")
    assert runner.invoke(args=["segments", "import", str(broken)]).exit_code == 1
    assert db.session.query(Segment).count() == 0
    missing = runner.invoke(args=["segments", "export", "nope"])
    assert missing.exit_code == 1 and "nope" in missing.output
