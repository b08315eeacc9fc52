"""Triggers (download, form, import, manual) and exits (stage, erase, unsubscribe,
manual removal), through gated's signals as gated sends them."""

import pytest
from flask import current_app
from sqlalchemy import select

from core.extensions import db
from gated import signals
from nurture import enrolment, exits, mailqueue, suppression
from nurture.models import Enrollment, Message, Suppression, email_hash
from tests.factories import make_whitepaper
from tests.nurture.conftest import MONDAY_10_SHANGHAI, TEST_MAIL, make_lead, make_sequence

pytestmark = pytest.mark.usefixtures("app")


def capture(lead, *, asset=None, form="whitepaper", consent=True, sequence=None):
    """What gated sends inside its transaction, then gated's commit."""
    signals.lead_captured.send(
        current_app._get_current_object(), lead_id=lead.id, submission_id=None,
        asset_id=asset.id if asset else None, form=form, marketing_consent=consent, sequence=sequence,
    )  # fmt: skip
    db.session.commit()


def enrollments(lead):
    return db.session.scalars(select(Enrollment).where(Enrollment.lead_id == lead.id)).all()


def test_a_download_enrolls_by_asset_trigger():
    sequence = make_sequence(trigger={"asset": "saas-renewal"})
    _, asset = make_whitepaper(sequence_slug="")
    lead = make_lead()
    capture(lead, asset=asset)
    [enrollment] = enrollments(lead)
    assert enrollment.sequence_id == sequence.id
    assert enrollment.asset_id == asset.id
    assert enrollment.next_send_at is not None


def test_a_download_enrolls_into_the_sequence_the_white_paper_names():
    sequence = make_sequence(slug="whitepaper-followup")
    _, asset = make_whitepaper(sequence_slug="whitepaper-followup")
    lead = make_lead()
    capture(lead, asset=asset)
    assert [e.sequence_id for e in enrollments(lead)] == [sequence.id]


def test_a_form_enrolls_by_form_trigger():
    make_sequence(trigger={"form": "newsletter"})
    lead = make_lead()
    capture(lead, form="demo")
    assert enrollments(lead) == []
    capture(lead, form="newsletter")
    assert len(enrollments(lead)) == 1


def test_an_import_with_a_sequence_enrolls():
    sequence = make_sequence(slug="imported")
    lead = make_lead()
    capture(lead, form="import", sequence="imported")
    assert [e.sequence_id for e in enrollments(lead)] == [sequence.id]


def test_no_consent_no_enrollment():
    make_sequence(trigger={"form": "whitepaper"})
    lead = make_lead(consent=False)
    capture(lead, consent=False)
    assert enrollments(lead) == []


def test_draft_and_archived_sequences_enroll_nobody():
    make_sequence(trigger={"form": "whitepaper"}, status="draft")
    make_sequence(slug="old", trigger={"form": "whitepaper"}, status="archived")
    lead = make_lead()
    capture(lead)
    assert enrollments(lead) == []


def test_a_lead_is_enrolled_once_unless_reenrolled_deliberately():
    sequence = make_sequence(trigger={"form": "whitepaper"})
    lead = make_lead()
    capture(lead)
    capture(lead)
    [enrollment] = enrollments(lead)
    assert enrollment.round == 1
    assert enrolment.enroll([lead.id], sequence.id, now=MONDAY_10_SHANGHAI) == 0
    assert enrolment.enroll([lead.id], sequence.id, now=MONDAY_10_SHANGHAI, reenroll=True) == 1
    db.session.refresh(enrollment)
    assert (enrollment.round, enrollment.position, enrollment.status) == (2, 0, "active")


def test_manual_enrollment_of_a_list_skips_the_suppressed():
    sequence = make_sequence()
    leads = [make_lead(f"p{i}@example.com") for i in range(3)]
    suppression.suppress("P1@example.com ", "manual", now=MONDAY_10_SHANGHAI)
    assert enrolment.enroll([lead.id for lead in leads], sequence.id, now=MONDAY_10_SHANGHAI) == 2


def test_manual_enrollment_of_a_list_skips_leads_without_consent_to_marketing_mail():
    """Nurture is marketing mail: a pasted list enrolls only those who agreed to it,
    like every trigger and the lead admin."""
    sequence = make_sequence()
    agreed, did_not = make_lead("agreed@example.com"), make_lead("no@example.com", consent=False)
    assert enrolment.enroll([agreed.id, did_not.id], sequence.id, now=MONDAY_10_SHANGHAI) == 1
    assert enrolment.enrollment_refusal(did_not, sequence) == "consent"
    assert [e.lead_id for e in Enrollment.query.all()] == [agreed.id]


def test_stage_sql_or_customer_exits():
    sequence = make_sequence()
    lead = make_lead()
    enrolment.enroll([lead.id], sequence.id, now=MONDAY_10_SHANGHAI)
    signals.lead_stage_changed.send(current_app._get_current_object(), lead_id=lead.id, old="new", new="mql")
    db.session.commit()
    assert enrollments(lead)[0].status == "active"
    signals.lead_stage_changed.send(current_app._get_current_object(), lead_id=lead.id, old="mql", new="sql")
    db.session.commit()
    [enrollment] = enrollments(lead)
    assert (enrollment.status, enrollment.exit_reason, enrollment.next_send_at) == ("exited", "stage", None)


