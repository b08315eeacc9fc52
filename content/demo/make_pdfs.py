"""Write the small PDF of every demo white paper.

Each white paper in ``articles/`` names its gated file in front matter
(``asset: files/<slug>.pdf``). This script reads those Markdown files and writes,
for each, a multi-page PDF with a title page, a contents page and the chapters
(the section headings and their paragraphs, followed by the fuller text kept in
CHAPTER_DETAIL), so the demo download is a real, readable document that matches
its landing page and gives more than the preview.

Chinese text is set in WenQuanYi Micro Hei (Debian's fonts-wqy-microhei, Apache 2.0
or GPLv3, whose embedding exception allows this), embedded as a subset of just the
characters each PDF uses: a Type0 font over a CIDFontType2 with its TrueType program
(FontFile2), so every reader shows the same glyphs instead of substituting its own for
a non-embedded font. The CIDs are the characters' Unicode code points (strings stay
hex UTF-16BE), a CIDToGIDMap stream maps them to the subset's glyphs, and a ToUnicode
map keeps the text searchable and copyable. English text uses the standard 14
Helvetica fonts, whose metrics every reader has. Output is deterministic: running the
script again gives the same bytes, so the files only change in git when the text does.

Regenerating needs fontTools (requirements-dev.txt) and the font package
(`apt-get install fonts-wqy-microhei`); the demo itself only reads the committed PDFs.

Usage: python -m content.demo.make_pdfs [--check]
    --check  rebuild in memory and exit 1 if a committed PDF is out of date.
"""

import re
import sys
from pathlib import Path

from content.demo.cjkfont import cjk_font_objects, cjk_width, stream

ARTICLES = Path(__file__).resolve().parent / "articles"

PAGE_W, PAGE_H = 595, 842  # A4 in points
MARGIN = 64
TEXT_W = PAGE_W - 2 * MARGIN
BLUE = "0.10 0.23 0.45"
GREY = "0.35 0.38 0.42"

# Helvetica advance widths (AFM, 1/1000 em) for ASCII 32..126. Helvetica-Bold is
# a little wider; using these for headings too only makes lines slightly longer,
# and headings are short.
HELVETICA = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
]  # fmt: skip

# Punctuation that must not start a line in Chinese typesetting (kinsoku).
NO_LINE_START = set("，。、；：？！）》」』”’%,.;:?!)")

LABELS = {
    "zh-CN": {
        "contents": "目录",
        "publisher": "星图云 Xingtu Cloud",
        "about_title": "关于星图云",
        "about": (
            "星图云是面向 SaaS 与 ToB 企业的客户成功与订阅收入平台，提供客户健康度、流失预警、"
            "续费管理、NPS 调研、客户上线、计费与 CRM 集成等能力，帮助客户成功团队提升续费率与"
            "净收入留存。了解更多或预约演示，请访问星图云官网。"
        ),
        "page": "第 {} 页",
    },
    "en": {
        "contents": "Contents",
        "publisher": "Xingtu Cloud",
        "about_title": "About Xingtu Cloud",
        "about": (
            "Xingtu Cloud is a customer-success and subscription-revenue platform for SaaS and "
            "B2B companies: health scores, churn alerts, renewals, NPS surveys, onboarding, "
            "billing and CRM integrations that help customer success teams raise retention "
            "and net revenue retention. Visit our website to book a demo."
        ),
        "page": "Page {}",
    },
}


