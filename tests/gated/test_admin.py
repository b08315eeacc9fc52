"""The lead admin: roles, list and filters, a lead's page and timeline, stage change,
CSV and JSON export, erase with confirmation, bulk erase, anonymise."""

import csv
import io
import re
from datetime import timedelta

import pytest
from flask import current_app
from sqlalchemy import func, select

from core.extensions import db
from core.hooks import add_timeline_provider, hooks
from core.timeutil import utcnow
from gated.capture import RequestMeta, capture_lead
from gated.models import Lead, Submission
from tests.factories import FORMULA_PAYLOADS, form_data, formula_cells, payload_leads

pytestmark = pytest.mark.usefixtures("app")


@pytest.fixture
def leads(whitepaper):
    _, asset = whitepaper
    now = utcnow()
    made = [
        capture_lead(
            "whitepaper", form_data(), asset=asset, request_meta=RequestMeta(ip="1.2.3.4"), now=now
        ).lead.id,
        capture_lead(
            "newsletter",
            {"email": "li@example.cn", "name": "李雷", "consent": "y"},
            request_meta=RequestMeta(referrer="https://www.zhihu.com/q"),
            now=now - timedelta(days=10),
        ).lead.id,
    ]
    return made


def test_only_marketing_sales_and_admin_see_leads(login_as):
    assert login_as("editor").get("/admin/leads/").status_code == 403
    for role in ("marketer", "sales", "admin"):
        assert login_as(role).get("/admin/leads/").status_code == 200
    assert current_app.test_client().get("/admin/leads/").status_code == 302


def test_list_search_and_filters(login_as, leads, whitepaper):
    client = login_as("marketer")
    page = client.get("/admin/leads/").get_data(as_text=True)
    assert "Wang.Fang@example.com" in page and "li@example.cn" in page
    only = lambda query: client.get("/admin/leads/?" + query).get_data(as_text=True)  # noqa: E731
    assert "li@example.cn" not in only("q=wang")
    assert "Wang.Fang" not in only("channel=social")
    assert "li@example.cn" not in only("source=baidu")
    assert "li@example.cn" not in only(f"asset={whitepaper[1].id}")
    assert "li@example.cn" not in only(f"since={(utcnow() - timedelta(days=1)).date()}")
    assert "Wang.Fang" not in only(f"until={(utcnow() - timedelta(days=5)).date()}")
    assert "li@example.cn" in only("stage=new&since=bad-date&asset=x")


def test_csv_export_of_the_filtered_list(login_as, leads):
    response = login_as("sales").get("/admin/leads/export.csv?channel=paid_search")
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [row["email"] for row in rows] == ["Wang.Fang@example.com"]
    assert rows[0]["first_utm_campaign"] == "renewal"


def test_lead_page_shows_each_submissions_values_and_marks_those_not_applied(login_as, whitepaper):
    now = utcnow()
    real = {"email": "li.lei@example.cn", "name": "李雷", "company": "星火科技", "consent": "y"}
    lead_id = capture_lead("newsletter", real, request_meta=RequestMeta(), now=now).lead_id
    capture_lead(
        "demo",
        {
            **real,
            "name": "Hacked Name",
            "company": "Evil Corp",
            "job_title": "CEO",
            "message": "想了解续费预测模块",
        },
        request_meta=RequestMeta(),
        now=now + timedelta(minutes=1),
    )
    page = login_as("sales").get(f"/admin/leads/{lead_id}").get_data(as_text=True)
    assert "<h1>李雷</h1>" in page
    forms = page.split('class="lead-submissions"')[1]
    demo, newsletter = forms.split("</li>")[:2]
    assert "预约演示" in demo and "想了解续费预测模块" in demo
    proposed = "提议值，未采用"
    assert demo.count(proposed) == 2
    assert f'Hacked Name <span class="badge warn">{proposed}' in demo
    assert f'Evil Corp <span class="badge warn">{proposed}' in demo
    assert "CEO" in demo and "CEO <span" not in demo  # was missing: applied
    assert "李雷" in newsletter and proposed not in newsletter


def without_tel_links(html: str) -> str:
    """The page without its tel: links, which dial the stored E.164 number."""
    return re.sub(r'href="tel:[^"]*"', "", html)


