"""Charts of report tables: pygal bar charts rendered on the server as small inline SVG.

pygal's SVG carries a configuration script, an external JavaScript reference for tooltips,
its own stylesheet and metadata for every bar; none of it is needed for a chart that is
printed or read without JavaScript, and together they weigh ten times the drawing. So the
chart is rendered as a tree, stripped to the drawing, and styled by the page's stylesheet
(``lms/static/reports.css``, inlined into the PDF). The numbers are always in the table
next to the chart as well.
"""

from __future__ import annotations

import math
import re
from typing import Any

from lxml import etree
from markupsafe import Markup

from lms.reports.indicators import Table

#: The charts' stylesheet: once in the page's head, and inside every SVG of the PDF
#: (WeasyPrint does not apply the document's CSS to inline SVG). Colours differ in lightness
#: too, so the series stay apart when printed in black and white.
CHART_CSS = (
    ".pygal-chart .background{fill:#fff}"
    ".pygal-chart text{font-family:'Noto Sans','DejaVu Sans',sans-serif;font-size:12px;"
    "fill:#1d2430}"
    ".pygal-chart .axis text{font-size:11px}"
    ".pygal-chart .axis.x text{text-anchor:middle}.pygal-chart .axis.y text{text-anchor:end}"
    ".pygal-chart path{fill:none;stroke:#d5dae1}"
    ".pygal-chart .axis path.major{stroke:#5a6473}"
    ".pygal-chart text.value{font-size:11px;fill:#fff}"
    ".pygal-chart .color-1 text.value,.pygal-chart .color-3 text.value{fill:#1d2430}"
    ".color-0 rect,.swatch.color-0{fill:#0b6e4f;background:#0b6e4f}"
    ".color-1 rect,.swatch.color-1{fill:#f2b705;background:#f2b705}"
    ".color-2 rect,.swatch.color-2{fill:#3f51b5;background:#3f51b5}"
    ".color-3 rect,.swatch.color-3{fill:#9fc5e8;background:#9fc5e8}"
)
#: At most this many rows are drawn; the table lists them all (the chart says so).
MAX_BARS = 15
WIDTH = 640
_DECIMALS = re.compile(r"(\d+\.\d)\d+")
#: Elements that only serve pygal's scripts (tooltips, interactivity) or its stylesheet;
#: pygal's tree has plain tag names (the namespace is added when it is serialised).
_DROP = ("script", "style", "desc", "defs", "title")


def chart_rows(table: Table) -> list[Any]:
    """The rows a chart draws: not the total, and at most ``MAX_BARS``."""
    if table.chart is None:
        return []
    rows = [row for row in table.rows if not row.total]
    return rows[:MAX_BARS]


def render_chart(table: Table, *, embed_style: bool = False) -> Markup | None:
    """The table's chart as inline SVG markup, or ``None`` with nothing to draw.

    ``embed_style`` puts ``CHART_CSS`` inside the SVG, for documents (the PDF) whose
    renderer does not style inline SVG from the page.
    """
    spec = table.chart
    rows = chart_rows(table)
    if spec is None or not rows:
        return None
    series = {
        column_id: [_number(row.values.get(column_id)) for row in rows]
        for column_id in spec.columns
    }
    if not any(value for values in series.values() for value in values):
        return None
    import pygal  # imported with the first chart: 12 MB a worker that never draws one keeps
    from pygal.style import Style

    kind = pygal.HorizontalStackedBar if spec.stacked else pygal.HorizontalBar
    extra: dict[str, Any] = {}
    if all(table.column(column_id).kind == "count" for column_id in spec.columns):
        # Whole-number ticks for counts (pygal would draw 0.2, 0.4… for small numbers).
        extra["y_labels"] = _whole_ticks(series, spec.stacked)
    chart = kind(
        width=WIDTH,
        height=40 + 28 * len(rows),
        # Font sizes as CHART_CSS sets them, so pygal leaves room for the labels.
        style=Style(
            font_family="sans-serif",
            background="transparent",
            label_font_size=12,
            major_label_font_size=12,
            value_font_size=11,
        ),
        js=[],
        css=[],
        disable_xml_declaration=True,
        no_prefix=True,
        tooltips=False,
        print_values=True,
        print_zeroes=False,
        show_legend=False,  # the page shows the legend in HTML, next to the chart
        truncate_label=32,
        min_scale=2,
        max_scale=6,
        margin=8,
        spacing=6,
        show_y_guides=False,
        value_formatter=_format,
        pretty_print=False,
        **extra,
    )
    # pygal draws the first row at the bottom; reversed, the chart reads like the table.
    chart.x_labels = [row.label for row in reversed(rows)]
    for column_id, values in series.items():
        chart.add(str(table.column(column_id).label), list(reversed(values)))
    return Markup(_clean(chart.render_tree(), str(table.title), embed_style))  # nosec B704  # SVG serialised by lxml (text escaped), scripts dropped


def legend(table: Table) -> list[tuple[str, str]]:
    """(CSS class, label) of each series, for the legend the page writes in HTML."""
    if table.chart is None:
        return []
    return [
        (f"color-{index}", str(table.column(column_id).label))
        for index, column_id in enumerate(table.chart.columns)
    ]


def _whole_ticks(series: dict[str, list[float | None]], stacked: bool) -> list[int]:
    """0 … a round top, in at most about six whole steps."""
    columns = list(series.values())
    if stacked:
        top = max(sum(v or 0 for v in values) for values in zip(*columns, strict=True))
    else:
        top = max(v or 0 for values in columns for v in values)
    raw = max(1, math.ceil(top / 5))
    magnitude = 10 ** (len(str(raw)) - 1)
    step = next(n * magnitude for n in (1, 2, 5, 10) if n * magnitude >= raw)
    return list(range(0, int(math.ceil(top / step) * step) + 1, step))


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _format(value: float) -> str:
    return f"{value:g}"


def _clean(tree: Any, title: str, embed_style: bool) -> str:
    """Keep the drawing: no scripts, styles, metadata, ids or fifteen-digit coordinates."""
    for element in list(tree.iter(*_DROP, etree.Comment)):
        parent = element.getparent()
        if parent is not None:
            parent.remove(element)
    for group in list(tree.iter("g")):
        classes = set(group.get("class", "").split())
        if classes & {"overlay", "tooltip-overlay", "titles"}:
            group.getparent().remove(group)
    for text in list(tree.iter("text")):
        if not (text.text or "").strip():  # a zero pygal was told not to print
            text.getparent().remove(text)
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        for name in ("id", "rx", "ry"):
            element.attrib.pop(name, None)
        classes = element.get("class")
        if classes is not None:
            kept = " ".join(c for c in classes.split() if c not in {"reactive", "tooltip-trigger"})
            element.set("class", kept) if kept else element.attrib.pop("class")
    tree.set("role", "img")
    heading = etree.Element("title")
    heading.text = title
    tree.insert(0, heading)
    if embed_style:
        style = etree.Element("style")
        style.text = CHART_CSS
        tree.insert(1, style)
    text = etree.tostring(tree, encoding="unicode")
    text = text.replace(' xmlns:xlink="http://www.w3.org/1999/xlink"', "")
    return _DECIMALS.sub(r"\1", text)
