"""Exports straight into the streaming report accumulator, one ticket at a time."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone, tzinfo
from typing import Any

import attrs

from csmkit.io._export import ExportReader, OnError, SkippedRow
from csmkit.io._fast import accumulate_fast, fast_plan
from csmkit.io._records import ColumnMapping, ExportError
from csmkit.metrics import ReportAccumulator, Table

__all__ = ["ExportReport", "accumulate_export", "bulk_load", "report_export"]


@contextmanager
def bulk_load() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a bulk load runs.

    A load allocates millions of objects that are freed by reference counting; the
    cyclic collector would traverse them again and again (loads grow superlinearly).
    The collector's previous state is restored on exit, also when the load fails.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def accumulate_export(
    path: str | os.PathLike[str],
    accumulator: ReportAccumulator,
    *,
    mapping: ColumnMapping | str | None = None,
    zone: tzinfo = timezone.utc,
    on_error: OnError = "raise",
    delimiter: str | None = None,
    surveys: object = None,
) -> ExportReader:
    """Feed every ticket of an export file into ``accumulator``, one at a time.

    The file is read line by line; each ticket is folded into the accumulator and
    forgotten (see [`ReportAccumulator`][csmkit.metrics.ReportAccumulator]), with the cyclic
    garbage collector paused ([`bulk_load()`][csmkit.io.bulk_load]).

    Args:
        path: The export file.
        accumulator: Where the tickets go (updated in place).
        mapping: As in [`load_export()`][csmkit.io.load_export].
        zone: As in [`load_export()`][csmkit.io.load_export].
        on_error: As in [`load_export()`][csmkit.io.load_export].
        delimiter: As in [`load_export()`][csmkit.io.load_export].
        surveys: As in [`load_export()`][csmkit.io.load_export] (the loader's check of
            each answer's scale; pass the same definitions to the accumulator).

    Returns:
        The exhausted [`ExportReader`][csmkit.io.ExportReader]: its ``tickets``,
        ``skipped`` and ``ungiven``.

    Raises:
        ExportError: as [`load_export()`][csmkit.io.load_export].
        MetricsError: a ticket cannot be measured.
    """
    reader = ExportReader(
        path,
        mapping=mapping,
        zone=zone,
        on_error=on_error,
        delimiter=delimiter,
        surveys=surveys,
    )
    plan = (
        fast_plan(accumulator)
        if reader.mapping is None and reader.path.suffix.lower() in (".jsonl", ".ndjson", ".json")
        else None
    )
    with bulk_load():
        if plan is not None:
            accumulate_fast(reader, accumulator, plan)
        else:
            accumulator.update_many(reader)
    return reader


@attrs.frozen
class ExportReport:
    """A report computed from export files, and what was left out.

    Attributes:
        table: The report (as [`csmkit.metrics.report()`][csmkit.metrics.report] returns it).
        tickets: How many tickets were counted.
        skipped: Rows left out (``on_error="skip"``), by file and line.
        now: The evaluation instant used.
        ungiven: Ticket attributes that no flat row of any file gave (their values are
            the loader's defaults).
    """

    table: Table
    tickets: int
    skipped: tuple[SkippedRow, ...]
    now: datetime | None
    ungiven: frozenset[str] = frozenset()


def report_export(
    sources: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    metrics: Sequence[Any],
    *,
    mapping: ColumnMapping | str | None = None,
    zone: tzinfo = timezone.utc,
    on_error: OnError = "raise",
    delimiter: str | None = None,
    now: datetime | str | None = "latest",
    **options: Any,
) -> ExportReport:
    """KPIs of export files in one streaming pass, without holding the tickets.

    Args:
        sources: One export file or several (their tickets are counted together; a
            ticket id may appear in one file only).
        metrics: As in [`csmkit.metrics.report()`][csmkit.metrics.report].
        mapping: As in [`load_export()`][csmkit.io.load_export].
        zone: As in [`load_export()`][csmkit.io.load_export].
        on_error: As in [`load_export()`][csmkit.io.load_export]; skipped rows are
            returned in [`ExportReport.skipped`][csmkit.io.ExportReport].
        delimiter: As in [`load_export()`][csmkit.io.load_export].
        now: The evaluation instant; ``"latest"`` (default) is the latest event of all
            tickets.
        **options: The other options of [`csmkit.metrics.report()`][csmkit.metrics.report]
            (``by``, ``bucket``, ``tz``, ``clock``, ``sla``, ``surveys`` ...).

    Raises:
        ExportError: a bad row (strict mode), or no ticket in the files.
        MetricsError: as [`csmkit.metrics.report()`][csmkit.metrics.report].
    """
    paths = [sources] if isinstance(sources, (str, os.PathLike)) else list(sources)
    if not paths:
        raise ExportError("report_export needs at least one export file")
    accumulator = ReportAccumulator(metrics, now=now, **options)  # type: ignore[arg-type]
    skipped: list[SkippedRow] = []
    ungiven: frozenset[str] | None = None
    for path in paths:
        reader = accumulate_export(
            path,
            accumulator,
            mapping=mapping,
            zone=zone,
            on_error=on_error,
            delimiter=delimiter,
            surveys=options.get("surveys"),
        )
        skipped.extend(reader.skipped)
        ungiven = reader.ungiven if ungiven is None else ungiven & reader.ungiven
    if not accumulator.tickets:
        more = f" ({len(skipped)} bad rows skipped)" if skipped else ""
        names = ", ".join(str(path) for path in paths)
        raise ExportError(f"{names}: no tickets in the export{more}")
    return ExportReport(
        accumulator.result(),
        accumulator.tickets,
        tuple(skipped),
        accumulator.now,
        ungiven or frozenset(),
    )
