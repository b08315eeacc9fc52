"""Markdown past the bounds is refused before rendering, fast and with a message that
names the bound; bodies inside them, however long and linked, still render."""

import pytest

from content import bounds
from content.bounds import TooComplex
from content.rendering import render_markdown

# The shapes of the security report (each ran for minutes, or raised RecursionError),
# and the same kinds of shape made small enough that only their own bound stops them.
HOSTILE = {
    "50,000 open brackets": "[" * 50000,
    "500,000 character references": "&#x41;" * 500000,
    "80,000 character references (under the size bound)": "&#x41;" * 80000,
    "20,000 headings": "## h\n\n" * 20000,
    "20,000 numbered headings": "".join(f"# {i}\n" for i in range(20000)),
    "a 1,000-level nested list": "".join(" " * (4 * i) + "- a\n" for i in range(1000)),
    "a 100-level nested list (tabs)": "".join("\t" * i + "- a\n" for i in range(100)),
    '3,000 nested <div markdown="1">': '<div markdown="1">\n' * 3000 + "x\n" + "</div>\n" * 3000,
    "500 nested admonitions": "".join(" " * (4 * i) + "!!! note\n" for i in range(500)),
    "50 nested admonitions": "".join(" " * (4 * i) + "!!! note\n" for i in range(50)) + " " * 200 + "x\n",
    "1,000 nested quotes": ">" * 1000 + " x\n",
    "links spread over paragraphs": "\n\n".join(["[a](" * 400] * 20),
    "brackets after a fence that never closes": "```\n" + "[" * 50000,
    "500 KB of emphasis in one paragraph": "*a* " * 124000,
    "emphasis in 240 short paragraphs": "\n\n".join(["*a* " * 500] * 240),
    "an unclosed link target in every link": "[a](" * 2000,
    "160,000 unclosed tags": "<a " * 160000,
    "spaces before a last character": " " * 490000 + "x",
}


@pytest.mark.parametrize("source", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_markdown_is_refused_before_rendering(source):
    with pytest.raises(TooComplex) as refused:
        render_markdown(source)
    assert str(refused.value.message)


def test_the_size_bound_is_a_setting_the_caller_passes():
    body = "正文。\n\n" * 1000  # 11 KB
    assert "<p>正文。</p>" in render_markdown(body).html
    with pytest.raises(TooComplex, match="at most 10 KB"):
        render_markdown(body, max_bytes=10_000)


def test_long_real_articles_render_inside_every_bound():
    paragraph = "客户成功团队每周检查[续费看板](/help/xufei)与[健康度](/help/jiankangdu)，并记录 &amp; 跟进。"
    sections = [
        f"## 第 {i} 节\n\n" + "\n".join([paragraph] * 8) + "\n\n- 要点\n    - 细节\n" for i in range(300)
    ]
    code = "```json\n" + '{"items": [[1, 2], [3, 4]]}\n' * 2000 + "```\n"
    body = "\n".join(sections) + "\n" + code
    assert len(body.encode()) < bounds.MAX_BYTES
    rendered = render_markdown(body)
    assert len(rendered.headings) == 300 and rendered.html.count("<a href=") == 300 * 8 * 2


def test_brackets_inside_fenced_code_do_not_count():
    source = "```\n" + "[" * 5000 + "\n```\n\n[a](/b)"
    assert '<a href="/b" rel="noopener noreferrer">a</a>' in render_markdown(source).html
