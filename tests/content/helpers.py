"""What the article editor posts, for the content tests (articles themselves: tests.factories.make_article)."""

# What the article editor posts (tests add "action").
ARTICLE_FORM = {
    "title": "如何提高续费率",
    "slug": "",
    "kind": "help",
    "locale": "zh-CN",
    "category": "客户成功",
    "tags": "续费，客户成功, NPS",
    "summary": "摘要",
    "body": "## 第一步\r\n\r\n正文<script>x()</script>",
    "published_at": "",
    "review_by": "",
    "translation_key": "",
    "seo_title": "",
    "seo_description": "",
    "sequence": "",
}


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
