"""DataFrames (pandas, polars) of tickets or events into timelines."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from datetime import date, datetime, timezone, tzinfo
from typing import Any, Literal

from csmkit.errors import TimelineError
from csmkit.io._export import Export, OnError, _accept, _coerce_mapping, _Rows
from csmkit.io._records import ColumnMapping, ExportError, read_record, ticket_timeline
from csmkit.timeline import Event, Timeline

__all__ = ["load_frame"]

FrameKind = Literal["tickets", "events"]


def _records(frame: Any) -> list[dict[str, Any]]:
    """The rows of a pandas or polars DataFrame as dicts (no import of either library)."""
    module = type(frame).__module__.split(".")[0]
    if module == "polars":
        rows: list[dict[str, Any]] = frame.to_dicts()
        return rows
    if module == "pandas":
        return [dict(row) for row in frame.to_dict(orient="records")]
    raise ExportError(f"expected a pandas or polars DataFrame, got {type(frame).__name__}")


def _plain(value: Any) -> Any:
    """A cell as the loader reads it: missing values (NaN, NaT, None) as None, instants and
    numbers as plain Python values."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    to_pydatetime = getattr(value, "to_pydatetime", None)  # pandas Timestamp
    if to_pydatetime is not None:
        if value != value:  # NaT
            return None
        value = to_pydatetime()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    item = getattr(value, "item", None)  # numpy scalars
    if item is not None and callable(item) and not isinstance(value, (str, bytes)):
        plain = item()
        return None if isinstance(plain, float) and math.isnan(plain) else plain
    if value != value:  # a NaN of another kind (pandas NA compares as NA)
        return None
    return value


def _event_record(row: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        plain = _safe_plain(value)
        if isinstance(plain, float) and plain.is_integer():
            # A whole-number column with gaps comes back as floats (NaN is a float).
            plain = int(plain)
        if plain is not None or key in ("actor",):
            out[str(key)] = plain
    return out


def _safe_plain(value: Any) -> Any:
    try:
        return _plain(value)
    except (TypeError, ValueError):  # pandas.NA refuses bool(); lists and dicts pass
        return value if isinstance(value, (list, dict, str)) else None


def load_frame(
    frame: Any,
    *,
    kind: FrameKind = "tickets",
    mapping: ColumnMapping | str | None = None,
    zone: tzinfo = timezone.utc,
    on_error: OnError = "raise",
    name: str = "frame",
) -> Export:
    """The tickets of a pandas or polars DataFrame, like [`load_export()`][csmkit.io.load_export].

    Args:
        frame: A ``pandas.DataFrame`` or ``polars.DataFrame``.
        kind: ``"tickets"``: one flat ticket per row (the columns of ``csmkit report``,
            renamed by ``mapping``); ``"events"``: one event per row (the columns of
            ``event.to_dict()``; ``kind``, ``ticket_id`` and ``at`` at least), grouped by
            ticket in row order.
        mapping: As in [`load_export()`][csmkit.io.load_export] (tickets only).
        zone: Zone of instants without an offset (naive timestamps of the frame).
        on_error: ``"raise"`` or ``"skip"``; skipped rows name ``name`` and the row
            number (1-based, like a line after a header).
        name: How messages name the frame.

    Raises:
        ExportError: a bad row (strict), naming ``name`` and its row.
    """
    if kind not in ("tickets", "events"):
        raise ExportError(f"kind must be 'tickets' or 'events', got {kind!r}")
    if on_error not in ("raise", "skip"):
        raise ExportError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    resolved = _coerce_mapping(mapping)
    rows = _Rows(name, on_error, resolved)
    records = _records(frame)
    found = _tickets(records, resolved, zone, rows, name) if kind == "tickets" else None
    if found is None:
        found = _events(records, zone, rows, name)
    first_line: dict[str, int] = {}
    timelines = [
        timeline for lines, timeline in found if _accept(rows, first_line, lines, timeline)
    ]
    skipped = tuple(sorted(rows.skipped, key=lambda row: row.line))
    return Export(tuple(timelines), skipped, rows.ungiven())


def _tickets(
    records: list[dict[str, Any]],
    mapping: ColumnMapping | None,
    zone: tzinfo,
    rows: _Rows,
    name: str,
) -> Iterator[tuple[list[int], Timeline]]:
    for number, raw in enumerate(records, start=1):
        record = {str(key): _safe_plain(value) for key, value in raw.items()}
        rows.flat(record)
        try:
            yield [number], ticket_timeline(record, mapping, zone, f"{name}[row {number}]")
        except ExportError as exc:
            rows.bad([number], exc)


def _events(
    records: list[dict[str, Any]], zone: tzinfo, rows: _Rows, name: str
) -> Iterator[tuple[list[int], Timeline]]:
    rows.histories += 1
    grouped: dict[str, list[tuple[int, Event]]] = {}
    for number, raw in enumerate(records, start=1):
        record = _event_record(raw)
        where = f"{name}[row {number}]"
        try:
            if "kind" not in record:
                raise ExportError(f"{where}: an event row needs a 'kind' column")
            _, event = read_record(record, None, zone, where)
        except ExportError as exc:
            rows.bad([number], exc)
            continue
        grouped.setdefault(event.ticket_id, []).append((number, event))
    for ticket_id, numbered in grouped.items():
        lines = [number for number, _ in numbered]
        try:
            yield lines, Timeline([event for _, event in numbered])
        except TimelineError as exc:
            rows.bad(
                lines,
                ExportError(
                    f"{name}[row {lines[0]}]: events of ticket {ticket_id!r} "
                    f"(rows {', '.join(map(str, lines))}): {exc}"
                ),
            )
