"""`Table.plot`: trends with interval bands, rankings on lower bounds (extra ``plot``)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from csmkit._suggest import did_you_mean
from csmkit.errors import MetricsError

__all__ = ["KINDS", "plot_table"]

KINDS = ("trend", "rank", "bar")
_PERIODS = ("day", "week", "month")


def _value(value: object) -> float | None:
    """A plottable number: durations in hours, ``None`` kept."""
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds() / 3600
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise MetricsError(f"cannot plot the value {value!r}: not a number or duration")


def _bounds(columns: Sequence[str], metric: str) -> tuple[str, str] | None:
    base = metric[:-5] if metric.endswith("_mean") else metric
    low, high = f"{base}_low", f"{base}_high"
    return (low, high) if low in columns and high in columns else None


def key_columns(columns: Sequence[str]) -> list[str]:
    """The group and period columns: those before the first metric column."""
    out = []
    for column in columns:
        if f"{column}_n" in columns or column in ("tickets", "backlog"):
            break
        out.append(column)
    return out


def _metric(columns: Sequence[str], metric: str | None) -> str:
    if metric is None:
        for column in columns:
            if _bounds(columns, column) is not None and not column.endswith(("_low", "_high")):
                return f"{column}_mean" if f"{column}_median" in columns else column
        raise MetricsError("plot: no column with an interval; name one with metric=")
    if metric not in columns:
        raise MetricsError(
            f"plot: no column {metric!r}{did_you_mean(metric, columns)}; "
            f"columns are {', '.join(columns)}"
        )
    return metric


def _axes(ax: Any) -> Any:
    if ax is not None:
        return ax
    try:
        from matplotlib import pyplot as plt
    except ImportError:
        raise MetricsError('Table.plot needs matplotlib: pip install "csmkit[plot]"') from None
    return plt.subplots(figsize=(7, 4))[1]


def _unit(rows: Sequence[Mapping[str, Any]], metric: str) -> str:
    durations = any(isinstance(row.get(metric), timedelta) for row in rows)
    return f"{metric} (hours)" if durations else metric


def plot_table(
    table: Any, kind: str, metric: str | None, *, x: str | None, by: str | None, ax: Any
) -> Any:
    """See [`Table.plot()`][csmkit.metrics.Table.plot]."""
    if kind not in KINDS:
        raise MetricsError(f"plot: kind must be one of {', '.join(KINDS)}, got {kind!r}")
    columns: tuple[str, ...] = table.columns
    metric = _metric(columns, metric)
    for name, what in ((x, "x"), (by, "by")):
        if name is not None and name not in columns:
            raise MetricsError(
                f"plot: {what}={name!r} is not a column{did_you_mean(name, columns)}"
            )
    rows = [row for row in table.rows if row.get(metric) is not None]
    if not rows:
        raise MetricsError(f"plot: the column {metric!r} has no values to draw")
    bounds = _bounds(columns, metric)
    created = ax is None
    ax = _axes(ax)
    with warnings.catch_warnings():
        # Group names in Chinese may lack glyphs in the default font: still plot.
        warnings.simplefilter("ignore", UserWarning)
        if kind == "trend":
            _trend(ax, rows, metric, bounds, x, by, columns)
        else:
            _bars(ax, rows, metric, bounds, x, columns, ranked=kind == "rank")
        if created:
            ax.figure.tight_layout()
    return ax


def _trend(
    ax: Any,
    rows: Sequence[Mapping[str, Any]],
    metric: str,
    bounds: tuple[str, str] | None,
    x: str | None,
    by: str | None,
    columns: Sequence[str],
) -> None:
    x = x or next((period for period in _PERIODS if period in columns), None)
    if x is None:
        raise MetricsError("plot: a trend needs a day, week or month column (report(bucket=))")
    labels = sorted({str(row[x]) for row in rows})
    position = {label: i for i, label in enumerate(labels)}
    lines: dict[Any, list[Mapping[str, Any]]] = {}
    for row in rows:
        lines.setdefault(row.get(by) if by else None, []).append(row)
    for name, members in sorted(lines.items(), key=lambda item: str(item[0])):
        members = sorted(members, key=lambda row: position[str(row[x])])
        xs = [position[str(row[x])] for row in members]
        ys = [_value(row[metric]) for row in members]
        (line,) = ax.plot(xs, ys, marker="o", label=metric if name is None else str(name))
        if bounds is not None:
            lows = [_value(row.get(bounds[0])) for row in members]
            highs = [_value(row.get(bounds[1])) for row in members]
            kept = [
                (a, lo, hi) for a, lo, hi in zip(xs, lows, highs, strict=True) if lo is not None
            ]
            if kept:
                ax.fill_between(
                    [k[0] for k in kept],
                    [k[1] for k in kept],
                    [k[2] for k in kept],
                    alpha=0.2,
                    color=line.get_color(),
                )
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=45, ha="right")
    ax.set_xlabel(x)
    ax.set_ylabel(_unit(rows, metric))
    band = " with 95 % intervals" if bounds is not None else ""
    ax.set_title(f"{metric} per {x}{band}")
    if by:
        ax.legend(title=by)


def _bars(
    ax: Any,
    rows: Sequence[Mapping[str, Any]],
    metric: str,
    bounds: tuple[str, str] | None,
    x: str | None,
    columns: Sequence[str],
    *,
    ranked: bool,
) -> None:
    keys = [x] if x else key_columns(columns)
    if not keys:
        raise MetricsError("plot: the table has no group column to label the bars (report(by=))")
    if ranked:
        if bounds is None:
            raise MetricsError(f"plot: ranking needs an interval, and {metric!r} has none")
        # Best lower bound first (top of the chart); rows without one go last.
        rows = sorted(
            rows,
            key=lambda row: (row.get(bounds[0]) is None, -(_value(row.get(bounds[0])) or 0.0)),
        )
    names = [" / ".join(str(row.get(key)) for key in keys) for row in rows]
    values = [_value(row[metric]) or 0.0 for row in rows]
    errors = None
    if bounds is not None:
        lows = [_value(row.get(bounds[0])) for row in rows]
        highs = [_value(row.get(bounds[1])) for row in rows]
        errors = [
            [
                max(0.0, v - lo) if lo is not None else 0.0
                for v, lo in zip(values, lows, strict=True)
            ],
            [
                max(0.0, hi - v) if hi is not None else 0.0
                for v, hi in zip(values, highs, strict=True)
            ],
        ]
    places = list(range(len(rows)))[::-1]  # first row on top
    ax.barh(places, values, xerr=errors, capsize=3, color="tab:blue")
    ax.set_yticks(places)
    ax.set_yticklabels(names)
    ax.set_xlabel(_unit(rows, metric))
    how = "ranked by the 95 % lower bound" if ranked else "with 95 % intervals"
    ax.set_title(f"{metric} by {' / '.join(keys)}, {how if bounds else ''}".rstrip(", "))
