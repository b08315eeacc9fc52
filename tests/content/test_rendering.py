"""Markdown rendering and sanitising: hostile input never reaches a page."""

import pytest

from content.rendering import reading_minutes, render_markdown, sanitise, slugify_heading

HOSTS = ["www.youtube-nocookie.com", "player.bilibili.com"]


def render(source):
    return render_markdown(source, frame_hosts=HOSTS).html


@pytest.mark.parametrize(
    "hostile, forbidden",
    [
        ("<script>alert(1)</script>", ["<script", "alert(1)"]),
        ('<img src="x.png" onerror="alert(1)">', ["onerror", "alert"]),
        ("[click](javascript:alert(1))", ["javascript:"]),
        ('<a href="JaVaScRiPt:alert(1)">x</a>', ["javascript", "alert"]),
        ('<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>', ["data:"]),
        ('<p style="position:fixed;top:0">cover</p>', ["style=", "position"]),
        ('<div onclick="steal()">hi</div>', ["onclick", "steal"]),
        ('## Title {: onclick="x()" style="color:red" }', ["onclick", "style="]),
        ("<style>body{display:none}</style>", ["<style", "display:none"]),
        ("<svg><script>alert(1)</script></svg>", ["<svg", "<script"]),
        ('<form action="https://evil.example"><input name="p"></form>', ["<form", "evil.example"]),
        ('<object data="x.swf"></object><embed src="x.swf">', ["<object", "<embed"]),
        ('<iframe src="javascript:alert(1)"></iframe>', ["<iframe", "javascript"]),
        ('<iframe src="https://evil.example/embed"></iframe>', ["<iframe", "evil.example"]),
        ('<iframe src="http://player.bilibili.com/x"></iframe>', ["<iframe"]),
        ('<iframe srcdoc="<script>alert(1)</script>"></iframe>', ["<iframe", "srcdoc", "script"]),
        ('<meta http-equiv="refresh" content="0;url=https://evil.example">', ["<meta", "refresh"]),
        ("<!-- <script>alert(1)</script> -->", ["<!--", "<script"]),
    ],
)
def test_hostile_markdown_is_neutralised(hostile, forbidden):
    html = render(f"Before\n\n{hostile}\n\nAfter").lower()
    for needle in forbidden:
        assert needle.lower() not in html
    assert "after" in html


def test_iframe_from_an_allowed_host_survives():
    html = render(
        '<iframe src="https://player.bilibili.com/player.html?bvid=1" width="640" height="360" allowfullscreen></iframe>'
    )
    assert '<iframe src="https://player.bilibili.com/player.html?bvid=1"' in html
    assert 'width="640"' in html


def test_iframe_hosts_come_from_the_argument():
    source = '<iframe src="https://video.example.com/e/1"></iframe>'
    assert "<iframe" not in render_markdown(source, frame_hosts=[]).html
    assert "<iframe" in render_markdown(source, frame_hosts=["video.example.com"]).html


def test_safe_html_and_markdown_features_survive():
    source = """
## 表格

| 指标 | 数值 |
|---|---|
| 续费率 | 95% |

```python
def hello():
    return 1
```

!!! tip "提示"
    先导入客户名单。

Paragraph with a [link](https://example.com/a) and <kbd>Ctrl</kbd>+<kbd>K</kbd>.
{: .lead-in }

<details><summary>更多</summary>隐藏的内容</details>
"""
    html = render(source)
    assert "<table>" in html and "<td>95%</td>" in html
    assert '<div class="highlight">' in html and '<span class="k">def</span>' in html
    assert '<div class="admonition tip">' in html and "先导入客户名单" in html
    assert '<a href="https://example.com/a" rel="noopener noreferrer">link</a>' in html
    assert "<kbd>Ctrl</kbd>" in html
    assert 'class="lead-in"' in html
    assert "<details><summary>更多</summary>" in html


def test_chinese_headings_get_working_anchors_and_toc():
    rendered = render_markdown("## 如何开始？\n\n文字\n\n### 第一步：注册\n\n文字\n\n## Pricing FAQ\n\ntext")
    assert '<h2 id="如何开始">如何开始？</h2>' in rendered.html
    assert '<h3 id="第一步注册">' in rendered.html
    assert '<a href="#如何开始">如何开始？</a>' in rendered.toc_html
    assert 'href="#pricing-faq"' in rendered.toc_html
    assert [h["id"] for h in rendered.headings] == ["如何开始", "第一步注册", "pricing-faq"]
    assert slugify_heading("？？", "-") == "section"


def test_plain_text_and_faq_pairs():
    rendered = render_markdown(
        "## 如何重置密码？\n\n在登录页点击**忘记密码**。\n\n## About\n\nNot a question.\n\n## Can I export?\n\nYes, as CSV."
    )
    assert "在登录页点击忘记密码。" in rendered.text
    assert "<strong>" not in rendered.text
    assert rendered.faq == [
        {"question": "如何重置密码？", "answer": "在登录页点击忘记密码。"},
        {"question": "Can I export?", "answer": "Yes, as CSV."},
    ]


def test_reading_time_counts_chinese_characters_and_english_words():
    assert reading_minutes("") == 1
    assert reading_minutes("字" * 400 * 3) == 3
    assert reading_minutes("word " * 200 * 5) == 5
    # 400 characters (one minute) plus 200 words (one minute)
    assert reading_minutes("字" * 400 + " word" * 200) == 2
    assert render_markdown("字" * 2000).reading_minutes == 5


def test_sanitise_is_idempotent():
    html = render("## 标题\n\n<b>粗</b> [a](https://example.com)")
    assert sanitise(html, HOSTS) == html


def test_aligned_table_columns_keep_their_alignment_and_nothing_else():
    html = render("| 项目 | 居中 | 金额 |\n| :--- | :---: | ---: |\n| 席位 | 是 | 1,200 |\n")
    assert '<th align="left">项目</th>' in html and '<th align="center">居中</th>' in html
    assert '<td align="right">1,200</td>' in html
    # Alignment comes only from the Markdown: a style attribute still never survives.
    assert "style=" not in render('<table><tr><td style="color:red" align="right">x</td></tr></table>')
