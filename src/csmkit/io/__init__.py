"""Loading exports into timelines or straight into the streaming KPI accumulators.

JSON Lines and CSV exports (csmkit's own, Zendesk-style and Freshdesk-style through
column mappings) and pandas or polars DataFrames of tickets or events. Every bad row is
an [`ExportError`][csmkit.io.ExportError] naming the file (or frame) and line; with
``on_error="skip"`` bad rows are left out and returned alongside the tickets, never
dropped silently.
"""

from __future__ import annotations

from csmkit.io._export import (
    GROUP_COLUMNS,
    Export,
    ExportReader,
    SkippedRow,
    load_export,
    load_timelines,
)
from csmkit.io._frames import load_frame
from csmkit.io._records import (
    CANONICAL_COLUMNS,
    MAPPINGS,
    ColumnMapping,
    ExportError,
    latest_instant,
    load_mapping,
    read_instant,
    read_record,
    ticket_timeline,
)
from csmkit.io._stream import ExportReport, accumulate_export, bulk_load, report_export

__all__ = [
    "CANONICAL_COLUMNS",
    "GROUP_COLUMNS",
    "MAPPINGS",
    "ColumnMapping",
    "Export",
    "ExportError",
    "ExportReader",
    "ExportReport",
    "SkippedRow",
    "accumulate_export",
    "bulk_load",
    "latest_instant",
    "load_export",
    "load_frame",
    "load_mapping",
    "load_timelines",
    "read_instant",
    "read_record",
    "report_export",
    "ticket_timeline",
]