# The landing page shows one paragraph per chapter as a preview; the downloaded file
# goes further. These are the paragraphs that follow each chapter's preview, in
# chapter order, per white paper slug.
CHAPTER_DETAIL = {
    "saas-renewal": [
        [
            "调研中，续费率最高的四分之一企业，其 LTV/CAC 比值中位数为 4.2，而续费率最低的四分之一只有 1.6。"
            "换句话说，同样花一块钱获客，前者收回的是后者的两倍半。",
            "续费率还决定了融资与估值。投资机构在尽调时最先索要的，往往不是新签合同额，而是按年度客户群计算的"
            "毛收入留存率与净收入留存率。",
        ],
        [
            "客单价越高，续费率越高：年合同额 20 万元以上的企业，GRR 中位数为 89%；5 万元以下的企业只有 74%。"
            "小客单价企业的流失主要来自客户本身的经营变化，能够控制的部分在于上线速度与使用深度。",
            "按行业看，财税与 HR 类 SaaS 的续费率最高，营销类 SaaS 波动最大，与客户的预算周期高度相关。",
        ],
        [
            "有效的健康度模型通常包含四类信号：产品使用、客户参与、满意度与商务信号。指标过多反而会降低团队对模型的信任。",
            "我们建议每个季度做一次回测：看已流失客户在流失前 90 天是否被标记为风险。召回率达到 70% 以上，"
            "同时被标记为风险的客户不超过 20%，模型就可以放心使用。",
        ],
        [
            "五个阶段分别是：120 天风险盘点、90 天价值回顾、60 天方案与报价、30 天商务推进、到期日完成续约。"
            "每个阶段都应有明确的负责人与完成标准。",
            "把续费节奏配置成系统中的自动任务，是避免续费依赖个人记忆的关键。执行这一节奏的团队，平均续费折扣从 11% 降到 5%。",
        ],
        [
            "最好的增购时机出现在客户刚刚获得明显成果之后，例如一次成功的季度业务回顾。健康度持续处于「健康」等级的客户，"
            "增购成功率是其余客户的 3 倍。",
            "客户成功负责发现机会并建立信任，销售负责商务谈判与合同，两者按统一的商机阶段协作，避免互相抢功或推诿。",
        ],
        [
            "早期企业可以由 CSM 同时负责续费，成长期企业建议设立专职续费岗位。CSM 的考核应以续费率与 NRR 为主，"
            "辅以首次价值达成天数与 NPS。",
            "一个 CSM 合适的客户数取决于客单价：KA 客户 15–30 家，腰部客户 60–120 家，长尾客户则以自动化触达为主。",
        ],
    ],
    "b2b-kehu-chenggong-yunying": [
        [
            "客户成功的核心产出是客户达成业务目标，进而带来续费与增购；客服的核心产出是问题被及时解决。"
            "两者的考核指标不同，混在一起往往两头都做不好。",
            "建议用一张职责表划清边界：售前承诺由销售负责，交付上线由实施负责，日常问题由客服负责，价值实现与续费由客户成功负责。",
        ],
        [
            "分层的依据不只是当前 ARR，还应考虑增长潜力与战略价值。一家小客户如果是行业标杆，也值得更高的服务等级。",
            "参考人效：KA 层每位 CSM 管理 ARR 约 800–1,200 万元，腰部层约 500 万元，长尾层以自动化为主，由少数运营人员覆盖。",
        ],
        [
            "交接是上线的第一步。销售交接时必须说明购买原因、成功标准、决策人与承诺过的事项，缺一不可。",
            "首次价值应当用客户能感知的业务结果来定义，例如「第一轮 NPS 调研完成并收到回复」，而不是「账号已开通」。",
        ],
        [
            "预警规则要少而准。每条规则都应对应一个明确的动作与负责人，触发后无人处理的规则应当关闭。",
            "同一客户设置静默期，避免同一风险被反复提醒；每月复盘一次预警的命中率与挽回金额。",
        ],
        [
            "每个 Playbook 都包含触发条件、步骤、模板与完成标准。新人按 Playbook 执行，就能达到团队的平均水平。",
            "Playbook 不是一成不变的，每个季度根据执行数据淘汰效果差的步骤，补充优秀 CSM 的新做法。",
        ],
        [
            "月度复盘会聚焦三个问题：哪些客户流失了、原因是什么、下个月要改变什么。避免把复盘会开成数据朗读会。",
            "度量体系应当同时包含结果指标（GRR、NRR）与过程指标（上线周期、QBR 覆盖率），前者看方向，后者找抓手。",
        ],
    ],
    "nrr-benchmarks": [
        [
            "Counting revenue from customers acquired during the year is the most common mistake and adds eight "
            "points to NRR on average. Including one-off services adds another three.",
            "We recommend annual cohorts measured on recurring revenue only, with contraction and churn counted in "
            "the month they take effect, not the month they are announced.",
        ],
        [
            "The spread is wide: the bottom quartile retains 92% of revenue net, which means sales must replace "
            "almost a tenth of the business each year before growing at all.",
            "Gross revenue retention varies less than net retention, because expansion is where leaders pull away.",
        ],
        [
            "Larger customers have more users, deeper integrations and longer contracts, all of which raise the "
            "cost of switching. Small customers churn mostly because their own business changes.",
            "Small-deal vendors cannot control that, but they can control how fast customers reach first value and "
            "how early failed payments are handled.",
        ],
        [
            "Seat growth dominates in mid-market accounts; plan upgrades matter most for small customers; cross-sell "
            "of new products drives expansion in enterprise accounts.",
            "Usage-based pricing adds about six points of NRR at the median, with twice the quarter-to-quarter variance.",
        ],
        [
            "Top-quartile teams start renewals earlier, review fewer health signals more often, and hand expansion "
            "opportunities to sales with clear rules.",
            "They also measure customer success on retained revenue rather than calls made or tickets closed.",
        ],
        [
            "Days 1-30: measure NRR and GRR the standard way and find the cohorts that leak. Days 31-60: fix onboarding "
            "and early warning for those cohorts. Days 61-90: build a repeatable expansion motion for healthy accounts.",
            "Expect gross retention to move first; net retention follows within two to three quarters.",
        ],
    ],
}


