"""Markdown past the bounds is refused before rendering, fast and with a message that
names the bound; bodies inside them, however long and linked, still render."""

import pytest

from content import bounds
from content.bounds import TooComplex
from content.rendering import render_markdown
from tests.content.helpers import HOSTILE


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
