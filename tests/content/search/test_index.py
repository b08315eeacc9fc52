"""The index follows the database: saves, edits, unpublishing, deletes, scheduled
publication, other nodes' changes, a busy index, rebuilds, the command and the health check."""

from datetime import timedelta

import pytest
from sqlalchemy import update

from content.models import Article
from content.search.index import CURRENT
from content.search.services import search_articles
from content.search.upkeep import index_status, reindex
from content.services import delete_article, save_article
from core.extensions import db
from core.timeutil import utcnow


def found(text, **kwargs):
    results, _ = search_articles(text, now=kwargs.pop("now", None) or utcnow(), **kwargs)
    return [hit.slug for hit in results.hits]


def test_published_article_is_searchable_at_once(publish):
    article = publish("客户健康度评分模型", "用使用频率、工单和 NPS 计算健康度。")
    assert found("健康度") == [article.slug]


def test_edits_replace_the_indexed_copy(publish):
    article = publish("旧标题", "内容讲的是 pricing")
    save_article({"title": "续费作战手册"}, "新的正文", article=article, now=utcnow())
    assert found("续费作战手册") == [article.slug]
    assert found("pricing") == []


def test_unpublished_and_deleted_articles_leave_the_index(publish):
    first = publish("流失预警规则", "流失率")
    second = publish("流失原因分析", "流失率")
    save_article({"status": "draft"}, first.body_md, article=first, now=utcnow())
    assert found("流失") == [second.slug]
    delete_article(second)
    assert found("流失") == []


def test_drafts_and_scheduled_articles_are_never_found(publish, search_index):
    publish("草稿：定价策略", "定价", status="draft", published_at=None)
    later = utcnow() + timedelta(hours=2)
    scheduled = publish("定价页怎么写", "定价", published_at=later)
    assert found("定价") == []
    # Its time comes: the next search (at that time) brings it in, without any save.
    assert found("定价", now=later + timedelta(minutes=1)) == [scheduled.slug]


def test_what_a_search_finds_depends_on_its_now_alone(publish, search_index):
    # As in a web process: no sync between these searches, whatever their `now`.
    search_index.sync_interval = 3600
    later = utcnow() + timedelta(hours=2)
    scheduled = publish("定价页怎么写", "定价", published_at=later)
    current = publish("定价策略", "定价")
    after = later + timedelta(minutes=1)
    assert sorted(found("定价", now=after)) == sorted([scheduled.slug, current.slug])
    assert found("定价") == [current.slug]
    assert sorted(found("定价", now=after)) == sorted([scheduled.slug, current.slug])
    assert index_status(now=utcnow())["scheduled"] == 1
    assert index_status(now=after)["scheduled"] == 0


def test_changes_made_elsewhere_are_caught_up_by_the_watermark(publish, search_index):
    article = publish("季度业务回顾", "QBR 议程")
    # Another node (or a script) changes the row: no signal reaches this process.
    db.session.execute(
        update(Article)
        .where(Article.id == article.id)
        .values(title="季度业务回顾（QBR）指南", updated_at=utcnow() + timedelta(seconds=1))
    )
    db.session.commit()
    results, _ = search_articles("指南", now=utcnow())
    assert [hit.title for hit in results.hits] == ["季度业务回顾（QBR）指南"]


def test_a_busy_index_never_fails_the_editors_save(publish, search_index):
    writer = search_index.open().writer()
    try:
        article = publish("锁住时保存的文章", "仍然保存成功")
        assert db.session.get(Article, article.id).title == "锁住时保存的文章"
    finally:
        writer.cancel()
    # The watermark brings it in on the next search.
    assert found("锁住时保存") == [article.slug]


def test_sync_is_throttled_between_checks(publish, search_index):
    search_index.sync_interval = 3600
    search_index.sync(utcnow(), force=True)
    assert search_index.sync(utcnow()) is None


def test_rebuild_swaps_in_a_new_folder_atomically(publish, search_index, app):
    publish("NPS 调研", "净推荐值")
    publish("SSO 单点登录", "SAML")
    before = search_index.current_name()
    assert reindex(now=utcnow()) == 2
    after = search_index.current_name()
    assert after != before
    assert (search_index.root / CURRENT).read_text() == after
    assert (search_index.root / before).is_dir()  # kept one round for open searchers
    reindex(now=utcnow())
    assert not (search_index.root / before).exists()
    assert found("净推荐值")


def test_reindex_command_shows_progress_and_count(publish, runner):
    publish("邮件模板与变量", "续费提醒")
    result = runner.invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    assert "Indexed 1 articles." in result.output


def test_health_check_reports_documents_and_staleness(publish, client, search_index):
    publish("导出数据", "CSV")
    body = client.get("/healthz").get_json()
    assert body["checks"]["index"]["documents"] == 1
    assert body["checks"]["index"]["stale"] is False


def test_a_node_far_behind_rebuilds_in_the_background(app, search_index, monkeypatch):
    from sqlalchemy import insert

    from content.search import index as index_module

    monkeypatch.setattr(index_module, "BULK", 3)
    now = utcnow()
    rows = [
        {
            "kind": "help",
            "slug": f"bulk-{n}",
            "title": f"批量导入的文章 {n}",
            "body_text": "客户数据迁移",
            "status": "published",
            "published_at": now - timedelta(days=1),
            "updated_at": now,
        }
        for n in range(5)
    ]
    db.session.execute(insert(Article), rows)  # as another node's import would: no signals
    db.session.commit()
    # The check hands the work to a thread and answers at once from the index it has.
    assert search_index.sync(now) is None
    search_index._rebuilding.join(timeout=60)
    again, _ = search_articles("数据迁移", now=now)
    assert again.total == 5


def test_one_rebuild_at_a_time_per_folder(search_index):
    import fcntl

    from content.search.index import REBUILD_LOCK, RebuildRunning

    with open(search_index.root / REBUILD_LOCK, "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        try:
            with pytest.raises(RebuildRunning):
                search_index.rebuild(utcnow(), wait=False)
        finally:
            fcntl.flock(held, fcntl.LOCK_UN)


def test_a_searcher_kept_by_the_thread_sees_deletions(publish, search_index):
    # Whoosh's Searcher.refresh() keeps deleted documents visible; the index must not.
    kept = publish("流失原因分析", "流失")
    gone = publish("流失预警规则", "流失")
    assert sorted(found("流失")) == sorted([kept.slug, gone.slug])
    delete_article(gone)
    assert found("流失") == [kept.slug]


def test_status_command_reports_the_index(publish, runner):
    import json

    publish("邀请团队成员", "邀请")
    result = runner.invoke(args=["search", "status"])
    assert result.exit_code == 0, result.output
    status = json.loads(result.output)
    assert (status["documents"], status["stale"], status["behind"]) == (1, False, 0)


def test_what_is_kept_per_generation_is_keyed_by_the_searcher_s_own_folder(publish, search_index):
    publish("定价页怎么写", "定价")
    search_index.searcher()
    before = search_index.searcher_name()
    assert before == search_index.current_name()
    reindex(now=utcnow())  # a rebuild swaps to a new folder
    assert search_index.current_name() != before
    # This thread's searcher is still the old folder's until it is renewed: keys built
    # from the CURRENT file would file its scores under the new folder.
    assert search_index.searcher_name() == before
    search_index.searcher()
    assert search_index.searcher_name() == search_index.current_name()