@pytest.mark.parametrize("stage", ["sql", "customer"])
def test_a_lead_with_sales_or_a_customer_is_never_enrolled_manually(stage):
    sequence = make_sequence()
    handed = make_lead("sales@example.com", stage=stage)
    nurtured = make_lead("mql@example.com", stage="mql")
    assert enrolment.enrollment_refusal(handed, sequence) == "stage"
    assert enrolment.enrollment_refusal(nurtured, sequence) is None
    assert enrolment.enroll([handed.id, nurtured.id], sequence.id, now=MONDAY_10_SHANGHAI) == 1
    assert enrolment.enroll_listed("sales@example.com", sequence.id, now=MONDAY_10_SHANGHAI) == (0, [])
    assert enrollments(handed) == [] and len(enrollments(nurtured)) == 1


@pytest.mark.parametrize("stage", ["sql", "customer"])
def test_a_lead_with_sales_or_a_customer_is_never_enrolled_by_a_trigger(stage, caplog):
    make_sequence(slug="by-asset", trigger={"asset": "saas-renewal"})
    make_sequence(slug="by-form", trigger={"form": "newsletter"})
    make_sequence(slug="imported")
    _, asset = make_whitepaper(sequence_slug="")
    lead = make_lead(stage=stage)
    with caplog.at_level("INFO"):
        capture(lead, asset=asset)
        capture(lead, form="newsletter")
        capture(lead, form="import", sequence="imported")
    assert enrollments(lead) == []
    refused = [record.getMessage() for record in caplog.records if "not enrolled" in record.getMessage()]
    assert [message.split(" in ")[1].split(":")[0] for message in refused] == [
        "by-asset",
        "by-form",
        "imported",
    ]
    assert all(message.endswith(": stage") for message in refused)


def test_manual_removal_exits_one_sequence():
    first, second = make_sequence(slug="a"), make_sequence(slug="b")
    lead = make_lead()
    enrolment.enroll([lead.id], first.id, now=MONDAY_10_SHANGHAI)
    enrolment.enroll([lead.id], second.id, now=MONDAY_10_SHANGHAI)
    exits.exit_lead(lead.id, "removed", now=MONDAY_10_SHANGHAI, sequence_id=first.id)
    statuses = {e.sequence_id: e.status for e in enrollments(lead)}
    assert statuses == {first.id: "exited", second.id: "active"}


def test_erasure_forgets_the_person_but_keeps_a_suppression_hash():
    sequence = make_sequence()
    lead = make_lead("Erase.Me@example.com")
    enrolment.enroll([lead.id], sequence.id, now=MONDAY_10_SHANGHAI)
    mailqueue.add_mail(to=lead.email, template=TEST_MAIL, context={}, lead_id=lead.id, now=MONDAY_10_SHANGHAI)
    db.session.commit()
    signals.lead_erased.send(current_app._get_current_object(), lead_id=lead.id, email="erase.me@example.com")
    db.session.delete(lead)
    db.session.commit()
    assert Enrollment.query.count() == 0
    assert Message.query.count() == 0
    [suppression] = Suppression.query.all()
    assert suppression.email_hash == email_hash("erase.me@example.com")
    assert suppression.reason == "erased"
    assert "erase" not in (suppression.detail or "")
    # Coming back with the same address: never mailed again.
    again = make_lead("erase.me@example.com")
    assert enrolment.enroll([again.id], sequence.id, now=MONDAY_10_SHANGHAI) == 0


def test_mail_requested_queues_a_transactional_message():
    lead = make_lead()
    signals.mail_requested.send(
        current_app._get_current_object(), lead_id=lead.id, template="gated/email/download_link",
        context={"download_url": "http://localhost/download/x", "asset_title": "白皮书"},
    )  # fmt: skip
    db.session.commit()
    [message] = Message.query.all()
    assert (message.kind, message.status, message.priority, message.to_address) == (
        "transactional",
        "queued",
        0,
        lead.email,
    )


def test_a_rolled_back_submission_leaves_no_mail_and_no_enrollment():
    make_sequence(trigger={"form": "whitepaper"})
    lead = make_lead()
    signals.lead_captured.send(
        current_app._get_current_object(), lead_id=lead.id, submission_id=None, asset_id=None,
        form="whitepaper", marketing_consent=True,
    )  # fmt: skip
    signals.mail_requested.send(
        current_app._get_current_object(), lead_id=lead.id, template=TEST_MAIL, context={}
    )
    db.session.rollback()
    assert Enrollment.query.count() == 0
    assert Message.query.count() == 0


def test_an_enrollment_made_by_another_request_meanwhile_is_no_error(monkeypatch):
    """A double click on "Enroll", or a download enrolling the lead while a marketer
    does: the other request's enrollment appears after this one looked for it; the
    INSERT then does nothing, and nobody gets an error page."""
    from nurture import scheduling

    sequence, lead = make_sequence(), make_lead("twice@example.com")
    real_due_at = scheduling.due_at

    def due_at_while_another_request_enrolls(*args, **kwargs):
        with db.engine.begin() as connection:  # the other request, committed meanwhile
            connection.execute(
                Enrollment.__table__.insert().values(
                    lead_id=lead.id,
                    sequence_id=sequence.id,
                    enrolled_at=MONDAY_10_SHANGHAI,
                    source="download",
                )
            )
        return real_due_at(*args, **kwargs)

    monkeypatch.setattr(scheduling, "due_at", due_at_while_another_request_enrolls)
    assert enrolment.enroll([lead.id], sequence.id, now=MONDAY_10_SHANGHAI) == 0
    assert [(e.lead_id, e.source) for e in Enrollment.query.all()] == [(lead.id, "download")]
