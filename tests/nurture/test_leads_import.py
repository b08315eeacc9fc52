"""`flask leads import FILE --sequence SLUG` end to end through the real CLI: the
enrollment rows it makes, and the leads it must leave out."""

import pytest

from core.extensions import db
from gated.models import Lead
from nurture import enrolment, suppression
from nurture.models import Enrollment
from tests.nurture.conftest import MONDAY_10_SHANGHAI, make_lead, make_sequence

pytestmark = pytest.mark.usefixtures("app")

CSV = """email,name,company,stage,consent
new@example.com,新客户,甲公司,,yes
Mixed.Case@Example.com,大小写,乙公司,mql,yes
suppressed@example.com,退订过,丙公司,,yes
customer@example.com,老客户,丁公司,customer,yes
sql@example.com,销售跟进,戊公司,sql,yes
noconsent@example.com,没同意,己公司,,no
already@example.com,已在序列,庚公司,mql,yes
"""


def enrolled_emails(sequence_id):
    return sorted(
        lead.email
        for lead in db.session.scalars(
            db.select(Lead)
            .join(Enrollment, Enrollment.lead_id == Lead.id)
            .where(Enrollment.sequence_id == sequence_id)
        )
    )


def test_import_with_a_sequence_enrolls_the_leads_it_may(runner, tmp_path):
    sequence = make_sequence(slug="imported")
    suppression.suppress("suppressed@example.com", "unsubscribed", now=MONDAY_10_SHANGHAI)
    already = make_lead("already@example.com", stage="mql")
    enrolment.enroll([already.id], sequence.id, now=MONDAY_10_SHANGHAI)
    path = tmp_path / "leads.csv"
    path.write_text(CSV, encoding="utf-8")

    result = runner.invoke(args=["leads", "import", str(path), "--sequence", "imported"])
    assert result.exit_code == 0, result.output
    assert "created: 6  updated: 1" in result.output
    assert "1 leads have no marketing consent" in result.output
    db.session.expire_all()
    # gated keeps the local part as typed (only the domain is lowercased).
    assert enrolled_emails(sequence.id) == [
        "Mixed.Case@example.com",
        "already@example.com",
        "new@example.com",
    ]
    enrollments = {e.lead.email: e for e in Enrollment.query.all()}
    assert enrollments["new@example.com"].status == "active"
    assert enrollments["new@example.com"].next_send_at is not None
    assert enrollments["new@example.com"].source == "import"
    assert enrollments["already@example.com"].round == 1  # not started over by the import

    # Running the same file again changes nothing.
    again = runner.invoke(args=["leads", "import", str(path), "--sequence", "imported"])
    assert again.exit_code == 0 and "created: 0  updated: 7" in again.output
    assert Enrollment.query.count() == 3


def test_an_import_that_hands_an_enrolled_lead_to_sales_ends_its_enrollment(runner, tmp_path):
    sequence = make_sequence(slug="imported")
    lead = make_lead("won@example.com", stage="mql")
    enrolment.enroll([lead.id], sequence.id, now=MONDAY_10_SHANGHAI)
    path = tmp_path / "won.csv"
    path.write_text("email,stage,consent\nwon@example.com,customer,yes\n", encoding="utf-8")
    result = runner.invoke(args=["leads", "import", str(path), "--sequence", "imported"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    enrollment = Enrollment.query.one()
    assert (enrollment.status, enrollment.exit_reason) == ("exited", "stage")


def test_import_with_an_unknown_sequence_imports_the_leads_and_enrolls_nobody(runner, tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("email,consent\none@example.com,yes\n", encoding="utf-8")
    result = runner.invoke(args=["leads", "import", str(path), "--sequence", "no-such-sequence"])
    assert result.exit_code == 0, result.output
    assert Lead.query.count() == 1 and Enrollment.query.count() == 0
