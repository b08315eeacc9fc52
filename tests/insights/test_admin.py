"""The dashboard page and its CSV exports: roles, filters, what the tables say."""

import csv
import io

import pytest

from tests.factories import FORMULA_PAYLOADS, formula_cells
from tests.insights.conftest import known_data_set


@pytest.mark.parametrize(
    ("role", "status"), [("marketer", 200), ("admin", 200), ("sales", 403), ("editor", 403)]
)
def test_only_marketers_and_admins_see_the_dashboard(app, login_as, role, status):
    assert login_as(role).get("/admin/insights/").status_code == status
    assert login_as(role).get("/admin/insights/channels.csv").status_code == status


def test_anonymous_visitors_are_sent_to_sign_in(app, client):
    response = client.get("/admin/insights/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_dashboard_shows_charts_and_tables_for_the_period(app, login_as):
    known_data_set()
    page = login_as("marketer").get("/admin/insights/?since=2026-11-02&until=2026-11-15")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    # The funnel and the channels as bar charts through the shared partial, no hand-drawn SVG.
    assert html.count('class="chart chart-bars"') == 2 and "<svg" not in html
    assert '<tr><th scope="row">访问</th><td class="num">5</td></tr>' in html
    assert "续费指南" in html and "/library/saas-renewal" in html
    assert "50.0%" in html  # a channel's share, a bounce rate
    # The weekly funnel names its weeks as every other date on the page, not in ISO.
    assert ">2026年11月2日<" in html and ">2026年11月9日<" in html and "2026-11-09<" not in html
    assert 'href="/admin/insights/landing.csv?since=2026-11-02&amp;until=2026-11-15"' in html


def test_bad_filters_never_break_the_page(app, login_as):
    staff = login_as("marketer")
    assert staff.get("/admin/insights/?since=x&until=2026-02-31&channel=<b>").status_code == 200
    assert staff.get("/admin/insights/nothing.csv").status_code == 404


def test_every_table_exports_as_csv(app, login_as):
    known_data_set()
    staff = login_as("marketer")
    response = staff.get("/admin/insights/funnel.csv?since=2026-11-02&until=2026-11-15")
    assert response.mimetype == "text/csv"
    assert "insights-funnel-20261102-20261115.csv" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows == [
        ["week", "visits", "form_views", "submissions", "leads", "mql", "sql", "customer"],
        ["2026-11-02", "3", "1", "1", "1", "1", "0", "0"],
        ["2026-11-09", "2", "1", "1", "1", "1", "1", "0"],
    ]
    landing = staff.get("/admin/insights/landing.csv?since=2026-11-02&until=2026-11-15").get_data(
        as_text=True
    )
    assert "/help/renewal,续费指南,2,0.5000,1,0.5000" in landing
    for name in ("channels", "content", "searches", "sequences"):
        assert staff.get(f"/admin/insights/{name}.csv").status_code == 200


def test_the_lead_timeline_names_events_and_stages_in_words(app, login_as):
    from core.extensions import db
    from gated.models import Lead
    from insights.events import record

    lead = Lead(email="wang@example.cn")
    db.session.add(lead)
    db.session.commit()
    record("page_view", lead_id=lead.id, path="/library/saas-renewal")
    record("stage_change", lead_id=lead.id, value="mql>engaged")
    db.session.commit()
    page = login_as("sales").get(f"/admin/leads/{lead.id}?lang=zh_CN").get_data(as_text=True)
    assert ">页面浏览</span>" in page and ">阶段变更</span>" in page
    assert "阶段：市场认可线索（MQL） → 已互动" in page
    assert ">page_view<" not in page and ">stage_change<" not in page and "mql → engaged" not in page


def test_csv_exports_never_write_a_formula(app, login_as):
    from content.search.models import SearchQuery
    from core.extensions import db
    from core.timeutil import utcnow

    db.session.add_all(
        SearchQuery(query=payload, normalised=payload, results=0, created_at=utcnow())
        for payload in FORMULA_PAYLOADS
    )
    db.session.commit()
    text = login_as("marketer").get("/admin/insights/searches.csv").get_data(as_text=True)
    assert formula_cells(text) == []
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))
    assert {row[0] for row in rows[1:]} == {"'" + payload for payload in FORMULA_PAYLOADS}


def test_the_sequences_table_shows_each_subject_as_the_sample_lead_reads_it(app, login_as):
    from tests.nurture.conftest import make_sequence

    make_sequence(
        steps=[{"delay": "0h", "subject": "{{ lead.first_name or '您好' }}，感谢下载", "body": "正文"}]
    )
    staff = login_as("marketer")
    page = staff.get("/admin/insights/").get_data(as_text=True)
    assert "王小明，感谢下载" in page and "{{ lead" not in page
    assert "王小明，感谢下载" in staff.get("/admin/insights/sequences.csv").get_data(as_text=True)
