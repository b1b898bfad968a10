"""Charts as inline SVG, drawn on the server: no script, no CDN, readable offline and
by screen readers (each chart has a title and a table fallback in the page)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

__all__ = ["bar_chart", "column_chart"]

_W = 640


def _num(value: float) -> str:
    return f"{value:.1f}"


def bar_chart(
    name: str,
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    intervals: Sequence[tuple[float, float] | None] | None = None,
    *,
    unit: str = "",
    scale_max: float | None = None,
) -> str:
    """Horizontal bars (one per label), with an interval whisker when given."""
    if not labels:
        return ""
    row, left, right = 26, 180, 70
    height = row * len(labels) + 10
    top = scale_max or max([*values, *(i[1] for i in intervals or () if i)], default=1.0)
    top = top if top > 0 else 1.0
    span = _W - left - right
    parts = [
        f'<svg class="chart" data-chart="{escape(name)}" role="img" viewBox="0 0 {_W} {height}" '
        f'width="100%" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 5 + index * row
        width = max(1.0, span * max(value, 0.0) / top)
        parts.append(
            f'<text x="{left - 8}" y="{y + 16}" text-anchor="end">{escape(label)}</text>'
            f'<rect class="bar" x="{left}" y="{y + 3}" width="{_num(width)}" height="{row - 8}">'
            f"<title>{escape(label)}: {value:g}{escape(unit)}</title></rect>"
        )
        interval = intervals[index] if intervals else None
        if interval is not None:
            x1, x2 = (left + span * max(v, 0.0) / top for v in interval)
            mid = y + row / 2
            parts.append(f'<line class="interval" x1="{_num(x1)}" x2="{_num(x2)}" '
                         f'y1="{_num(mid)}" y2="{_num(mid)}"/>')  # fmt: skip
        parts.append(
            f'<text class="value" x="{_num(left + width + 6)}" y="{y + 16}">'
            f"{value:g}{escape(unit)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def column_chart(
    name: str, title: str, labels: Sequence[str], values: Sequence[float], *, unit: str = ""
) -> str:
    """Vertical columns over time (one per label, e.g. a week), the value on top."""
    if not labels:
        return ""
    height, bottom, top_pad = 220, 40, 20
    step = (_W - 20) / len(labels)
    top = max(max(values, default=0.0), 1e-9)
    usable = height - bottom - top_pad
    parts = [
        f'<svg class="chart" data-chart="{escape(name)}" role="img" viewBox="0 0 {_W} {height}" '
        f'width="100%" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
        f'<line class="axis" x1="10" x2="{_W - 10}" y1="{height - bottom}" '
        f'y2="{height - bottom}"/>'
    ]
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = max(1.0, usable * max(value, 0.0) / top)
        x = 10 + index * step + step * 0.15
        y = height - bottom - h
        parts.append(
            f'<rect class="bar" x="{_num(x)}" y="{_num(y)}" width="{_num(step * 0.7)}" '
            f'height="{_num(h)}"><title>{escape(label)}: {value:g}{escape(unit)}</title></rect>'
            f'<text class="value" x="{_num(x + step * 0.35)}" y="{_num(y - 4)}" '
            f'text-anchor="middle">{value:g}</text>'
            f'<text x="{_num(x + step * 0.35)}" y="{height - bottom + 16}" '
            f'text-anchor="middle">{escape(label[5:] if len(label) == 10 else label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
