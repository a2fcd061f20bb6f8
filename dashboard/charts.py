"""Charts drawn on the server as SVG: no JavaScript, readable by screen readers through <title> and <desc>."""

from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import mark_safe

PALETTE = ("#3b6ea8", "#6a9a5b", "#c08a3e", "#8a5fa8", "#4f9a9a", "#b85c5c", "#7a7a7a")



def _svg_open(*, title: str, rows, unit: str, chart_id: str, width: int, height) -> list[str]:
    """The opening of an accessible chart: the svg element, its title and a text description of every value."""
    described = "; ".join(f"{label}: {_fmt(value)} {unit}" for label, value in rows)
    return [
        f'<svg class="chart" role="img" aria-labelledby="{chart_id}-t {chart_id}-d" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(described)}</desc>',
        f'<text x="0" y="16" class="chart-title">{escape(title)}</text>',
    ]

def _fmt(value) -> str:
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    return f"{value:,}"


def bar_chart(*, title: str, rows: list[tuple[str, Decimal | int]], unit: str = "", chart_id: str = "chart",
              width: int = 460) -> str:
    """Horizontal bars, one per (label, value), longest first as given."""
    bar_height, gap, label_width, value_width = 22, 8, 178, 112
    height = max(len(rows), 1) * (bar_height + gap) + 36
    top = max((value for _, value in rows), default=0) or 1
    plot = width - label_width - value_width
    parts = _svg_open(title=title, rows=rows, unit=unit, chart_id=chart_id, width=width, height=height)
    if not rows:
        parts.append('<text x="0" y="40" class="chart-empty">—</text>')
    for index, (label, value) in enumerate(rows):
        y = 28 + index * (bar_height + gap)
        length = max(int(plot * float(value) / float(top)), 1) if value else 0
        colour = PALETTE[index % len(PALETTE)]
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 15}" text-anchor="end" class="chart-label">'
            f"{escape(label[:24])}</text>"
            f'<rect x="{label_width}" y="{y}" width="{length}" height="{bar_height}" rx="3" fill="{colour}"/>'
            f'<text x="{label_width + length + 6}" y="{y + 15}" class="chart-value">'
            f"{escape(_fmt(value))} {escape(unit)}</text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every piece of text above is escaped  # nosec B308, B703


def column_chart(*, title: str, rows: list[tuple[str, Decimal | int]], unit: str = "", chart_id: str = "chart",
                 width: int = 460, height: int = 220) -> str:
    """Vertical columns over time (e.g. cost per month)."""
    top = max((value for _, value in rows), default=0) or 1
    base, plot_h = height - 28, height - 70
    step = (width - 20) / max(len(rows), 1)
    col = max(min(step * 0.7, 48), 4)
    parts = _svg_open(title=title, rows=rows, unit=unit, chart_id=chart_id, width=width, height=height) + [
        f'<line x1="10" y1="{base}" x2="{width - 10}" y2="{base}" class="chart-axis"/>',
    ]
    for index, (label, value) in enumerate(rows):
        x = 10 + index * step + (step - col) / 2
        h = plot_h * float(value) / float(top) if value else 0
        parts.append(
            f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{col:.1f}" height="{h:.1f}" rx="2" fill="{PALETTE[0]}">'
            f"<title>{escape(label)}: {escape(_fmt(value))} {escape(unit)}</title></rect>"
            f'<text x="{x + col / 2:.1f}" y="{base + 16}" text-anchor="middle" class="chart-label">'
            f"{escape(label[-5:])}</text>"
            f'<text x="{x + col / 2:.1f}" y="{base - h - 4:.1f}" text-anchor="middle" class="chart-value">'
            f"{escape(_fmt(value))}</text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every piece of text above is escaped  # nosec B308, B703
