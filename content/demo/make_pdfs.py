"""Write the small PDF of every demo white paper.

Each white paper in ``articles/`` names its gated file in front matter
(``asset: files/<slug>.pdf``). This script reads those Markdown files and writes,
for each, a multi-page PDF with a title page, a contents page and the chapters
(the section headings and their paragraphs), so the demo download is a real,
readable document that matches its landing page.

Standard library only, so the demo needs no PDF package. Chinese text uses the
non-embedded Adobe CJK font STSong-Light (a Type0 font over a CIDFontType0 with
Adobe/GB1/2, encoding UniGB-UCS2-H, strings as hex UTF-16BE): every PDF reader
ships or substitutes it, so no font file makes the PDF large. English text uses
the standard 14 Helvetica fonts. Output is deterministic: running the script
again gives the same bytes, so the files only change in git when the text does.

Usage: python content/demo/make_pdfs.py [--check]
    --check  rebuild in memory and exit 1 if a committed PDF is out of date.
"""

import re
import sys
import zlib
from pathlib import Path

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

# STSong-Light's published advance widths for its proportional Latin glyphs, CIDs 1..95,
# which UniGB-UCS2-H maps from ASCII 32..126. Declared in /W so every reader spaces
# Latin words inside Chinese text the same way, and used here to wrap lines.
STSONG_ASCII = [
    207, 270, 342, 467, 462, 797, 710, 239, 374, 374, 423, 605, 238, 375, 238, 334,
    462, 462, 462, 462, 462, 462, 462, 462, 462, 462, 238, 238, 605, 605, 605, 344,
    748, 684, 560, 695, 739, 563, 511, 729, 793, 318, 312, 666, 526, 896, 758, 772,
    544, 772, 628, 465, 607, 753, 711, 972, 647, 620, 607, 374, 333, 374, 606, 500,
    239, 417, 503, 427, 529, 415, 264, 444, 518, 241, 230, 495, 228, 793, 527, 524,
    524, 504, 338, 336, 277, 517, 450, 652, 466, 452, 407, 370, 258, 370, 605,
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
    code = ord(ch)
    if 32 <= code <= 126:
        return (STSONG_ASCII if cjk else HELVETICA)[code - 32] / 1000
    if cjk:
        return 1.0
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

    def new_page(self):
        self.pages.append([])
        self.y = PAGE_H - MARGIN

    def text(self, x, y, line, size, bold=False, color="0 0 0", page=None):
        """One line of text at (x, y), on the given page's operators or the last page's."""
        font = "/F2" if bold and not self.cjk else "/F1"
        # STSong-Light has no bold face: headings are filled and stroked instead.
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


def font_objects(cjk):
    """The font resources dictionary body and the font objects it refers to (from id 3)."""
    if cjk:
        return "/F1 3 0 R", [
            "<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light "
            "/Encoding /UniGB-UCS2-H /DescendantFonts [4 0 R] >>",
            "<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> "
            f"/FontDescriptor 5 0 R /DW 1000 /W [1 [{' '.join(map(str, STSONG_ASCII))}]] >>",
            "<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 "
            "/FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 "
            "/CapHeight 880 /StemV 93 >>",
        ]
    return "/F1 3 0 R /F2 4 0 R", [
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
    ]


def utf16_text(text):
    """A text string for the document information dictionary."""
    return "<FEFF" + text.encode("utf-16-be").hex().upper() + ">"


def serialise(doc, title):
    """The bytes of a PDF 1.4 file with a correct cross-reference table."""
    font_dict, fonts = font_objects(doc.cjk)
    first_page = 3 + len(fonts)
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
    }
    for offset, body in enumerate(fonts):
        objects[3 + offset] = body.encode()
    kids = []
    for index, ops in enumerate(doc.pages):
        page_id = first_page + 2 * index
        stream = zlib.compress("\n".join(ops).encode("latin-1"), 9)
        kids.append(f"{page_id} 0 R")
        objects[page_id] = (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_W} {PAGE_H}] "
            f"/Resources << /Font << {font_dict} >> >> /Contents {page_id + 1} 0 R >>"
        ).encode()
        objects[page_id + 1] = (
            f"<< /Length {len(stream)} /Filter /FlateDecode >>\nstream\n".encode() + stream + b"\nendstream"
        )
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
    for heading, paragraphs in chapters:
        doc.chapter(heading, paragraphs)
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
