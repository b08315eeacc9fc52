"""A video is found by a phrase of its transcript (the real index on disk)."""

from content.search.services import search_articles
from core.timeutil import utcnow


def found(text):
    results, _ = search_articles(text, now=utcnow())
    return [hit.slug for hit in results.hits]


def test_a_phrase_from_the_transcript_finds_the_video(publish, client):
    video = publish(
        "产品演示",
        "十分钟看懂产品。",
        kind="video",
        video_url="https://www.bilibili.com/video/BV1GJ411x7h7",
        transcript_md="## 文字稿\n\n接下来演示如何配置流失预警阈值。",
    )
    publish("另一篇文章", "讲的是续费。")
    assert found("流失预警阈值") == [video.slug]
    body = client.get("/api/search?q=流失预警阈值").get_json()
    assert [result["url"] for result in body["results"]] == [f"/videos/{video.slug}"]


def test_a_transcript_edit_replaces_what_is_found(publish):
    from content.services import save_article

    video = publish("产品演示", "正文", kind="video", transcript_md="旧的文字稿提到工单分派。")
    save_article({"transcript_md": "新的文字稿只讲健康度评分。"}, video.body_md, article=video, now=utcnow())
    assert found("健康度评分") == [video.slug]
    assert found("工单分派") == []
