"""A merge carries consent and attribution by rule (gated.merge_carry), on SQLite and
PostgreSQL: the stricter email consent (a withdrawal holds) else the most recent grant,
the most recent choice per topic, the earlier first touch and the later last touch;
and undo gives each lead back exactly what it had."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.timeutil import utcnow
from gated import merging
from gated.capture import RequestMeta, capture_lead
from gated.merge_carry import CARRIED
from gated.models import Consent, Lead
from nurture.models import Topic, TopicChoice
from tests.factories import form_data

pytestmark = pytest.mark.usefixtures("app")
NOW = utcnow().replace(microsecond=0)


def _capture(at, **fields):
    data = form_data(**fields)
    return capture_lead("whitepaper", data, request_meta=RequestMeta(ip="203.0.113.5"), now=at).lead


def _row(lead_id: int) -> dict:
    db.session.expire_all()
    lead = db.session.get(Lead, lead_id)
    return {c.name: getattr(lead, c.name) for c in Lead.__table__.columns}


@pytest.fixture
def pair():
    """A (email) found through Baidu two days ago, consented then; B (phone) found
    through a WeChat share five days ago, back from a booth QR code half a day ago, and
    consented an hour ago under a newer consent text."""
    a = _capture(NOW - timedelta(days=2), email="li@example.cn", phone=None, consent="y", utm_source="baidu")
    b = _capture(
        NOW - timedelta(days=5), email=None, phone="13900139000", utm_source="wechat", utm_campaign="share"
    )
    _capture(NOW - timedelta(hours=12), email=None, phone="13900139000", utm_source="booth", utm_medium="qr")
    b_lead = db.session.get(Lead, b.id)
    b_lead.marketing_consent, b_lead.consent_version, b_lead.consent_at = True, "v9", NOW - timedelta(hours=1)
    db.session.commit()
    return a.id, b.id


def test_most_recent_grant_earlier_first_touch_later_last_touch_and_exact_undo(pair):
    a_id, b_id = pair
    a_before, b_before = _row(a_id), _row(b_id)
    consents = db.session.scalar(select(func.count()).select_from(Consent))

    log = merging.merge(a_id, b_id, chosen={}, user_id=None, now=NOW)
    merged = _row(a_id)
    assert (merged["email"], merged["phone"]) == ("li@example.cn", "+8613900139000")
    # Consent: both granted, so the most recent grant (B's, text v9) stands.
    assert (merged["marketing_consent"], merged["consent_version"], merged["consent_at"]) == (
        True,
        "v9",
        NOW - timedelta(hours=1),
    )
    # First touch: B's WeChat share five days ago, whole; last touch: B's booth scan.
    assert (merged["first_utm_source"], merged["first_utm_campaign"], merged["first_touch_at"]) == (
        "wechat",
        "share",
        NOW - timedelta(days=5),
    )
    assert merged["first_channel"] == b_before["first_channel"] and merged["source"] == b_before["source"]
    assert (merged["last_utm_source"], merged["last_utm_medium"], merged["last_touch_at"]) == (
        "booth",
        "qr",
        NOW - timedelta(hours=12),
    )
    # Every consent record is kept, now all the survivor's.
    assert (
        db.session.scalar(select(func.count()).select_from(Consent).where(Consent.lead_id == a_id))
        == consents
    )

    merging.undo(log.id, user_id=None, now=NOW + timedelta(minutes=5))
    restored_a, restored_b = _row(a_id), _row(b_id)
    assert {n: restored_a[n] for n in CARRIED} == {n: a_before[n] for n in CARRIED}
    assert restored_b == b_before


def test_a_withdrawal_on_either_lead_holds(pair):
    a_id, b_id = pair
    a = db.session.get(Lead, a_id)
    a.marketing_consent = False  # unsubscribed after consenting (nurture.suppression.unsubscribe)
    db.session.commit()
    merging.merge(a_id, b_id, chosen={}, user_id=None, now=NOW)
    merged = _row(a_id)
    assert merged["marketing_consent"] is False  # B's later grant does not undo A's withdrawal

    # The other way round: the merged lead withdrew, the survivor still consents.
    c = _capture(NOW - timedelta(days=1), email="c@example.cn", phone=None, consent="y")
    d = _capture(NOW - timedelta(days=3), email="d@example.cn", phone=None, consent="y")
    d_lead = db.session.get(Lead, d.id)
    d_lead.marketing_consent = False
    db.session.commit()
    merging.merge(c.id, d.id, chosen={}, user_id=None, now=NOW)
    assert _row(c.id)["marketing_consent"] is False


def test_the_double_opt_in_goes_with_the_address_kept(pair):
    a_id, b_id = pair
    b = db.session.get(Lead, b_id)
    b.email, b.confirmed_at = "li.work@example.cn", NOW - timedelta(days=4)
    db.session.commit()
    log = merging.merge(a_id, b_id, chosen={"email": "b"}, user_id=None, now=NOW)
    assert _row(a_id)["confirmed_at"] == NOW - timedelta(days=4)
    merging.undo(log.id, user_id=None, now=NOW)
    assert _row(a_id)["confirmed_at"] is None
    merging.merge(a_id, b_id, chosen={"email": "a"}, user_id=None, now=NOW)
    assert _row(a_id)["confirmed_at"] is None  # B's confirmation proved an address not kept


def test_the_most_recent_choice_per_topic_wins_and_undo_restores_both(pair):
    a_id, b_id = pair
    events, product = Topic(slug="events", name="活动"), Topic(slug="product", name="产品")
    db.session.add_all([events, product])
    db.session.flush()

    def choice(lead_id, topic, subscribed, days_ago):
        row = TopicChoice(
            lead_id=lead_id,
            topic_id=topic.id,
            subscribed=subscribed,
            source="preferences",
            changed_at=NOW - timedelta(days=days_ago),
        )
        db.session.add(row)
        return row

    a_events, b_events = choice(a_id, events, False, 3), choice(b_id, events, True, 1)
    a_product, b_product = choice(a_id, product, True, 1), choice(b_id, product, False, 2)
    db.session.commit()
    ids = {
        "a_events": a_events.id,
        "b_events": b_events.id,
        "a_product": a_product.id,
        "b_product": b_product.id,
    }

    log = merging.merge(a_id, b_id, chosen={}, user_id=None, now=NOW)
    kept = {
        (row.topic_id, row.id, row.subscribed)
        for row in db.session.scalars(select(TopicChoice).where(TopicChoice.lead_id == a_id))
    }
    # Events: B re-joined a day ago, after A left; product: A's later choice stands.
    assert kept == {(events.id, ids["b_events"], True), (product.id, ids["a_product"], True)}

    merging.undo(log.id, user_id=None, now=NOW)
    db.session.expire_all()
    back = {(row.id, row.lead_id, row.subscribed) for row in db.session.scalars(select(TopicChoice))}
    assert back == {
        (ids["a_events"], a_id, False),
        (ids["b_events"], b_id, True),
        (ids["a_product"], a_id, True),
        (ids["b_product"], b_id, False),
    }


def test_undo_keeps_a_last_touch_made_after_the_merge(pair):
    a_id, b_id = pair
    db.session.get(Lead, a_id).stage = "engaged"  # so the later visit changes no chosen field
    db.session.commit()
    a_before = _row(a_id)
    log = merging.merge(a_id, b_id, chosen={}, user_id=None, now=NOW)
    _capture(NOW + timedelta(hours=1), email="li@example.cn", phone=None, utm_source="newsletter")
    merging.undo(log.id, user_id=None, now=NOW + timedelta(hours=2))
    after = _row(a_id)
    assert (after["last_utm_source"], after["last_touch_at"]) == ("newsletter", NOW + timedelta(hours=1))
    assert (after["first_utm_source"], after["consent_version"]) == (
        a_before["first_utm_source"],
        a_before["consent_version"],
    )
