"""Report tables: plain rows with named columns that print aligned (CJK-aware)."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from datetime import timedelta
from typing import Any

import attrs

from csmkit._suggest import did_you_mean
from csmkit.errors import MetricsError
from csmkit.metrics._display import table_html, table_repr

__all__ = ["Table"]


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, timedelta):
        seconds = round(value.total_seconds())
        sign = "-" if seconds < 0 else ""
        hours, rest = divmod(abs(seconds), 3600)
        return f"{sign}{hours}:{rest // 60:02d}:{rest % 60:02d}"
    return str(value)


def _width(text: str) -> int:
    """Display width: East Asian wide and full-width characters (中文) take two columns."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _pad(text: str, width: int, right: bool) -> str:
    fill = " " * (width - _width(text))
    return fill + text if right else text + fill


@attrs.frozen
class Table:
    """Plain rows with named columns that print as an aligned text table.

    Attributes:
        columns: Column names in order.
        rows: One dict per row.
    """

    columns: tuple[str, ...]
    rows: tuple[Mapping[str, Any], ...]

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[Mapping[str, Any]]:
        return iter(self.rows)

    def __getitem__(self, index: int) -> Mapping[str, Any]:
        return self.rows[index]

    def to_dicts(self) -> list[dict[str, Any]]:
        """The rows as a list of new dicts."""
        return [dict(row) for row in self.rows]

    def column(self, name: str) -> list[Any]:
        """The values of one column."""
        if name not in self.columns:
            raise MetricsError(
                f"no column {name!r}{did_you_mean(name, self.columns)}; "
                f"columns are {', '.join(self.columns)}"
            )
        return [row.get(name) for row in self.rows]

    def to_pandas(self) -> Any:
        """A ``pandas.DataFrame`` (needs the ``pandas`` extra)."""
        try:
            import pandas as pd  # type: ignore[import-untyped,unused-ignore]
        except ImportError:  # pragma: no cover - depends on the environment
            raise MetricsError("to_pandas() needs pandas: pip install 'csmkit[pandas]'") from None
        return pd.DataFrame(self.to_dicts(), columns=list(self.columns))

    def __repr__(self) -> str:
        return table_repr(self, str)

    def _repr_html_(self) -> str:
        """An HTML table for Jupyter: rates and scores read ``score [low, high]``."""
        return table_html(self.columns, self.rows)

    def plot(
        self,
        kind: str = "trend",
        metric: str | None = None,
        *,
        x: str | None = None,
        by: str | None = None,
        ax: Any = None,
    ) -> Any:
        """Draw the table with matplotlib (extra ``plot``); returns the ``Axes``.

        Args:
            kind: ``"trend"``: the metric per period (``x``, default the ``day``/``week``/
                ``month`` column) with its interval as a band, one line per ``by`` value;
                ``"rank"``: horizontal bars per group, ordered by the interval's lower
                bound (the honest ranking: a group with few answers does not top it by
                luck), whiskers for the interval; ``"bar"``: bars in table order.
            metric: The column to draw (default: the first with an interval).
            x: The period or group column (default: guessed from the table).
            by: For ``"trend"``, a group column drawn as separate lines.
            ax: A matplotlib ``Axes`` to draw on (default: a new figure).

        Raises:
            MetricsError: matplotlib is missing, an unknown kind or column, or nothing
                to draw.
        """
        from csmkit.metrics._plot import plot_table

        return plot_table(self, kind, metric, x=x, by=by, ax=ax)

    def __str__(self) -> str:
        cells = [[_cell(row.get(column)) for column in self.columns] for row in self.rows]
        widths = [
            max([_width(column)] + [_width(line[i]) for line in cells])
            for i, column in enumerate(self.columns)
        ]
        numeric = [
            all(
                isinstance(row.get(column), (int, float, timedelta)) or row.get(column) is None
                for row in self.rows
            )
            for column in self.columns
        ]

        def line(values: Sequence[str]) -> str:
            parts = [
                _pad(value, width, right)
                for value, width, right in zip(values, widths, numeric, strict=True)
            ]
            return "  ".join(parts).rstrip()

        out = [line(self.columns), line(["-" * width for width in widths])]
        out.extend(line(values) for values in cells)
        return "\n".join(out)
