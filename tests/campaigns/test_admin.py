"""The segments admin: who may use it, the builder's live count and sample, errors beside
the rules with status 422 and nothing saved, CSRF on every change, and the CSV export
(the segment's members only, formulas neutralised)."""

import csv
import io
import re

import pytest
import yaml

from campaigns.models import Segment
from core.extensions import db
from tests.campaigns.conftest import person
from tests.factories import FORMULA_PAYLOADS, formula_cells, payload_leads

BOSSES = "all:\n  - {field: role, op: eq, value: decision_maker}\n"


@pytest.mark.parametrize("role", ["sales", "editor"])
def test_only_marketers_and_admins(login_as, role):
    client = login_as(role)
    assert client.get("/admin/campaigns/segments/").status_code == 403
    assert client.post("/admin/campaigns/segments/preview", json={"rules": BOSSES}).status_code == 403
    assert (
        client.post("/admin/campaigns/segments/new", data={"slug": "x", "rules": BOSSES}).status_code == 403
    )
    assert db.session.query(Segment).count() == 0


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/admin/campaigns/segments/")
    assert response.status_code == 302 and "login" in response.location


def test_the_preview_counts_and_shows_ten_members(login_as):
    for n in range(12):
        person(f"boss{n:02d}@a.cn", role="decision_maker", company=f"公司{n}")
    person("user@a.cn", role="user")
    response = login_as("marketer").post("/admin/campaigns/segments/preview", json={"rules": BOSSES})
    assert response.status_code == 200
    data = response.get_json()
    assert data["count"] == 12
    assert [row["email"] for row in data["sample"]] == [f"boss{n:02d}@a.cn" for n in range(10)]
    assert data["sample"][0]["company"] == "公司0"


def test_the_preview_names_what_is_wrong(login_as):
    client = login_as("marketer")
    response = client.post(
        "/admin/campaigns/segments/preview", json={"rules": "all:\n  - {field: compnay, op: eq, value: x}\n"}
    )
    assert response.status_code == 422
    [message] = response.get_json()["errors"]
    assert message.startswith("第 2 行：未知字段“compnay”；可用字段：email、name、") and message.endswith(
        "tags 或 topic"
    )
    broken = client.post("/admin/campaigns/segments/preview", json={"rules": "all: [\n"})
    assert broken.status_code == 422 and broken.get_json()["errors"] == ["第 2 行：不是有效的 YAML"]
    assert client.post("/admin/campaigns/segments/preview", data="[]").status_code == 422


def test_saving_a_segment_and_editing_it(login_as):
    client = login_as("marketer")
    response = client.post(
        "/admin/campaigns/segments/new", data={"name": "决策者", "slug": "bosses", "rules": BOSSES}
    )
    assert response.status_code == 302
    segment = db.session.query(Segment).one()
    assert (segment.slug, segment.name, segment.rules) == ("bosses", "决策者", yaml.safe_load(BOSSES))
    page = client.get(response.location + "&lang=zh_CN").get_data(as_text=True)
    assert "decision_maker" in page and "决策者" in page
    listing = client.get("/admin/campaigns/segments/").get_data(as_text=True)
    assert "bosses" in listing


