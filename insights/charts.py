"""Server-rendered bar charts: the geometry is computed here and drawn as inline SVG by
the template (no chart script, nothing from a CDN; the CSP forbids inline scripts). Each
chart sits next to the table of its figures, which is its text alternative."""

from dataclasses import dataclass

WIDTH = 640
LABEL_WIDTH = 170
BAR_HEIGHT = 22
GAP = 8


@dataclass
class Bar:
    label: str
    value: int
    text: str
    y: int
    width: float


@dataclass
class BarChart:
    bars: list[Bar]
    width: int
    height: int
    label_width: int


def bar_chart(items: list[tuple[str, int, str]]) -> BarChart:
    """Horizontal bars for (label, value, text shown after the bar), scaled to the
    largest value."""
    largest = max((value for _label, value, _text in items), default=0) or 1
    room = WIDTH - LABEL_WIDTH - 90
    bars = [
        Bar(str(label), value, text, index * (BAR_HEIGHT + GAP), round(room * value / largest, 1))
        for index, (label, value, text) in enumerate(items)
    ]
    return BarChart(bars, WIDTH, max(len(bars) * (BAR_HEIGHT + GAP) - GAP, BAR_HEIGHT), LABEL_WIDTH)
