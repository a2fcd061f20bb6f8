"""Charts drawn on the server as SVG: no JavaScript, readable by screen readers through <title> and <desc>."""

from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from caseapp import formatting

PALETTE = ("#3b6ea8", "#6a9a5b", "#c08a3e", "#8a5fa8", "#4f9a9a", "#b85c5c", "#7a7a7a")


def _no_data() -> str:
    return gettext("No data for this period.")


def _svg_open(*, title: str, rows, unit: str, chart_id: str, width: int, height) -> list[str]:
    """The opening of an accessible chart: the svg element, its title and a text description of every value."""
    described = "; ".join(f"{label}: {_fmt(value)} {unit}" for label, value in rows) or _no_data()
    return [
        f'<svg class="chart" role="img" aria-labelledby="{chart_id}-t {chart_id}-d" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(described)}</desc>',
        f'<text x="0" y="16" class="chart-title">{escape(title)}</text>',
    ]

def _fmt(value) -> str:
    """A value in the reader's language (Babel): "1,200.00", "1 200,00", "1.200,00"."""
    if isinstance(value, Decimal):
        return formatting.decimal2(value)
    return formatting.number(value)


LABEL_LINE_CHARS = 24  # what fits in the label column on one line


def _label_lines(label: str) -> list[str]:
    """A bar's label on at most two lines, broken between words; a label still too long ends in "…" (the full
    label is in the bar's <title>)."""
    words, lines, line = label.split(), [], ""
    for word in words:
        candidate = f"{line} {word}".strip()
        if len(candidate) <= LABEL_LINE_CHARS or not line:
            line = candidate
        else:
            lines.append(line)
            line = word
    lines.append(line)
    if len(lines) > 2:
        lines = [lines[0], " ".join(lines[1:])]
    return [text if len(text) <= LABEL_LINE_CHARS else text[:LABEL_LINE_CHARS - 1] + "…" for text in lines]


def bar_chart(*, title: str, rows: list[tuple[str, Decimal | int]], unit: str = "", chart_id: str = "chart",
              width: int = 460) -> str:
    """Horizontal bars, one per (label, value), longest first as given."""
    bar_height, gap, label_width, value_width = 24, 10, 178, 112
    height = max(len(rows), 1) * (bar_height + gap) + 36
    top = max((value for _, value in rows), default=0) or 1
    plot = width - label_width - value_width
    parts = _svg_open(title=title, rows=rows, unit=unit, chart_id=chart_id, width=width, height=height)
    if not rows:  # say so, rather than draw a zero
        parts.append(f'<text x="0" y="44" class="chart-empty">{escape(_no_data())}</text>')
    for index, (label, value) in enumerate(rows):
        y = 28 + index * (bar_height + gap)
        length = max(int(plot * float(value) / float(top)), 1) if value else 0
        colour = PALETTE[index % len(PALETTE)]
        lines = _label_lines(label)
        first_y = y + 16 if len(lines) == 1 else y + 10
        spans = "".join(f'<tspan x="{label_width - 8}" y="{first_y + 12 * n}">{escape(text)}</tspan>'
                        for n, text in enumerate(lines))
        parts.append(
            f'<text text-anchor="end" class="chart-label"><title>{escape(label)}</title>{spans}</text>'
            f'<rect x="{label_width}" y="{y}" width="{length}" height="{bar_height}" rx="3" fill="{colour}"/>'
            f'<text x="{label_width + length + 6}" y="{y + 15}" class="chart-value">'
            f"{escape(_fmt(value))} {escape(unit)}</text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every piece of text above is escaped


def column_chart(*, title: str, rows: list[tuple[str, Decimal | int]], unit: str = "", chart_id: str = "chart",
                 width: int = 460, height: int = 220, ticks: list[tuple[str, str]] | None = None) -> str:
    """Vertical columns over time (e.g. cost per month). `ticks` are the axis labels under the columns, two lines
    each (e.g. the month, and the year where it changes); by default the rows' labels."""
    ticks = ticks or [(label, "") for label, _ in rows]
    top = max((value for _, value in rows), default=0) or 1
    base, plot_h = height - 40, height - 82  # room for two lines of axis labels
    step = (width - 20) / max(len(rows), 1)
    col = max(min(step * 0.7, 48), 4)
    parts = _svg_open(title=title, rows=rows, unit=unit, chart_id=chart_id, width=width, height=height) + [
        f'<line x1="10" y1="{base}" x2="{width - 10}" y2="{base}" class="chart-axis"/>',
    ]
    if not rows:
        parts.append(f'<text x="10" y="44" class="chart-empty">{escape(_no_data())}</text>')
    for index, ((label, value), (tick, tick_below)) in enumerate(zip(rows, ticks, strict=True)):
        x = 10 + index * step + (step - col) / 2
        h = plot_h * float(value) / float(top) if value else 0
        centre = x + col / 2
        parts.append(
            f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{col:.1f}" height="{h:.1f}" rx="2" fill="{PALETTE[0]}">'
            f"<title>{escape(label)}: {escape(_fmt(value))} {escape(unit)}</title></rect>"
            f'<text x="{centre:.1f}" y="{base + 16}" text-anchor="middle" class="chart-label">{escape(tick)}</text>'
            f'<text x="{centre:.1f}" y="{base - h - 4:.1f}" text-anchor="middle" class="chart-value">'
            f"{escape(_fmt(value))}</text>"
        )
        if tick_below:
            parts.append(f'<text x="{centre:.1f}" y="{base + 31}" text-anchor="middle" class="chart-label">'
                         f"{escape(tick_below)}</text>")
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every piece of text above is escaped