# --- reading the Markdown -------------------------------------------------------------


def read_article(path):
    """The front matter (flat `key: value` lines) and the body of one Markdown file."""
    text = path.read_text(encoding="utf-8")
    _, head, body = text.split("---\n", 2)
    meta = {}
    for line in head.splitlines():
        key, sep, value = line.partition(":")
        if sep and not line.startswith(" "):
            meta[key.strip()] = value.strip().strip('"')
    return meta, body


def plain(text):
    """Markdown inline markup reduced to the words a reader sees."""
    text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", text)
    return re.sub(r"\*\*|`", "", text).strip()


def sections(body):
    """(intro paragraphs, [(heading, [paragraphs])]) of a white paper body.

    The web page's sentence that points at the download form means nothing inside
    the downloaded file, so it is left out.
    """
    intro, chapters = [], []
    for block in re.split(r"\n\s*\n", body.strip()):
        block = " ".join(line.strip() for line in block.splitlines())
        if block.startswith("## "):
            chapters.append((plain(block[3:]), []))
        elif re.search(r"表单|the form", block):
            continue
        elif chapters:
            chapters[-1][1].append(plain(block))
        else:
            intro.append(plain(block))
    return intro, chapters


# --- measuring and wrapping -----------------------------------------------------------


def char_width(ch, cjk):
    """Advance width of one character in em."""
    if cjk:
        return cjk_width(ch) / 1000
    code = ord(ch)
    if 32 <= code <= 126:
        return HELVETICA[code - 32] / 1000
    return 1.0 if ch in "—…" else 0.556


def tokens(text, cjk):
    """Unbreakable pieces: Latin words with their trailing space, single CJK characters."""
    pattern = r"[\x21-\x7e\u2018-\u201d]+ ?| |." if cjk else r"\S+ ?| "
    return re.findall(pattern, text)


def wrap(text, size, width, cjk):
    lines, line, used = [], "", 0.0
    for tok in tokens(text, cjk):
        w = sum(char_width(c, cjk) for c in tok) * size
        if line and used + w > width and tok[0] not in NO_LINE_START:
            lines.append(line.rstrip())
            line, used = "", 0.0
            if tok == " ":
                continue
        line += tok
        used += w
    if line.strip():
        lines.append(line.rstrip())
    return lines


# --- PDF text -------------------------------------------------------------------------


def pdf_string(text, cjk):
    """A PDF string operand: hex UTF-16BE for the CJK font, escaped cp1252 for Helvetica."""
    if cjk:
        return "<" + text.encode("utf-16-be").hex().upper() + ">"
    out = []
    for byte in text.encode("cp1252", errors="replace"):
        ch = chr(byte)
        if ch in "\\()":
            out.append("\\" + ch)
        elif 32 <= byte < 127:
            out.append(ch)
        else:
            out.append(f"\\{byte:03o}")
    return "(" + "".join(out) + ")"


class Document:
    """Pages of text laid out top to bottom, each a list of content-stream operators."""

    def __init__(self, locale):
        self.cjk = locale == "zh-CN"
        self.labels = LABELS[locale]
        self.pages = []
        self.y = 0
        self.characters = set()  # what the embedded subset must hold

    def new_page(self):
        self.pages.append([])
        self.y = PAGE_H - MARGIN

    def text(self, x, y, line, size, bold=False, color="0 0 0", page=None):
        """One line of text at (x, y), on the given page's operators or the last page's."""
        font = "/F2" if bold and not self.cjk else "/F1"
        self.characters.update(line)
        # The CJK font has no bold face: headings are filled and stroked instead.
        mode = "2 Tr 0.35 w" if bold and self.cjk else "0 Tr"
        (self.pages[-1] if page is None else page).append(
            f"BT {color} rg {color} RG {mode} {font} {size} Tf {x:.1f} {y:.1f} Td "
            f"{pdf_string(line, self.cjk)} Tj ET"
        )

    def block(self, text, size, leading, bold=False, color="0 0 0", gap_after=0):
        """Wrapped text at the cursor, moving to a new page when the page is full."""
        for line in wrap(text, size, TEXT_W, self.cjk):
            if self.y - leading < MARGIN + 20:
                self.new_page()
            self.y -= leading
            self.text(MARGIN, self.y, line, size, bold, color)
        self.y -= gap_after

    def title_page(self, title, summary, publisher, date):
        self.new_page()
        self.pages[-1].append(f"{BLUE} rg 0 {PAGE_H - 380} {PAGE_W} 380 re f")
        self.pages[-1].append(f"0.96 0.65 0.14 rg {MARGIN} {PAGE_H - 392} 120 6 re f")
        self.y = PAGE_H - 150
        self.block(title, 26, 38, bold=True, color="1 1 1", gap_after=18)
        self.block(summary, 12, 20, color="0.88 0.92 0.97")
        self.text(MARGIN, MARGIN + 40, publisher, 14, bold=True, color=BLUE)
        self.text(MARGIN, MARGIN + 18, date, 11, color=GREY)

    def contents_page(self, headings):
        self.new_page()
        self.block(self.labels["contents"], 20, 30, bold=True, color=BLUE, gap_after=14)
        for heading in headings:
            self.block(heading, 12, 24)

    def chapter(self, heading, paragraphs):
        if self.y < MARGIN + 160:
            self.new_page()
        self.y -= 14
        self.block(heading, 16, 26, bold=True, color=BLUE, gap_after=6)
        for paragraph in paragraphs:
            self.block(paragraph, 11, 19, gap_after=8)

    def footers(self):
        """A rule, the publisher and the page number at the foot of every page but the first."""
        for number, ops in enumerate(self.pages[1:], start=2):
            label = self.labels["page"].format(number)
            ops.append(f"{GREY} RG 0.5 w {MARGIN} {MARGIN} m {PAGE_W - MARGIN} {MARGIN} l S")
            self.text(MARGIN, MARGIN - 16, self.labels["publisher"], 9, color=GREY, page=ops)
            width = sum(char_width(c, self.cjk) for c in label) * 9
            self.text(PAGE_W - MARGIN - width, MARGIN - 16, label, 9, color=GREY, page=ops)


