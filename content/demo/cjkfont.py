"""The Chinese font of the demo PDFs (make_pdfs.py): WenQuanYi Micro Hei from Debian's
fonts-wqy-microhei (Apache 2.0, or GPLv3 with its font exception), measured to wrap the
lines and embedded as a subset of the characters a PDF uses.

A Type0 font over a CIDFontType2 whose TrueType program is the subset (FontFile2). The
CIDs are the characters' Unicode code points, so text strings are hex UTF-16BE; a
CIDToGIDMap stream maps them to the subset's glyphs, and a ToUnicode map keeps the text
searchable and copyable.
"""

import hashlib
import io
import zlib
from functools import cache
from pathlib import Path

CJK_FONT_FILE = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
CJK_FONT_NAME = "WenQuanYiMicroHei"


@cache
def cjk_font():
    """The whole font, read once: its metrics wrap the lines, its glyphs are subset."""
    from fontTools.ttLib import TTFont

    if not CJK_FONT_FILE.exists():
        raise SystemExit(f"{CJK_FONT_FILE} is missing: apt-get install fonts-wqy-microhei")
    return TTFont(CJK_FONT_FILE, fontNumber=0, lazy=False, recalcTimestamp=False)


@cache
def cjk_width(ch):
    """Advance width of one character in the CJK font, in 1/1000 em."""
    font = cjk_font()
    glyph = font.getBestCmap().get(ord(ch))
    if glyph is None:
        raise SystemExit(f"{ch!r} (U+{ord(ch):04X}) is not in {CJK_FONT_NAME}")
    return round(font["hmtx"][glyph][0] * 1000 / font["head"].unitsPerEm)


def stream(data, **entries):
    """A FlateDecode stream object's bytes, with any further dictionary entries."""
    packed = zlib.compress(data, 9)
    extra = "".join(f" /{key} {value}" for key, value in entries.items())
    return (
        f"<< /Length {len(packed)} /Filter /FlateDecode{extra} >>\nstream\n".encode()
        + packed
        + b"\nendstream"
    )


def cjk_subset(characters):
    """(TrueType program, {code point: glyph id}) of the CJK font cut down to
    `characters`. Deterministic: the same characters give the same bytes."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.hinting = False  # hints help only small sizes on screens without smoothing
    options.layout_features = []  # every glyph is placed by code point, one by one
    options.notdef_outline = True
    options.drop_tables += ["FFTM"]  # FontForge's timestamps: nothing a reader needs
    font = TTFont(CJK_FONT_FILE, fontNumber=0, lazy=False, recalcTimestamp=False)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(ch) for ch in characters])
    subsetter.subset(font)
    program = io.BytesIO()
    font.save(program)
    glyphs = {code: font.getGlyphID(name) for code, name in font.getBestCmap().items()}
    return program.getvalue(), glyphs


def to_unicode(codes):
    """A ToUnicode CMap: each CID is its character's code point."""
    lines = [
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap",
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        "/CMapName /Adobe-Identity-UCS def /CMapType 2 def",
        "1 begincodespacerange <0000> <FFFF> endcodespacerange",
    ]
    for start in range(0, len(codes), 100):
        chunk = codes[start : start + 100]
        lines.append(f"{len(chunk)} beginbfchar")
        lines += [f"<{code:04X}> <{code:04X}>" for code in chunk]
        lines.append("endbfchar")
    lines += ["endcmap CMapName currentdict /CMap defineresource pop end end"]
    return "\n".join(lines).encode()


def cjk_font_objects(characters):
    """The Type0 font (object 3) and what it refers to (4 to 8), embedding a subset."""
    font = cjk_font()
    codes = sorted({ord(ch) for ch in characters})
    if any(code > 0xFFFF for code in codes):
        raise SystemExit("characters beyond the Basic Multilingual Plane need a second code byte")
    program, glyphs = cjk_subset(characters)
    cid_to_gid = bytearray(2 * (codes[-1] + 1))
    for code in codes:
        cid_to_gid[2 * code : 2 * code + 2] = glyphs[code].to_bytes(2, "big")
    # A subset's name carries a tag of six capitals, here derived from its characters.
    digest = hashlib.sha256("".join(map(chr, codes)).encode()).digest()
    name = "".join(chr(65 + byte % 26) for byte in digest[:6]) + "+" + CJK_FONT_NAME
    scale = 1000 / font["head"].unitsPerEm
    head, hhea = font["head"], font["hhea"]
    bbox = " ".join(str(round(v * scale)) for v in (head.xMin, head.yMin, head.xMax, head.yMax))
    widths = " ".join(f"{code} [{cjk_width(chr(code))}]" for code in codes)
    return "/F1 3 0 R", [
        f"<< /Type /Font /Subtype /Type0 /BaseFont /{name} /Encoding /Identity-H "
        "/DescendantFonts [4 0 R] /ToUnicode 7 0 R >>".encode(),
        f"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /{name} "
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
        f"/FontDescriptor 5 0 R /DW 1000 /W [{widths}] /CIDToGIDMap 8 0 R >>".encode(),
        f"<< /Type /FontDescriptor /FontName /{name} /Flags 4 /FontBBox [{bbox}] /ItalicAngle 0 "
        f"/Ascent {round(hhea.ascent * scale)} /Descent {round(hhea.descent * scale)} "
        f"/CapHeight {round(font['OS/2'].sCapHeight * scale)} /StemV 80 /FontFile2 6 0 R >>".encode(),
        stream(program, Length1=len(program)),
        stream(to_unicode(codes)),
        stream(bytes(cid_to_gid)),
    ]
