"""Videos: player links turned into the platforms' embeds, chapters, the uploaded file
served with range requests, the CSP's frame-src on video pages only, the transcript
sanitised, and bad input refused beside its field with nothing saved."""

import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from content.documents import FIELD_NAMES, front_matter, parse_markdown_file, to_markdown
from content.models import Article
from content.video import VideoError, parse_chapters, parse_video_url, sniffed_type
from core.extensions import db
from tests.content.helpers import ARTICLE_FORM
from tests.factories import make_article, mp4_bytes, video_article

pytestmark = pytest.mark.usefixtures("app", "video_dir")

VIDEO_FORM = {
    **ARTICLE_FORM,
    "kind": "video",
    "category": "",
    "body": "## 视频简介\r\n\r\n十分钟看懂线索评分。",
    "video": "",
    "chapters": "",
    "transcript": "",
    "free_minutes": "",
}


@pytest.mark.parametrize(
    "link, embed",
    [
        (
            "https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=42",
            "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ",
        ),
        ("https://youtu.be/dQw4w9WgXcQ", "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"),
        ("https://m.youtube.com/shorts/dQw4w9WgXcQ", "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"),
        (
            "https://www.bilibili.com/video/BV1GJ411x7h7/?spm_id_from=333",
            "https://player.bilibili.com/player.html?bvid=BV1GJ411x7h7&page=1",
        ),
        (
            "https://www.bilibili.com/video/BV1GJ411x7h7?p=3",
            "https://player.bilibili.com/player.html?bvid=BV1GJ411x7h7&page=3",
        ),
        (
            "https://www.bilibili.com/video/av170001",
            "https://player.bilibili.com/player.html?aid=170001&page=1",
        ),
        (
            "https://player.bilibili.com/player.html?bvid=BV1GJ411x7h7",
            "https://player.bilibili.com/player.html?bvid=BV1GJ411x7h7&page=1",
        ),
        (
            "https://v.qq.com/x/cover/mzc00200abcdefg/k0015trfczz.html",
            "https://v.qq.com/txp/iframe/player.html?vid=k0015trfczz",
        ),
        (
            "https://v.qq.com/x/page/k0015trfczz.html",
            "https://v.qq.com/txp/iframe/player.html?vid=k0015trfczz",
        ),
        (
            "https://v.qq.com/txp/iframe/player.html?vid=k0015trfczz",
            "https://v.qq.com/txp/iframe/player.html?vid=k0015trfczz",
        ),
    ],
)
def test_a_video_page_link_becomes_the_platforms_official_player(link, embed):
    assert parse_video_url(link).embed_url == embed


def test_each_platform_seeks_by_its_own_time_parameter():
    assert "start=135" in parse_video_url("https://youtu.be/dQw4w9WgXcQ").seek_url(135)
    assert "&t=135" in parse_video_url("https://www.bilibili.com/video/BV1GJ411x7h7").seek_url(135)
    assert "starttime=135" in parse_video_url("https://v.qq.com/x/page/k0015trfczz.html").seek_url(135)


@pytest.mark.parametrize(
    "link",
    [
        "https://vimeo.com/76979871",
        "https://www.youku.com/v_show/id_XNDk.html",
        "https://player.bilibili.com.evil.example/player.html?bvid=BV1GJ411x7h7",
        "javascript:alert(1)//youtube.com",
        "https://www.youtube.com/watch",
        "https://www.bilibili.com/video/not-a-video",
        "youtube.com/watch?v=dQw4w9WgXcQ",
    ],
)
def test_other_hosts_and_links_without_a_video_are_refused(link):
    with pytest.raises(VideoError):
        parse_video_url(link)


def test_chapters_are_read_line_by_line_and_bad_lines_named():
    chapters, problems = parse_chapters("00:00 开始\n02:15 安装\n1:02:03 进阶\n")
    assert chapters == [{"t": 0, "title": "开始"}, {"t": 135, "title": "安装"}, {"t": 3723, "title": "进阶"}]
    assert problems == []
    _chapters, problems = parse_chapters("02:15 安装\n安装\n01:00 倒回\n02:75 错")
    assert len(problems) == 3 and all(str(n) in p for n, p in zip((2, 3, 4), problems, strict=True))


