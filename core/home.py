"""The pieces of the staff home at /admin/: each package renders its own section through
`panel()` (registered with core.hooks.add_home_panel), so every section looks alike and
the home page only lays them out.

A section holds figures (a count that links to the list it counts, with a four-week trend
where one matters) and rows (the things that need the reader, each a link)."""

from dataclasses import dataclass, field

from flask import render_template
from flask_babel import gettext as _
from markupsafe import Markup

SPARK_WIDTH, SPARK_HEIGHT = 96, 24


@dataclass
class Figure:
    """A count that links to the filtered list it counts. `weeks`, oldest first (this
    week last), draws a sparkline and compares this week with the last one. `alert` marks
    a count that is a problem when it is not zero (failed mails, a stalled queue)."""

    label: str
    count: int
    url: str
    weeks: list[int] = field(default_factory=list)
    alert: bool = False

    @property
    def change(self) -> int | None:
        return self.weeks[-1] - self.weeks[-2] if len(self.weeks) >= 2 else None

    @property
    def spark_points(self) -> str:
        """The sparkline's polyline points in a SPARK_WIDTH × SPARK_HEIGHT box."""
        if len(self.weeks) < 2:
            return ""
        top = max(self.weeks) or 1
        step = SPARK_WIDTH / (len(self.weeks) - 1)
        return " ".join(
            f"{round(i * step, 1)},{round(SPARK_HEIGHT - 2 - value / top * (SPARK_HEIGHT - 4), 1)}"
            for i, value in enumerate(self.weeks)
        )


@dataclass
class Row:
    """One thing in a section's list: what it is, where to open it, and a note (a time
    left, a state) that `urgent` shows as a warning."""

    text: str
    url: str
    note: str = ""
    urgent: bool = False


def panel(key: str, title: str, *, figures=(), rows=(), empty: str = "", more_url: str = "") -> Markup:
    """A home section: `key` names it (its heading's id: home-<key>), `empty` says what
    the list's absence means ("nothing waits for you"), `more_url` opens the whole list."""
    return Markup(
        render_template(
            "_home_panel.html",
            key=key,
            title=title,
            figures=list(figures),
            rows=list(rows),
            empty=empty or _("Nothing needs you here."),
            more_url=more_url,
            spark=(SPARK_WIDTH, SPARK_HEIGHT),
        )
    )
