"""capture_lead: one lead per normalised email, submissions, consent, attribution, the
signals inside the transaction, double opt-in, stage changes."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from core.extensions import db
from core.timeutil import utcnow
from core.tokens import InvalidToken
from gated import signals, visitor
from gated.capture import RequestMeta, capture_lead
from gated.consent import confirm_lead, consent_text
from gated.models import BlockedSubmission, Consent, Lead, Submission, WebhookDelivery
from gated.stages import change_stage
from gated.validation import InvalidSubmission
from tests.factories import form_data

pytestmark = pytest.mark.usefixtures("app")
META = RequestMeta(
    ip="203.0.113.7",
    user_agent="Mozilla/5.0 test",
    referrer="https://www.baidu.com/s?wd=x",
    landing_page="/library/saas-renewal?utm_source=baidu",
)


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_submission_creates_a_normalised_lead_with_attribution(whitepaper, recorder):
    article, asset = whitepaper
    now = utcnow()
    capture = capture_lead("whitepaper", form_data(), asset=asset, request_meta=META, now=now)
    lead = db.session.get(Lead, capture.lead.id)
    assert capture.created
    assert lead.email == "Wang.Fang@example.com"
    assert (lead.name, lead.company, lead.phone, lead.role) == (
        "王芳",
        "星河软件",
        "+8613800138000",
        "decision_maker",
    )
    assert lead.first_channel == lead.last_channel == "paid_search"
    assert (lead.first_utm_source, lead.first_utm_campaign) == ("baidu", "renewal")
    assert lead.first_referrer == "https://www.baidu.com/s?wd=x"
    assert lead.source == "baidu"
    submission = db.session.get(Submission, capture.submission.id)
    assert submission.asset_id == asset.id and submission.ip == "203.0.113.7"
    assert submission.fields["email"].strip() == "Wang.Fang@Example.COM"
    assert submission.utm == {"utm_source": "baidu", "utm_medium": "cpc", "utm_campaign": "renewal"}
    assert capture.download_url and "/download/" in capture.download_url


def test_the_same_person_twice_is_one_lead_with_two_submissions_and_moving_last_touch(whitepaper):
    _, asset = whitepaper
    now = utcnow()
    first = capture_lead("whitepaper", form_data(), asset=asset, request_meta=META, now=now)
    later = now + timedelta(days=2)
    second = capture_lead(
        "whitepaper",
        form_data(
            email="wang.fang@EXAMPLE.com".replace("wang.fang", "Wang.Fang"),
            utm_source="",
            utm_medium="",
            utm_campaign="",
            job_title="VP Engineering",
        ),
        asset=asset,
        request_meta=RequestMeta(referrer="https://www.zhihu.com/q/1"),
        now=later,
        known_lead_id=first.lead_id,  # their own browser: the new job title replaces the old
    )
    assert first.lead.id == second.lead.id and not second.created
    lead = db.session.get(Lead, first.lead.id)
    assert count(Lead) == 1 and count(Submission) == 2
    assert lead.first_channel == "paid_search" and lead.last_channel == "social"
    assert lead.job_title == "VP Engineering" and lead.stage == "engaged"
    assert lead.last_touch_at == later and lead.first_touch_at == now


def test_invalid_input_stores_nothing_and_names_each_field(whitepaper, recorder):
    _, asset = whitepaper
    with pytest.raises(InvalidSubmission) as caught:
        capture_lead(
            "whitepaper",
            form_data(email="not-an-email", phone="12345"),
            asset=asset,
            request_meta=META,
            now=utcnow(),
        )
    assert set(caught.value.errors) == {"email", "phone"}
    assert count(Lead) == count(Submission) == 0
    assert recorder.calls == []


def test_signals_are_sent_inside_the_transaction_before_commit(whitepaper, recorder, app):
    """The mail is asked for in the same transaction as the lead: nothing touches SMTP,
    and another connection cannot see the lead when the receivers run."""
    _, asset = whitepaper
    seen_from_outside = []

    def look(sender, **payload):
        with db.engine.connect() as other:
            seen_from_outside.append(other.execute(text("SELECT count(*) FROM leads")).scalar())

    signals.lead_captured.connect(look, sender=app, weak=False)
    try:
        capture = capture_lead("whitepaper", form_data(), asset=asset, request_meta=META, now=utcnow())
    finally:
        signals.lead_captured.disconnect(look, sender=app)
    assert seen_from_outside == [0]
    (mail,) = recorder.of("mail_requested")
    assert mail["template"] == "gated/email/download_link" and mail["lead_id"] == capture.lead.id
    assert mail["context"]["download_url"] == capture.download_url
    (captured,) = recorder.of("lead_captured")
    assert captured == {
        "lead_id": capture.lead.id,
        "submission_id": capture.submission.id,
        "asset_id": asset.id,
        "form": "whitepaper",
        "marketing_consent": False,
        "sequence": None,
        "proven": True,  # a new lead: the browser that made it is its person's
    }
    assert all(in_transaction for _, _, in_transaction in recorder.calls)


def test_a_receiver_failing_rolls_everything_back(whitepaper, app):
    _, asset = whitepaper

    def explode(sender, **payload):
        raise RuntimeError("receiver broke")

    signals.mail_requested.connect(explode, sender=app, weak=False)
    try:
        with pytest.raises(RuntimeError):
            capture_lead("whitepaper", form_data(), asset=asset, request_meta=META, now=utcnow())
    finally:
        signals.mail_requested.disconnect(explode, sender=app)
    assert count(Lead) == count(Submission) == 0


def test_marketing_consent_is_recorded_with_its_text_and_passed_to_nurture(whitepaper, recorder):
    _, asset = whitepaper
    now = utcnow()
    capture = capture_lead("whitepaper", form_data(consent="y"), asset=asset, request_meta=META, now=now)
    lead = db.session.get(Lead, capture.lead.id)
    assert lead.marketing_consent and lead.consent_at == now and lead.consent_version == "2026-11-01"
    consent = db.session.scalar(select(Consent))
    assert consent.granted and consent.ip == "203.0.113.7" and consent.user_agent == "Mozilla/5.0 test"
    assert consent.text == consent_text()[1] and consent.submission_id == capture.submission.id
    assert recorder.of("lead_captured")[0]["marketing_consent"] is True


def test_a_returning_lead_keeps_the_consent_it_gave_first(whitepaper):
    _, asset = whitepaper
    first_at = utcnow()
    first = capture_lead("whitepaper", form_data(consent="y"), asset=asset, request_meta=META, now=first_at)
    assert (first.lead_id, first.submission_id) == (first.lead.id, first.submission.id)
    later = first_at + timedelta(days=3)
    second = capture_lead(
        "whitepaper", form_data(consent="y", name="王芳芳"), asset=asset, request_meta=META, now=later
    )
    lead = db.session.get(Lead, second.lead_id)
    assert second.lead_id == first.lead_id and not second.created
    assert lead.consent_at == first_at and lead.created_at == first_at
    assert lead.name == "王芳" and lead.updated_at == later and lead.stage == "engaged"
    assert db.session.get(Submission, second.submission_id).proposed_fields == ["name"]


def test_without_consent_the_file_still_comes_but_no_nurture(whitepaper, recorder):
    _, asset = whitepaper
    capture = capture_lead("whitepaper", form_data(consent=""), asset=asset, request_meta=META, now=utcnow())
    assert capture.download_url
    assert [m["template"] for m in recorder.of("mail_requested")] == ["gated/email/download_link"]
    assert recorder.of("lead_captured")[0]["marketing_consent"] is False
    assert db.session.scalar(select(Consent)).granted is False


def test_consent_can_be_required_by_setting(whitepaper, app):
    _, asset = whitepaper
    app.config["CONSENT_REQUIRED"] = True
    try:
        with pytest.raises(InvalidSubmission) as caught:
            capture_lead("whitepaper", form_data(), asset=asset, request_meta=META, now=utcnow())
    finally:
        app.config["CONSENT_REQUIRED"] = False
    assert set(caught.value.errors) == {"consent"}


def test_double_opt_in_confirms_once_and_then_enrols(whitepaper, recorder, app):
    _, asset = whitepaper
    app.config["DOUBLE_OPT_IN"] = True
    try:
        capture_lead("whitepaper", form_data(consent=""), asset=asset, request_meta=META, now=utcnow())
        assert [m["template"] for m in recorder.of("mail_requested")] == ["gated/email/download_link"]
        capture = capture_lead(
            "whitepaper", form_data(consent="y"), asset=asset, request_meta=META, now=utcnow()
        )
        templates = [m["template"] for m in recorder.of("mail_requested")]
        assert templates[1:] == ["gated/email/download_link", "gated/email/confirm"]
        assert recorder.of("lead_captured")[-1]["marketing_consent"] is False
        confirm_url = recorder.of("mail_requested")[-1]["context"]["confirm_url"]
        confirm_lead(confirm_url.rsplit("/", 1)[1], now=utcnow())
        assert db.session.get(Lead, capture.lead.id).confirmed_at is not None
        assert recorder.of("lead_captured")[-1]["marketing_consent"] is True
        assert recorder.of("lead_captured")[-1]["submission_id"] == capture.submission.id
        # Back again: the file, and no second confirmation.
        capture_lead("whitepaper", form_data(consent="y"), asset=asset, request_meta=META, now=utcnow())
        assert [m["template"] for m in recorder.of("mail_requested")][-1] == "gated/email/download_link"
        assert recorder.of("lead_captured")[-1]["marketing_consent"] is True
    finally:
        app.config["DOUBLE_OPT_IN"] = False


def test_a_tampered_confirm_token_is_refused():
    with pytest.raises(InvalidToken):
        confirm_lead("abc.def", now=utcnow())


def test_demo_requests_need_name_and_company_and_send_an_acknowledgement(recorder):
    with pytest.raises(InvalidSubmission) as caught:
        capture_lead("demo", {"email": "a@b.com", "name": "", "company": ""}, request_meta=META, now=utcnow())
    assert set(caught.value.errors) == {"name", "company"}
    capture = capture_lead(
        "demo",
        {"email": "a@b.com", "name": "A", "company": "B", "message": "预约演示"},
        request_meta=META,
        now=utcnow(),
    )
    assert db.session.get(Submission, capture.submission.id).fields["message"] == "预约演示"
    assert [m["template"] for m in recorder.of("mail_requested")] == ["gated/email/demo_received"]


def test_newsletter_signup_needs_the_consent_box():
    with pytest.raises(InvalidSubmission) as caught:
        capture_lead("newsletter", {"email": "a@b.com"}, request_meta=META, now=utcnow())
    assert set(caught.value.errors) == {"consent"}
    capture = capture_lead(
        "newsletter", {"email": "a@b.com", "consent": "y"}, request_meta=META, now=utcnow()
    )
    assert capture.lead.marketing_consent


def test_a_known_lead_submits_without_typing_the_email_again(whitepaper):
    _, asset = whitepaper
    first = capture_lead("whitepaper", {"email": "a@b.com"}, asset=asset, request_meta=META, now=utcnow())
    again = capture_lead(
        "whitepaper",
        {"company": "新公司"},
        asset=asset,
        request_meta=META,
        now=utcnow(),
        known_lead_id=first.lead.id,
    )
    assert again.lead.id == first.lead.id and db.session.get(Lead, first.lead.id).company == "新公司"
    assert db.session.get(Lead, first.lead.id).missing_fields() == ["name", "job_title", "phone", "role"]


@pytest.mark.parametrize(("data", "reason"), [({"started": "forged"}, "no_start"), ({}, "no_start")])
def test_fill_time_reasons(data, reason):
    assert visitor.fill_time_reason(data, now=utcnow()) == reason


def test_a_form_sent_faster_than_the_minimum_is_too_fast():
    now = utcnow()
    token = visitor.form_start_token(now)
    assert visitor.fill_time_reason({"started": token}, now=now + timedelta(seconds=1)) == "too_fast"
    assert visitor.fill_time_reason({"started": token}, now=now + timedelta(seconds=5)) is None
    visitor.record_blocked("whitepaper", "honeypot", now=now)
    assert count(BlockedSubmission) == 1


def test_stage_change_sends_the_signal_and_queues_the_webhook(app, recorder):
    app.config["LEAD_WEBHOOK_URL"] = "http://127.0.0.1:9/hook"
    try:
        capture = capture_lead(
            "newsletter", {"email": "a@b.com", "consent": "y"}, request_meta=META, now=utcnow()
        )
        change_stage(capture.lead.id, "mql", now=utcnow())
        change_stage(capture.lead.id, "mql", now=utcnow())  # no change, no event
    finally:
        app.config["LEAD_WEBHOOK_URL"] = ""
    assert recorder.of("lead_stage_changed") == [{"lead_id": capture.lead.id, "old": "new", "new": "mql"}]
    events = db.session.scalars(select(WebhookDelivery.event).order_by(WebhookDelivery.id)).all()
    assert events == ["lead.created", "lead.stage_changed"]
    with pytest.raises(ValueError):
        change_stage(capture.lead.id, "vip", now=utcnow())
