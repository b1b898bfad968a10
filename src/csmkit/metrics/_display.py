"""Notebook display of results and tables: readable ``__repr__`` and ``_repr_html_``.

A result shows its score, 95 % interval and ``n`` at a glance (``<NpsResult NPS 25.0
[-20.5, 62.7] n=40 ...>``); a [`Table`][csmkit.metrics.Table] shows as an aligned text
table in a console and as an HTML table in Jupyter, where each rate or score reads
``score [low, high]`` in one cell. Nothing here computes anything new: every number is
the result's own.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from csmkit.errors import MetricsError

__all__ = ["result_html", "result_repr", "summary", "table_html", "table_repr"]

_MAX_ROWS = 60  # rows shown before the middle is elided


def _number(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, timedelta):
        seconds = round(value.total_seconds())
        sign = "-" if seconds < 0 else ""
        hours, rest = divmod(abs(seconds), 3600)
        return f"{sign}{hours}:{rest // 60:02d}:{rest % 60:02d}"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _label(result: Any) -> str:
    kind = type(result).__name__
    if kind == "NpsResult":
        return "NPS"
    if kind == "RatingResult":
        return f"{result.metric.upper()} ({result.convention})"
    return str(getattr(result, "name", kind))


def _percent(result: Any) -> str:
    kind = type(result).__name__
    if kind == "Rate" or (kind == "RatingResult" and result.convention != "mean"):
        return "%"
    return ""


def summary(result: Any, confidence: float = 0.95) -> tuple[str, str, str, int]:
    """``(label, score, interval, n)`` as display text; the interval is ``""`` when the
    result has too few observations for one."""
    score = result.score  # a duration's score is its mean, as is its interval
    try:
        low, high = result.interval(confidence)
        interval = f"[{_number(low)}, {_number(high)}]"
    except MetricsError:
        interval = ""
    suffix = _percent(result) if score is not None else ""
    return _label(result), f"{_number(score)}{suffix}", interval, result.n


def _details(result: Any) -> str:
    kind = type(result).__name__
    if kind == "NpsResult":
        return (
            f"promoters={result.promoters} passives={result.passives} "
            f"detractors={result.detractors}"
        )
    if kind == "Rate":
        return f"successes={result.successes} trials={result.trials}"
    if kind == "DurationResult":
        clock = "business" if result.business else "calendar"
        return f"mean; median={_number(result.median)} p90={_number(result.p90)} {clock} time"
    if kind == "RatingResult":
        return f"scale {result.low}-{result.high}"
    return ""


def result_repr(result: Any) -> str:
    """``<Kind label score [low, high] n=N details>``."""
    label, score, interval, n = summary(result)
    parts = [type(result).__name__, label, score, interval, f"n={n}", _details(result)]
    return "<" + " ".join(part for part in parts if part) + ">"


def result_html(result: Any) -> str:
    """A small HTML card: the score large, the interval and ``n`` beside it."""
    label, score, interval, n = summary(result)
    details = html.escape(_details(result))
    return (
        '<div class="csmkit-result" style="font-family:sans-serif">'
        f"<b>{html.escape(label)}</b> "
        f'<span style="font-size:1.4em">{html.escape(score)}</span> '
        f'<span style="color:#555">{html.escape(interval)} n={n}</span>'
        + (f'<div style="color:#777;font-size:0.85em">{details}</div>' if details else "")
        + "</div>"
    )


def _intervals(columns: Sequence[str]) -> dict[str, tuple[str, str]]:
    """Columns that have ``_low``/``_high`` companions (rates, scores, durations' means)."""
    present = set(columns)
    out = {}
    for column in columns:
        low, high = f"{column}_low", f"{column}_high"
        if low in present and high in present:
            out[column] = (low, high)
        elif column.endswith("_mean") and f"{column[:-5]}_low" in present:
            base = column[:-5]
            out[column] = (f"{base}_low", f"{base}_high")
    return out


def table_repr(table: Any, text: Callable[[Any], str]) -> str:
    """``<Table: R rows × C columns>`` and the aligned text (middle rows elided)."""
    rows = len(table.rows)
    head = f"<Table: {rows} row{'s' if rows != 1 else ''} x {len(table.columns)} columns>"
    if rows > _MAX_ROWS:
        half = _MAX_ROWS // 2
        shown = type(table)(table.columns, table.rows[:half] + table.rows[-half:])
        lines = text(shown).splitlines()
        lines.insert(2 + half, f"... {rows - 2 * half} more rows ...")
        return head + "\n" + "\n".join(lines)
    return head + "\n" + text(table)


def table_html(columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> str:
    """An HTML table; ``score [low, high]`` in one cell where a column has an interval."""
    intervals = _intervals(columns)
    hidden = {name for pair in intervals.values() for name in pair}
    shown = [column for column in columns if column not in hidden]
    out = ['<table class="csmkit-table">', "<thead><tr>"]
    out.extend(f"<th>{html.escape(column)}</th>" for column in shown)
    out.append("</tr></thead><tbody>")
    elided = len(rows) > _MAX_ROWS
    half = _MAX_ROWS // 2
    picked = [*rows[:half], None, *rows[-half:]] if elided else list(rows)
    for row in picked:
        if row is None:
            out.append(
                f'<tr><td colspan="{len(shown)}">… {len(rows) - 2 * half} more rows …</td></tr>'
            )
            continue
        out.append("<tr>")
        for column in shown:
            value = row.get(column)
            cell = html.escape(_number(value))
            numeric = isinstance(value, (int, float, timedelta)) and not isinstance(value, bool)
            if column in intervals and value is not None:
                low, high = (row.get(name) for name in intervals[column])
                if low is not None and high is not None:
                    cell += (
                        f' <small style="color:#666">[{html.escape(_number(low))}, '
                        f"{html.escape(_number(high))}]</small>"
                    )
            align = ' style="text-align:right"' if numeric else ""
            out.append(f"<td{align}>{cell}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)
