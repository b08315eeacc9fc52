"""Channels test helpers: a short link made through the service, a visit through it and
a submission of the white paper's form made by following the redirect as a browser does."""

import struct
import zlib
from urllib.parse import parse_qsl, urlsplit

import pytest

from channels import links
from core.timeutil import utcnow
from tests.factories import form_data, make_whitepaper


@pytest.fixture
def whitepaper(app):
    return make_whitepaper()


def make_link(**data):
    return links.save_link({"target": "/library/saas-renewal", **data}, now=utcnow())


def follow_and_submit(client, path: str, **fields):
    """Open `path` (a short link), land where it redirects, and send the form as the
    browser does: to the landing page's own URL, whose utm tags the server reads then
    (the page itself carries none): the lead's submission response and those tags."""
    redirect = client.get(path)
    assert redirect.status_code == 302, redirect.status_code
    location = redirect.headers["Location"]
    landing = client.get(location)
    assert landing.status_code == 200
    parts = urlsplit(location)
    data = form_data(**{"utm_source": None, "utm_medium": None, "utm_campaign": None}, **fields)
    return client.post(f"{parts.path}?{parts.query}", data=data), dict(parse_qsl(parts.query))


def png_facts(data: bytes) -> tuple[int, int, list[list[int]]]:
    """(width, height, rows of 0/1 pixels: 1 dark) of a greyscale or palette PNG as segno
    writes it (bit depth 1, no interlace), decoded with zlib alone."""
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    pos, idat, header = 8, b"", None
    palette = None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"PLTE":
            palette = [body[i : i + 3] for i in range(0, len(body), 3)]
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour, _c, _f, interlace = header
    assert depth == 1 and interlace == 0 and colour in (0, 3)
    raw = zlib.decompress(idat)
    stride = (width + 7) // 8
    rows, previous = [], bytes(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        if kind == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, previous, strict=True))
        else:
            assert kind == 0, f"filter {kind}"
        previous = bytes(line)
        bits = [(line[x // 8] >> (7 - x % 8)) & 1 for x in range(width)]
        if colour == 0:
            rows.append([1 - bit for bit in bits])  # greyscale: 0 is black
        else:
            rows.append([1 if palette[bit] == b"\x00\x00\x00" else 0 for bit in bits])
    return width, height, rows


def tiny_png(width: int, height: int, padding: int = 0) -> bytes:
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    raw = b"".join(b"\x00" + b"\xff" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + (chunk(b"tEXt", b"c\x00" + b"x" * padding) if padding else b"")
        + chunk(b"IEND", b"")
    )


WECHAT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN"
)
