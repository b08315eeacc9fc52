"""The demo white papers' PDFs read the same on every reader: each font a Chinese PDF
uses is embedded (a FontFile2 TrueType subset with a ToUnicode map), found by parsing
the committed files' font descriptors; and the files are what make_pdfs.py makes."""

import re
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[2] / "content" / "demo"
PDFS = sorted((DEMO / "articles" / "files").glob("*.pdf"))
STANDARD_14 = {b"Helvetica", b"Helvetica-Bold"}


def pdf_objects(data: bytes) -> dict[int, bytes]:
    return {int(number): body for number, body in re.findall(rb"(\d+) 0 obj\n(.*?)\nendobj", data, re.S)}


def ref(body: bytes, key: bytes) -> int | None:
    found = re.search(rb"/" + key + rb" (\d+) 0 R", body)
    return int(found.group(1)) if found else None


def stream_data(body: bytes) -> bytes:
    packed = body.split(b"stream\n", 1)[1].rsplit(b"\nendstream", 1)[0]
    return zlib.decompress(packed) if b"/FlateDecode" in body.split(b"stream\n", 1)[0] else packed


def fonts(objects: dict[int, bytes]) -> list[bytes]:
    return [body for body in objects.values() if b"/Type /Font " in body]


def chinese(path: Path) -> bool:
    return b"/Type0" in path.read_bytes()


def test_there_are_chinese_and_english_demo_pdfs():
    assert any(chinese(path) for path in PDFS) and not all(chinese(path) for path in PDFS)


@pytest.mark.parametrize("path", [path for path in PDFS if chinese(path)], ids=lambda path: path.name)
def test_every_font_of_a_chinese_pdf_is_embedded_as_a_subset(path):
    objects = pdf_objects(path.read_bytes())
    descendants = [body for body in fonts(objects) if b"/CIDFontType" in body]
    assert descendants
    for font in descendants:
        descriptor = objects[ref(font, b"FontDescriptor")]
        program_id = ref(descriptor, b"FontFile2") or ref(descriptor, b"FontFile3")
        assert program_id is not None, f"{path.name}: a font without its program"
        program = stream_data(objects[program_id])
        assert program[:4] == b"\x00\x01\x00\x00"  # a TrueType font program
        assert int(re.search(rb"/Length1 (\d+)", objects[program_id]).group(1)) == len(program)
        # A subset (its name tagged ABCDEF+), a small part of the 5 MB font.
        assert re.search(rb"/FontName /[A-Z]{6}\+", descriptor)
        assert len(program) < 500_000
    for font in fonts(objects):
        if b"/Type0" in font:
            to_unicode = stream_data(objects[ref(font, b"ToUnicode")])
            assert b"beginbfchar" in to_unicode  # the text stays searchable and copyable


@pytest.mark.parametrize("path", [path for path in PDFS if not chinese(path)], ids=lambda path: path.name)
def test_an_english_pdf_uses_only_the_standard_fonts_every_reader_has(path):
    names = [
        re.search(rb"/BaseFont /([\w-]+)", font).group(1) for font in fonts(pdf_objects(path.read_bytes()))
    ]
    assert set(names) <= STANDARD_14


def test_the_committed_pdfs_are_what_make_pdfs_makes():
    pytest.importorskip("fontTools", reason="fontTools (requirements-dev.txt) rebuilds the PDFs")
    from content.demo.cjkfont import CJK_FONT_FILE

    if not CJK_FONT_FILE.exists():
        pytest.skip(f"{CJK_FONT_FILE} is missing (apt-get install fonts-wqy-microhei)")
    result = subprocess.run(
        [sys.executable, "-m", "content.demo.make_pdfs", "--check"],
        cwd=DEMO.parents[1],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