def test_staff_screens_write_a_number_as_people_do_and_the_csv_keeps_e164(login_as):
    by_phone = Lead(phone="+8613800138000", company="远景制造")
    both = Lead(email="zhao@acme.cn", name="赵丽", phone="+8613900139000")
    db.session.add_all([by_phone, both])
    db.session.flush()
    db.session.add(Submission(lead_id=by_phone.id, form="demo", fields={"phone": "+8613800138000"}))
    db.session.commit()
    client = login_as("sales")

    page = client.get(f"/admin/leads/{by_phone.id}").get_data(as_text=True)
    assert "<h1>+86 138 0013 8000</h1>" in page and 'href="tel:+8613800138000"' in page
    assert page.count("+86 138 0013 8000") >= 4  # title, heading, contact, the form's value
    assert "+8613800138000" not in without_tel_links(page)
    page = client.get(f"/admin/leads/{both.id}").get_data(as_text=True)
    assert "+86 139 0013 9000" in page and "+8613900139000" not in without_tel_links(page)
    listing = client.get("/admin/leads/").get_data(as_text=True)
    assert ">+86 138 0013 8000</a>" in listing and "+8613800138000" not in listing

    exported = client.get("/admin/leads/export.csv").get_data(as_text=True).lstrip("\ufeff")
    phones = {row["id"]: row["phone"] for row in csv.DictReader(io.StringIO(exported))}
    # E.164, behind the quote that keeps a spreadsheet from reading it as a formula.
    assert phones == {str(by_phone.id): "'+8613800138000", str(both.id): "'+8613900139000"}


def test_lead_page_shows_the_timeline_of_every_package(login_as, leads, app):
    def provider(lead_id):
        return [{"at": utcnow(), "kind": "mail", "label": "邮件", "text": "Opened 白皮书邮件", "url": None}]

    add_timeline_provider(app, provider)
    try:
        page = login_as("sales").get(f"/admin/leads/{leads[0]}").get_data(as_text=True)
    finally:
        hooks(app).timeline_providers.remove(provider)
    assert "Opened 白皮书邮件" in page and "付费搜索" in page and "renewal" in page
    assert page.count('class="event-') == 3  # submission, consent not given, the other package's mail
    assert login_as("sales").get("/admin/leads/99999").status_code == 404


def test_stage_change_json_export_and_anonymise(login_as, leads):
    client = login_as("sales")
    assert client.post(f"/admin/leads/{leads[0]}/stage", data={"stage": "sql"}).status_code == 302
    assert db.session.get(Lead, leads[0]).stage == "sql"
    client.post(f"/admin/leads/{leads[0]}/stage", data={"stage": "bogus"})
    assert db.session.get(Lead, leads[0]).stage == "sql"
    exported = client.get(f"/admin/leads/{leads[0]}/export.json").get_json()
    assert exported["lead"]["email"] == "Wang.Fang@example.com" and len(exported["submissions"]) == 1
    client.post(f"/admin/leads/{leads[0]}/anonymise")
    assert db.session.get(Lead, leads[0]).email.endswith("@anonymised.invalid")


def test_erase_asks_first(login_as, leads):
    client = login_as("marketer")
    assert "Wang.Fang@example.com" in client.get(f"/admin/leads/{leads[0]}/erase").get_data(as_text=True)
    client.post(f"/admin/leads/{leads[0]}/erase")  # no confirmation: nothing happens
    assert db.session.get(Lead, leads[0]) is not None
    assert client.post(f"/admin/leads/{leads[0]}/erase", data={"confirm": "yes"}).status_code == 302
    assert db.session.get(Lead, leads[0]) is None


def test_bulk_erase_of_a_filtered_list(login_as, leads):
    client = login_as("marketer")
    client.post("/admin/leads/erase", data={"confirm": "yes"})  # no filter: refused
    # A number no asset can have is no filter either (it once passed the check and
    # then filtered nothing: every lead).
    for asset in ("0", "00", "99999999999"):
        client.post(f"/admin/leads/erase?asset={asset}", data={"confirm": "yes"})
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 2
    assert client.get("/admin/leads/erase?channel=social").status_code == 200
    client.post("/admin/leads/erase?channel=social", data={"confirm": "yes"})
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 1
    assert login_as("sales").post("/admin/leads/erase", data={"confirm": "yes"}).status_code == 403


def test_csv_export_never_writes_a_formula(login_as):
    payload_leads()
    text = login_as("sales").get("/admin/leads/export.csv").get_data(as_text=True)
    assert formula_cells(text) == []
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline="")))
    assert {row["company"] for row in rows} == {"'" + payload for payload in FORMULA_PAYLOADS}
