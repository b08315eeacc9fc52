"""QR codes of short links (segno): SVG for print and slides, PNG for WeChat articles.
Error correction M with a 4-module quiet zone, as scanners in poor light need."""

import io

import segno

PNG_SCALE = 10


def qr_code(data: str) -> segno.QRCode:
    return segno.make_qr(data, error="m", boost_error=False)


def svg(data: str) -> bytes:
    out = io.BytesIO()
    qr_code(data).save(out, kind="svg", scale=8, border=4, xmldecl=True, svgns=True)
    return out.getvalue()


def png(data: str, *, scale: int = PNG_SCALE) -> bytes:
    out = io.BytesIO()
    qr_code(data).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def svg_inline(data: str) -> str:
    """An SVG element to put in a page (no XML declaration)."""
    out = io.BytesIO()
    qr_code(data).save(
        out, kind="svg", scale=4, border=4, xmldecl=False, svgns=True, svgclass="qr", omitsize=True
    )
    return out.getvalue().decode()