# --- PDF objects ----------------------------------------------------------------------


def font_objects(doc):
    """The font resources dictionary body and the font objects it refers to (from id 3)."""
    if doc.cjk:
        return cjk_font_objects(doc.characters)
    return "/F1 3 0 R /F2 4 0 R", [
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
    ]


def utf16_text(text):
    """A text string for the document information dictionary."""
    return "<FEFF" + text.encode("utf-16-be").hex().upper() + ">"


def serialise(doc, title):
    """The bytes of a PDF 1.4 file with a correct cross-reference table."""
    font_dict, fonts = font_objects(doc)
    first_page = 3 + len(fonts)
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
    }
    for offset, body in enumerate(fonts):
        objects[3 + offset] = body
    kids = []
    for index, ops in enumerate(doc.pages):
        page_id = first_page + 2 * index
        kids.append(f"{page_id} 0 R")
        objects[page_id] = (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_W} {PAGE_H}] "
            f"/Resources << /Font << {font_dict} >> >> /Contents {page_id + 1} 0 R >>"
        ).encode()
        objects[page_id + 1] = stream("\n".join(ops).encode("latin-1"))
    objects[2] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>".encode()
    info_id = max(objects) + 1
    objects[info_id] = (
        f"<< /Title {utf16_text(title)} /Author {utf16_text(doc.labels['publisher'])} "
        f"/Producer (Lodestar demo make_pdfs.py) >>"
    ).encode()

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += f"{number} 0 obj\n".encode() + objects[number] + b"\nendobj\n"
    xref = len(out)
    count = max(objects) + 1
    out += f"xref\n0 {count}\n0000000000 65535 f \n".encode()
    for number in range(1, count):
        out += f"{offsets[number]:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {count} /Root 1 0 R /Info {info_id} 0 R >>\n".encode()
    out += f"startxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def build(path):
    """(target path, PDF bytes) for one white paper Markdown file."""
    meta, body = read_article(path)
    locale = meta.get("locale", "zh-CN")
    doc = Document(locale)
    intro, chapters = sections(body)
    doc.title_page(meta["title"], meta.get("summary", ""), doc.labels["publisher"], meta["published_at"])
    doc.contents_page([heading for heading, _ in chapters])
    doc.new_page()
    for paragraph in intro:
        doc.block(paragraph, 11, 19, gap_after=8)
    details = CHAPTER_DETAIL.get(meta["slug"], [])
    if details and len(details) != len(chapters):
        raise SystemExit(f"{path.name}: {len(chapters)} chapters but {len(details)} in CHAPTER_DETAIL")
    for index, (heading, paragraphs) in enumerate(chapters):
        doc.chapter(heading, paragraphs + (details[index] if details else []))
    doc.chapter(doc.labels["about_title"], [doc.labels["about"]])
    doc.footers()
    return path.parent / meta["asset"], serialise(doc, meta["title"])


def main(argv):
    check = "--check" in argv
    stale = []
    for path in sorted(ARTICLES.glob("*.md")):
        meta, _ = read_article(path)
        if meta.get("kind") != "whitepaper":
            continue
        target, data = build(path)
        if check:
            if not target.exists() or target.read_bytes() != data:
                stale.append(target)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        print(f"{target.relative_to(ARTICLES)}: {len(data)} bytes")
    for target in stale:
        print(f"out of date: {target.relative_to(ARTICLES)}", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