def test_the_file_type_is_read_from_its_first_bytes():
    assert sniffed_type(mp4_bytes()[:64]) == ".mp4"
    assert sniffed_type(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm") == ".webm"
    assert sniffed_type(b"%PDF-1.7\n" + b"\x00" * 60) is None


def _media_url(article) -> str:
    return f"/videos/{article.slug}/media/{article.video_file}"


def fetch(client, url, **headers):
    """A response read whole and closed (a file's response holds the file open)."""
    with client.get(url, headers=headers) as response:
        response.get_data()
        return response


def test_the_uploaded_file_is_served_with_range_requests(app, client):
    data = mp4_bytes(4096)
    url = _media_url(video_article(app, data))
    whole = fetch(client, url)
    assert whole.status_code == 200 and whole.data == data
    assert whole.headers["Accept-Ranges"] == "bytes" and whole.headers["Content-Type"] == "video/mp4"
    assert "immutable" in whole.headers["Cache-Control"] and whole.headers["ETag"]

    first = fetch(client, url, Range="bytes=0-99")
    assert first.status_code == 206 and first.data == data[:100]
    assert first.headers["Content-Range"] == "bytes 0-99/4096" and first.headers["Content-Length"] == "100"

    rest = fetch(client, url, Range="bytes=4000-")
    assert rest.status_code == 206 and rest.data == data[4000:]
    assert rest.headers["Content-Range"] == "bytes 4000-4095/4096"

    tail = fetch(client, url, Range="bytes=-50")
    assert tail.status_code == 206 and tail.data == data[-50:]
    assert tail.headers["Content-Range"] == "bytes 4046-4095/4096"

    beyond = fetch(client, url, Range="bytes=4096-")
    assert beyond.status_code == 416 and beyond.headers["Content-Range"] == "bytes */4096"

    unchanged = fetch(client, url, **{"If-None-Match": whole.headers["ETag"]})
    assert unchanged.status_code == 304


def test_only_a_public_videos_own_file_is_served(app, client):
    article = video_article(app)
    assert fetch(client, f"/videos/{article.slug}/media/0123456789abcdef-other.mp4").status_code == 404
    draft = video_article(app, title="草稿视频", status="draft")
    assert fetch(client, _media_url(draft)).status_code == 404


def test_frame_src_allows_the_players_on_video_pages_only(app, client):
    video = make_article(
        "简介", title="嵌入视频", kind="video", video_url="https://www.bilibili.com/video/BV1GJ411x7h7"
    )
    help_page = make_article("正文", title="帮助")
    for _twice in range(2):  # the second answer comes from the page cache
        page = client.get(video.url_path)
        policy = page.headers["Content-Security-Policy"]
        frame_src = next(part for part in policy.split("; ") if part.startswith("frame-src"))
        assert (
            frame_src
            == "frame-src 'self' https://player.bilibili.com https://www.youtube-nocookie.com https://v.qq.com"
        )
        assert 'src="https://player.bilibili.com/player.html?bvid=BV1GJ411x7h7&amp;page=1"' in page.get_data(
            as_text=True
        )
    for path in (help_page.url_path, "/", "/videos/", "/search?q=x"):
        policy = client.get(path).headers["Content-Security-Policy"]
        assert "frame-src 'self';" in policy and "bilibili" not in policy, path


def test_the_video_center_lists_the_published_videos(app, client):
    video_article(app, title="线索评分十分钟", summary="一段演示")
    make_article("正文", title="不是视频的文章")
    page = client.get("/videos/").get_data(as_text=True)
    assert "线索评分十分钟" in page and "不是视频的文章" not in page


def test_chapters_seek_the_player_on_the_page(app, client):
    uploaded = video_article(app, chapters=[{"t": 0, "title": "开始"}, {"t": 135, "title": "安装"}])
    page = client.get(uploaded.url_path).get_data(as_text=True)
    assert 'data-seek="135"' in page and "02:15" in page and "video-player.js" in page
    embedded = make_article(
        "简介",
        title="嵌入",
        kind="video",
        video_url="https://youtu.be/dQw4w9WgXcQ",
        chapters=[{"t": 75, "title": "演示"}],
    )
    page = client.get(embedded.url_path).get_data(as_text=True)
    assert 'href="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?start=75&amp;autoplay=1"' in page
    assert f'target="video-player-{embedded.id}"' in page


def test_a_hostile_transcript_is_sanitised_like_the_body(app, client):
    hostile = (
        "## 文字稿\n\n大家好<script>alert(1)</script>\n\n[点我](javascript:alert(1))\n\n"
        '<img src="x" onerror="alert(1)">\n\n<iframe src="https://evil.example/x"></iframe>'
    )
    article = video_article(app, transcript_md=hostile)
    assert "大家好" in article.transcript_html
    for bad in ("<script", "javascript:", "onerror", "<iframe", "evil.example"):
        assert bad not in article.transcript_html, bad
    page = client.get(article.url_path).get_data(as_text=True)
    assert "大家好" in page and "alert(1)</script>" not in page


def _stored_videos(app) -> list:
    folder = Path(app.config["VIDEO_DIR"])
    return list(folder.iterdir()) if folder.exists() else []


def test_the_editor_saves_an_uploaded_video_with_chapters(app, login_as):
    editor = login_as("editor")
    response = editor.post(
        "/admin/content/new",
        data={
            **VIDEO_FORM,
            "chapters": "00:00 开始\r\n02:15 安装",
            "transcript": "欢迎收看线索评分演示",
            "video_upload": (io.BytesIO(mp4_bytes()), "演示.mp4"),
            "action": "save",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    article = db.session.scalar(select(Article))
    assert article.kind == "video" and article.video_file.endswith(".mp4")
    assert article.chapters == [{"t": 0, "title": "开始"}, {"t": 135, "title": "安装"}]
    assert "欢迎收看线索评分演示" in article.transcript_text
    assert [path.name for path in _stored_videos(app)] == [article.video_file]
    form = editor.get(f"/admin/content/{article.id}").get_data(as_text=True)
    assert "00:00 开始\n02:15 安装" in form


@pytest.mark.parametrize(
    "changes, field, message",
    [
        (
            {"video_upload": (b"%PDF-1.7 not a video" * 10, "fake.mp4")},
            "video_upload",
            "不是 MP4 或 WebM",
        ),
        ({"video_upload": (mp4_bytes(), "clip.avi")}, "video_upload", "MP4 或 WebM"),
        ({"video_upload": (mp4_bytes(5000), "big.mp4")}, "video_upload", "超过"),
        ({"video": "https://vimeo.com/76979871"}, "video", "只能嵌入哔哩哔哩"),
        ({"chapters": "02:15 安装\r\n安装视频"}, "chapters", "第 2 行"),
        (
            {"video": "https://youtu.be/dQw4w9WgXcQ", "free_minutes": "2"},
            "free_minutes",
            "只有上传的文件可以设置门槛",
        ),
        ({"free_minutes": "很多"}, "free_minutes", "整数分钟"),
        (
            {"video": "https://youtu.be/dQw4w9WgXcQ", "video_upload": (mp4_bytes(), "clip.mp4")},
            "video",
            "二选一",
        ),
    ],
)
def test_bad_video_input_is_refused_beside_its_field_and_nothing_is_kept(
    app, login_as, monkeypatch, changes, field, message
):
    monkeypatch.setitem(app.config, "VIDEO_MAX_BYTES", 4096)
    editor = login_as("editor")
    sent = {
        name: (io.BytesIO(value[0]), value[1]) if isinstance(value, tuple) else value
        for name, value in changes.items()
    }
    response = editor.post(
        "/admin/content/new",
        data={**VIDEO_FORM, **sent, "action": "save"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    error = page.split(f'id="{field}-error">', 1)[1].split("</p>", 1)[0]
    assert message in error
    assert db.session.scalar(select(func.count()).select_from(Article)) == 0
    assert _stored_videos(app) == []


def test_a_video_round_trips_through_its_markdown_file(app):
    article = make_article(
        "简介",
        title="嵌入视频",
        kind="video",
        video_url="https://www.bilibili.com/video/BV1GJ411x7h7",
        chapters=[{"t": 0, "title": "开场"}, {"t": 3723, "title": "进阶"}],
        transcript_md="## 文字稿\n\n第一行\n\n第二行：配置规则",
    )
    values = {name: getattr(article, name) for name in FIELD_NAMES.values()}
    text = to_markdown(front_matter(values, "UTC"), article.body_md)
    assert "chapters: ['00:00 开场', '1:02:03 进阶']" in text
    assert "transcript: |-\n  ## 文字稿\n\n  第一行\n" in text
    parsed = parse_markdown_file(text.encode(), path=Path("video.md"), default_locale="zh-CN", timezone="UTC")
    for name in ("video_url", "chapters", "transcript_md", "kind"):
        assert parsed.fields[name] == getattr(article, name), name