def test_bad_rules_come_back_beside_the_field_and_nothing_is_saved(login_as):
    client = login_as("marketer")
    response = client.post(
        "/admin/campaigns/segments/new?lang=en",
        data={"name": "坏", "slug": "bad", "rules": "all:\n  - {event: downloaded}\n"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    error = re.search(r'<p class="error" id="rules-error">(.*?)</p>', page, re.S)
    assert error and error.group(1).startswith("Line 2: unknown event “downloaded”")
    assert "bad" in page  # what was typed is kept
    assert db.session.query(Segment).count() == 0


def test_a_slug_taken_by_another_segment_is_refused(login_as):
    client = login_as("marketer")
    client.post("/admin/campaigns/segments/new", data={"name": "一", "slug": "one", "rules": BOSSES})
    second = client.post("/admin/campaigns/segments/new", data={"name": "二", "slug": "two", "rules": BOSSES})
    response = client.post(second.location.split("?")[0], data={"name": "二", "slug": "one", "rules": BOSSES})
    assert response.status_code == 422
    assert {s.slug for s in db.session.query(Segment)} == {"one", "two"}


def test_csrf_is_required(make_app, login_as):
    strict = make_app(WTF_CSRF_ENABLED=True)
    with strict.app_context():
        client = login_as("marketer", client=strict.test_client())
        assert client.post("/admin/campaigns/segments/preview", json={"rules": BOSSES}).status_code == 400
        saved = client.post("/admin/campaigns/segments/new", data={"name": "x", "slug": "x", "rules": BOSSES})
        assert saved.status_code in (400, 422)
        assert db.session.query(Segment).count() == 0
        page = client.get("/admin/campaigns/segments/new").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        answered = client.post(
            "/admin/campaigns/segments/preview", json={"rules": BOSSES}, headers={"X-CSRFToken": token}
        )
        assert answered.status_code == 200


def test_the_csv_export_holds_the_members_only(login_as):
    person("boss@a.cn", role="decision_maker", company="=HYPERLINK(1)")
    person("user@a.cn", role="user")
    client = login_as("marketer")
    client.post("/admin/campaigns/segments/new", data={"name": "决策者", "slug": "bosses", "rules": BOSSES})
    segment = db.session.query(Segment).one()
    response = client.get(f"/admin/campaigns/segments/{segment.id}/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [row["email"] for row in rows] == ["boss@a.cn"]
    assert rows[0]["company"] == "'=HYPERLINK(1)"


def test_the_builder_speaks_chinese(login_as):
    client = login_as("marketer")
    page = client.get("/admin/campaigns/segments/new?lang=zh_CN").get_data(as_text=True)
    assert "新建分群" in page and "规则" in page and "当前成员" in page
    response = client.post(
        "/admin/campaigns/segments/new?lang=zh_CN",
        data={"name": "坏", "slug": "bad", "rules": "all:\n  - {event: downloaded}\n"},
    )
    assert response.status_code == 422
    error = re.search(r'<p class="error" id="rules-error">(.*?)</p>', response.get_data(as_text=True), re.S)
    assert error.group(1).startswith("第 2 行：未知行为“downloaded”；可用行为：download、page_view、")
    assert "all[0]" not in response.get_data(as_text=True)


def test_the_csv_export_never_writes_a_formula(login_as):
    payload_leads()
    client = login_as("marketer")
    everyone = "all:\n  - {field: email, op: contains, value: payload}\n"
    client.post("/admin/campaigns/segments/new", data={"name": "全部", "slug": "everyone", "rules": everyone})
    segment = db.session.query(Segment).one()
    text = client.get(f"/admin/campaigns/segments/{segment.id}/export.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline="")))
    assert {row["company"] for row in rows} == {"'" + payload for payload in FORMULA_PAYLOADS}
    assert formula_cells(text) == []


def test_a_segment_named_in_chinese_without_a_slug_gets_one_in_pinyin(login_as):
    client = login_as("marketer")
    saved = client.post(
        "/admin/campaigns/segments/new", data={"name": "制造业决策者", "slug": "", "rules": BOSSES}
    )
    assert saved.status_code == 302
    assert db.session.scalars(db.select(Segment.slug)).one() == "zhizaoye-juecezhe"
    # Neither a name nor a slug: asked for, not told about characters.
    refused = client.post(
        "/admin/campaigns/segments/new?lang=zh_CN", data={"name": "", "slug": "", "rules": BOSSES}
    )
    assert refused.status_code == 422
    error = re.search(r'<p class="error" id="slug-error">(.*?)</p>', refused.get_data(as_text=True), re.S)
    assert error and "请填写名称或网址别名" in error.group(1)


NESTED = """\
all:
  - field: role
    op: eq
    value: decision_maker
  - any:
      - {field: score, op: gte, value: 50}
      - event: download
        within: soon
"""


@pytest.mark.parametrize(
    ("where", "line"),
    [
        ("", 1),
        ("all", 2),
        ("all[0].op", 3),
        ("all[1].any[0]", 6),
        ("all[1].any[1].within", 8),
        ("all[1].any[1].asset", 7),  # a key the text lacks: the condition's own line
        ("all[9].field", 2),
    ],
)
def test_a_problem_is_placed_on_the_line_it_concerns(where, line):
    from campaigns.admin import line_of

    assert line_of(NESTED, where) == line


def test_every_problem_of_a_saved_form_is_listed_by_line_in_chinese(login_as):
    rules = NESTED.replace("op: eq", "op: bigger")
    response = login_as("marketer").post(
        "/admin/campaigns/segments/new?lang=zh_CN", data={"name": "坏", "slug": "bad", "rules": rules}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    found = re.search(r'<ul class="error" id="rules-error">(.*?)</ul>', page, re.S)
    items = re.findall(r"<li>(.*?)</li>", found.group(1))
    assert items == [
        "第 3 行：role 可用的比较：eq、ne、contains、in 或 exists",
        "第 8 行：应为时长，例如 30d、12h 或 2w",
    ]
    assert len(items) == 2 and 'aria-describedby="rules-help rules-error"' in page
    assert db.session.query(Segment).count() == 0


def test_bad_rules_and_a_missing_name_are_named_together(login_as):
    response = login_as("marketer").post(
        "/admin/campaigns/segments/new?lang=zh_CN",
        data={"name": "", "slug": "", "rules": "all:\n  - {event: x}\n"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="slug-error"' in page
    assert re.search(r'<p class="error" id="rules-error">第 2 行：未知行为“x”', page)
    assert db.session.query(Segment).count() == 0


@pytest.mark.parametrize("day", ["2026-11-31", "2026-13-01"])
def test_an_impossible_date_is_named_beside_the_rules_not_a_500(login_as, day):
    client = login_as("marketer")
    rules = f"all:\n  - {{field: created, op: gte, value: {day}}}\n"
    preview = client.post("/admin/campaigns/segments/preview", json={"rules": rules})
    assert preview.status_code == 422
    assert preview.get_json()["errors"] == ["第 2 行：应为日期（2026-11-01）或距今时长（30d、12h、2w）"]
    saved = client.post(
        "/admin/campaigns/segments/new", data={"name": "近期新线索", "slug": "", "rules": rules}
    )
    assert saved.status_code == 422
    page = saved.get_data(as_text=True)
    assert "近期新线索" in page and day in page and 'id="rules-error">第 2 行：' in page
    assert db.session.query(Segment).count() == 0


def test_a_real_date_still_counts(login_as):
    person("new@a.cn", role="user")
    rules = "all:\n  - {field: created, op: gte, value: 2020-01-01}\n"
    shown = login_as("marketer").post("/admin/campaigns/segments/preview", json={"rules": rules})
    assert shown.status_code == 200 and shown.get_json()["count"] == 1


def test_the_screen_names_an_asset_or_a_mail_that_does_not_exist(login_as):
    client = login_as("marketer")
    rules = "all:\n  - {field: stage, op: eq, value: 已认定}\n  - {event: download, asset: no-such-paper}\n  - {event: mail_open, mail: no-such-mail}\n"
    response = client.post("/admin/campaigns/segments/preview?lang=zh_CN", json={"rules": rules})
    assert response.status_code == 422
    assert response.get_json()["errors"] == [
        "第 2 行：未知的 stage“已认定”；可选：new（新线索）、engaged（已互动）、市场认可线索（MQL）、"
        "销售认可线索（SQL）、customer（客户）或 lost（已流失）",
        "第 3 行：没有别名为“no-such-paper”的资料",
        "第 4 行：没有别名为“no-such-mail”的培育序列或营销活动",
    ]
