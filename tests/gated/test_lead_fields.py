"""A lead's language, time zone and tags: filled from the form's page and an import's
columns, exported, shown and edited on the lead page, and bad input named beside its
field (or by its line) with nothing changed."""

import csv
import io
import re

import pytest
from flask import current_app
from flask_babel import refresh

from core.extensions import db
from core.timeutil import utcnow
from gated.capture import RequestMeta, capture_lead
from gated.listing import export_rows, import_leads, to_csv
from gated.models import Lead, LeadTag

pytestmark = pytest.mark.usefixtures("app")


def captured(email: str, language: str) -> Lead:
    with current_app.test_request_context(headers={"Accept-Language": language}):
        refresh()  # the test's app context keeps the language of the request before
        capture = capture_lead(
            "newsletter", {"email": email, "consent": "y"}, request_meta=RequestMeta(), now=utcnow()
        )
    return db.session.get(Lead, capture.lead_id)


def test_the_form_records_the_language_of_its_page():
    assert captured("en@example.com", "en-US,en;q=0.9").locale == "en"
    assert captured("zh@example.com", "zh-CN,zh;q=0.9").locale == "zh-CN"


CSV = """email,name,locale,timezone,tags
a@example.com,甲,zh_cn,Asia/Shanghai,"VIP，制造业; vip"
b@example.com,乙,EN,America/New_York,
"""


def test_an_import_fills_them_and_the_export_gives_them_back():
    result = import_leads(CSV, now=utcnow())
    assert (result.created, result.errors) == (2, [])
    a = Lead.query.filter_by(email="a@example.com").one()
    assert (a.locale, a.timezone, a.tags) == ("zh-CN", "Asia/Shanghai", ["VIP", "制造业"])
    rows = {row["email"]: row for row in csv.DictReader(io.StringIO(to_csv(export_rows())))}
    assert rows["a@example.com"]["tags"] == "VIP, 制造业"
    assert (rows["b@example.com"]["locale"], rows["b@example.com"]["timezone"]) == ("en", "America/New_York")
    # Importing again adds tags, never takes one away.
    import_leads("email,tags\na@example.com,展会\n", now=utcnow())
    db.session.expire_all()
    assert sorted(Lead.query.filter_by(email="a@example.com").one().tags) == ["VIP", "制造业", "展会"]


def test_a_bad_value_names_its_line_and_nothing_is_imported():
    bad = "email,locale,timezone,tags\nok@example.com,en,,\nx@example.com,fr,Mars/Olympus,\ny@example.com,,,{}\n"
    result = import_leads(bad.format("t" * 61), now=utcnow())
    assert [line for line, _ in result.errors] == [3, 3, 4]
    assert any(message.startswith("timezone:") for _, message in result.errors)
    assert Lead.query.count() == 0 and LeadTag.query.count() == 0


def test_the_lead_page_shows_and_edits_them(login_as):
    lead = captured("a@example.com", "zh-CN")
    client = login_as("marketer")
    saved = client.post(
        f"/admin/leads/{lead.id}/fields",
        data={"locale": "en", "timezone": "Europe/Berlin", "tags": "VIP, 展会"},
    )
    assert saved.status_code == 302
    html = client.get(f"/admin/leads/{lead.id}").get_data(as_text=True)
    assert '<span class="badge">展会</span>' in html and 'value="Europe/Berlin"' in html
    # The zone is chosen by its name in words, not typed as an IANA code.
    assert '<select id="timezone" name="timezone"' in html
    assert re.search(r'<option value="Europe/Berlin" selected>[^<A-Za-z]+</option>', html)
    refused = client.post(
        f"/admin/leads/{lead.id}/fields", data={"locale": "en", "timezone": "Europe/Nowhere", "tags": ""}
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert 'id="timezone-error"' in page and 'value="Europe/Nowhere"' in page  # what was typed stays
    db.session.expire_all()
    lead = db.session.get(Lead, lead.id)
    assert (lead.timezone, lead.tags) == ("Europe/Berlin", ["VIP", "展会"])


def test_only_staff_of_the_lead_roles_edit_them(login_as):
    lead = captured("a@example.com", "zh-CN")
    assert login_as("editor").post(f"/admin/leads/{lead.id}/fields", data={"tags": "x"}).status_code == 403
    assert LeadTag.query.count() == 0


def test_an_access_request_gets_the_tags_too():
    from gated import leadfields, privacy

    lead = captured("a@example.com", "zh-CN")
    leadfields.set_tags(lead, ["VIP"])
    db.session.commit()
    data = privacy.export_person(lead.id)
    assert data["tags"] == ["VIP"] and data["lead"]["locale"] == "zh-CN"
