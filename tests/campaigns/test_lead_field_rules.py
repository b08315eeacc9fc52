"""Segment rules over a lead's language, time zone, tags and topics: each a condition
evaluated in SQL, and an unknown topic named at its place."""

import pytest

from campaigns import audience
from campaigns.rules import RuleError, clean_rules
from core.extensions import db
from gated import leadfields
from nurture import topics
from tests.campaigns.conftest import NOW, person

pytestmark = pytest.mark.usefixtures("topics")


def emails(rules) -> set[str]:
    return {lead.email for lead in db.session.scalars(audience.members(clean_rules(rules), now=NOW))}


@pytest.fixture
def people(app):
    made = {}
    for email, locale, zone, tags in (
        ("vip@a.cn", "zh-CN", "Asia/Shanghai", ["VIP", "制造业"]),
        ("fair@a.cn", "en", "America/New_York", ["展会"]),
        ("none@a.cn", "", "", []),
    ):
        lead = person(email)
        lead.locale, lead.timezone = locale, zone
        leadfields.set_tags(lead, tags)
        made[email] = lead
    db.session.commit()
    return made


def test_tags(people):
    assert emails({"all": [{"field": "tags", "op": "contains", "value": "vip"}]}) == {"vip@a.cn"}
    assert emails({"all": [{"field": "tags", "op": "in", "value": ["展会", "制造业"]}]}) == {
        "vip@a.cn",
        "fair@a.cn",
    }
    assert emails({"all": [{"field": "tags", "op": "exists", "value": False}]}) == {"none@a.cn"}
    assert emails({"not": [{"field": "tags", "op": "contains", "value": "VIP"}]}) == {
        "fair@a.cn",
        "none@a.cn",
    }


def test_locale_and_timezone(people):
    assert emails({"all": [{"field": "locale", "op": "eq", "value": "EN"}]}) == {"fair@a.cn"}
    assert emails({"all": [{"field": "timezone", "op": "contains", "value": "asia/"}]}) == {"vip@a.cn"}
    assert emails({"all": [{"field": "timezone", "op": "exists", "value": False}]}) == {"none@a.cn"}


def test_topics(people):
    topics.leave(
        people["fair@a.cn"].id, topics.by_slug("events").id, topics.Decision(source="preferences", now=NOW)
    )
    db.session.commit()
    assert emails({"all": [{"field": "topic", "op": "eq", "value": "events"}]}) == {"vip@a.cn", "none@a.cn"}
    assert emails({"all": [{"field": "topic", "op": "ne", "value": "events"}]}) == {"fair@a.cn"}


def test_an_unknown_topic_or_a_wrong_op_is_named(people):
    with pytest.raises(RuleError) as refused:
        clean_rules(
            {
                "all": [
                    {"field": "topic", "op": "eq", "value": "webinars"},
                    {"field": "tags", "op": "gte", "value": "x"},
                ]
            }
        )
    assert refused.value.errors[0].startswith("all[0].value: ") and "“webinars”" in refused.value.errors[0]
    assert (
        refused.value.errors[1].startswith("all[1].op: ")
        and "contains、in 或 exists" in refused.value.errors[1]
    )
