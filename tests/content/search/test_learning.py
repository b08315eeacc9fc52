"""Synonyms learned from use: pairs proposed from real logged searches and clicks (the
same article opened from two searches; a search that found nothing rephrased in the same
visit), shown to editors with their evidence, accepted (the pair joins the synonyms and
search uses it at once) or rejected (never proposed again)."""

import pytest
from sqlalchemy import select

from content.search import learning
from content.search.models import Synonym, SynonymProposal
from content.search.state import state
from content.search.synonyms import propose_synonyms, propose_synonyms_job, save_synonym
from core.extensions import db
from core.timeutil import utcnow


@pytest.fixture
def health(publish):
    return publish("客户健康度评分", "健康度评分下降时触发流失预警，客户成功团队跟进。", slug="health")


def search_and_open(client, text, slug):
    """A visitor's search on /api/search, then a click on the result `slug`."""
    results = client.get("/api/search", query_string={"q": text}).get_json()["results"]
    token = next(row["click"] for row in results if row["slug"] == slug)
    assert client.post("/api/search/click", data={"token": token}).status_code == 200


def pending_pairs():
    return {(row.first, row.second): row for row in learning.pending()}


def test_two_searches_that_open_the_same_article_are_proposed(client, health):
    search_and_open(client, "健康度评分", "health")
    search_and_open(client, "流失预警", "health")
    search_and_open(client, "流失预警", "health")
    assert propose_synonyms(now=utcnow()) == 1
    row = pending_pairs()[("健康度评分", "流失预警")]
    assert row.evidence == [{"kind": "same-click", "article_id": health.id, "count": 1}]


def test_a_search_that_found_nothing_rephrased_in_the_visit_is_proposed(client, health):
    assert client.get("/api/search", query_string={"q": "掉队提醒"}).get_json()["total"] == 0
    search_and_open(client, "健康度评分", "health")
    propose_synonyms(now=utcnow())
    row = pending_pairs()[("健康度评分", "掉队提醒")]
    assert row.evidence == [{"kind": "rephrased", "article_id": health.id, "count": 1}]


def test_another_visitor_rephrasing_is_no_evidence(client, health):
    assert client.get("/api/search?q=掉队提醒", headers={"User-Agent": "one"}).status_code == 200
    results = client.get("/api/search?q=健康度评分", headers={"User-Agent": "two"}).get_json()["results"]
    client.post("/api/search/click", data={"token": results[0]["click"]}, headers={"User-Agent": "two"})
    propose_synonyms(now=utcnow())
    assert pending_pairs() == {}


def test_refinements_and_known_synonyms_are_not_proposed(client, health):
    search_and_open(client, "健康度", "health")
    search_and_open(client, "健康度评分", "health")
    save_synonym(None, "流失预警 = 健康度", now=utcnow())
    search_and_open(client, "流失预警", "health")
    propose_synonyms(now=utcnow())
    assert set(pending_pairs()) == {("健康度评分", "流失预警")}


def test_an_editor_accepts_a_suggestion_and_search_uses_it(client, login_as, health):
    assert client.get("/api/search", query_string={"q": "掉队提醒"}).get_json()["total"] == 0
    search_and_open(client, "健康度评分", "health")
    editor = login_as("editor")
    assert editor.post("/admin/search/suggestions/refresh").status_code == 302
    html = editor.get("/admin/search/suggestions").get_data(as_text=True)
    assert "掉队提醒" in html and "客户健康度评分" in html
    row = pending_pairs()[("健康度评分", "掉队提醒")]
    assert editor.post(f"/admin/search/suggestions/{row.id}/accept").status_code == 303
    decided = db.session.get(SynonymProposal, row.id)
    assert (decided.status, decided.decided_by_id) == ("accepted", editor.user.id)
    group = db.session.scalars(select(Synonym).where(Synonym.origin == "learned")).one()
    assert set(group.terms) == {"健康度评分", "掉队提醒"}
    slugs = [
        r["slug"] for r in client.get("/api/search", query_string={"q": "掉队提醒"}).get_json()["results"]
    ]
    assert slugs == ["health"]
    # Decided once: a second click changes nothing.
    assert editor.post(f"/admin/search/suggestions/{row.id}/reject").status_code == 303
    assert db.session.get(SynonymProposal, row.id).status == "accepted"


def test_a_rejected_pair_is_never_proposed_again(client, login_as, health):
    search_and_open(client, "健康度评分", "health")
    search_and_open(client, "流失预警", "health")
    propose_synonyms(now=utcnow())
    row = pending_pairs()[("健康度评分", "流失预警")]
    assert login_as("admin").post(f"/admin/search/suggestions/{row.id}/reject").status_code == 303
    search_and_open(client, "流失预警", "health")
    assert propose_synonyms(now=utcnow()) == 0
    assert db.session.get(SynonymProposal, row.id).status == "rejected"
    assert not db.session.scalars(select(Synonym).where(Synonym.origin == "learned")).all()


def test_the_suggestions_page_speaks_chinese(client, login_as, health):
    search_and_open(client, "健康度评分", "health")
    search_and_open(client, "流失预警", "health")
    propose_synonyms(now=utcnow())
    editor = login_as("editor")
    html = editor.get("/admin/search/suggestions", headers={"Accept-Language": "zh-CN"}).get_data(
        as_text=True
    )
    assert "同义词建议" in html and "两者都打开了“客户健康度评分”（1 次）" in html
    assert ">接受<" in html and ">拒绝<" in html


@pytest.mark.parametrize(
    ("role", "status"), [("editor", 200), ("admin", 200), ("marketer", 403), ("sales", 403)]
)
def test_suggestions_are_for_editors(login_as, app, role, status):
    assert login_as(role).get("/admin/search/suggestions").status_code == status


def test_deciding_needs_the_csrf_token(make_app, login_as, health, client):
    search_and_open(client, "健康度评分", "health")
    search_and_open(client, "流失预警", "health")
    propose_synonyms(now=utcnow())
    row = pending_pairs()[("健康度评分", "流失预警")]
    strict = make_app(WTF_CSRF_ENABLED=True)
    with strict.app_context():
        editor = login_as("editor", client=strict.test_client())
        assert editor.post(f"/admin/search/suggestions/{row.id}/accept").status_code == 400
    assert db.session.get(SynonymProposal, row.id).status == "pending"


def test_the_worker_refreshes_suggestions_at_most_hourly(app, client, health, monkeypatch):
    monkeypatch.setattr(state(app), "proposed_at", None)
    search_and_open(client, "健康度评分", "health")
    search_and_open(client, "流失预警", "health")
    now = utcnow()
    assert propose_synonyms_job(now) == {"suggestions": 1}
    assert propose_synonyms_job(now) == {}
