"""Reading a whole export: rows to timelines, strict by default or skipping bad rows.

Each row (a CSV record, a JSON line) becomes a timeline or an event. A bad row is an
`ExportError` naming the file and line; with
``on_error="skip"`` it is left out instead and listed in `Export.skipped` with its
file, line and error, so a report can say how many rows it did not count and which.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import timezone, tzinfo
from pathlib import Path
from typing import Any, Literal, TextIO

import attrs

from csmkit._suggest import did_you_mean
from csmkit.errors import MetricsError, TimelineError
from csmkit.io._records import (
    MAPPINGS,
    ColumnMapping,
    ExportError,
    load_mapping,
    read_record,
    ticket_timeline,
)
from csmkit.metrics import Survey, ces, csat
from csmkit.timeline import Event, MessageAdded, SurveyAnswered, SurveyKind, Timeline

__all__ = [
    "GROUP_COLUMNS",
    "Export",
    "ExportReader",
    "OnError",
    "SkippedRow",
    "load_export",
    "load_timelines",
    "sniff_delimiter",
]

OnError = Literal["raise", "skip"]
"""What a loader does with a bad row: ``"raise"`` its ``ExportError`` or ``"skip"`` it
(and list it in the result's ``skipped``)."""


@attrs.frozen
class SkippedRow:
    """A row of an export left out by ``on_error="skip"``.

    Attributes:
        file: The export's path.
        line: The row's line number (1-based; a CSV record's first line).
        error: What was wrong, as the strict mode would have raised it (it starts with
            ``file:line``).
    """

    file: str
    line: int
    error: str

    def __str__(self) -> str:
        return self.error

    def to_dict(self) -> dict[str, Any]:
        """``{"file", "line", "error"}``."""
        return {"file": self.file, "line": self.line, "error": self.error}


@attrs.frozen
class Export:
    """The tickets of an export, and the rows that were skipped (with ``on_error="skip"``).

    Attributes:
        timelines: One timeline per ticket, in file order.
        skipped: Every row left out, in file order; empty in strict mode.
        ungiven: Ticket attributes (of `GROUP_COLUMNS`) that no row gave, when
            every ticket came from a flat row: their values are the loader's defaults.
    """

    timelines: tuple[Timeline, ...]
    skipped: tuple[SkippedRow, ...] = ()
    ungiven: frozenset[str] = frozenset()

    def check_groups(self, by: Sequence[str], path: Path) -> None:
        """Refuse to group by a ticket attribute that no row of a flat export gave.

        The loader fills such an attribute with a default (channel ``unknown``, priority
        ``normal``, no group …), so the report would show one plausible group holding
        every ticket.

        Raises:
            ExportError: naming each such ``--by`` field.
        """
        missing = [name for name in by if name in self.ungiven]
        if missing:
            raise ExportError(
                f"--by {','.join(missing)}: no row of {path} gives "
                f"{' or '.join(missing)} (a missing column, or a --mapping that does not "
                "name it); every ticket would fall in one group of the default"
            )


GROUP_COLUMNS: tuple[str, ...] = (
    "type",
    "channel",
    "priority",
    "group",
    "assignee",
    "customer_id",
    "subject",
)
"""Canonical columns that become ticket attributes with a default when a row lacks them."""


class _Rows:
    """Collects bad rows in skip mode, raises them in strict mode; notes given columns."""

    def __init__(self, path: Path | str, on_error: OnError, mapping: ColumnMapping | None) -> None:
        self.path = path
        self.on_error = on_error
        self.mapping = mapping
        self.skipped: list[SkippedRow] = []
        self.histories = 0  # timelines and events: their attributes are real
        self.given: set[str] = set()

    def flat(self, record: Mapping[str, Any]) -> None:
        columns = self.mapping.columns if self.mapping is not None else {}
        for name in GROUP_COLUMNS:
            value = record.get(columns.get(name, name))
            if value is not None and str(value).strip():
                self.given.add(name)

    def ungiven(self) -> frozenset[str]:
        if self.histories:
            return frozenset()
        return frozenset(GROUP_COLUMNS) - self.given

    def bad(self, lines: Sequence[int], error: ExportError) -> None:
        if self.on_error == "raise":
            raise error
        self.skipped.extend(SkippedRow(str(self.path), line, str(error)) for line in lines)


def _coerce_mapping(mapping: ColumnMapping | str | None) -> ColumnMapping | None:
    if mapping is None or isinstance(mapping, ColumnMapping):
        return mapping
    if isinstance(mapping, str):
        return load_mapping(mapping)
    raise ExportError(
        f"mapping must be a ColumnMapping, a built-in name or a file, got {mapping!r}"
    )


class ExportReader:
    """One pass over an export file: its tickets as timelines, one at a time.

    Iterating reads the file line by line and yields each ticket's
    [`Timeline`][csmkit.timeline.Timeline] as soon as it is complete (a timeline or flat
    row at once; tickets given as one event per line at the end of the file), so a
    report can fold them into accumulators without holding the export in memory. The
    same checks as [`load_export()`][csmkit.io.load_export] apply; with
    ``on_error="skip"`` bad rows land in [`skipped`][csmkit.io.ExportReader.skipped].

    Args:
        path: The export file (``.csv``, ``.jsonl``/``.ndjson``/``.json``).
        mapping: A [`ColumnMapping`][csmkit.io.ColumnMapping], a built-in mapping name
            (``zendesk``, ``freshdesk``) or a mapping JSON file; ``None`` for the canonical
            columns.
        zone: Zone of instants written without an offset.
        on_error: ``"raise"`` or ``"skip"`` (see [`load_export()`][csmkit.io.load_export]).
        delimiter: A CSV export's separator (``None``: sniffed from the header).
        surveys: The scale of each survey kind's answers (see
            [`load_export()`][csmkit.io.load_export]).

    Raises:
        ExportError: see [`load_export()`][csmkit.io.load_export].
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        mapping: ColumnMapping | str | None = None,
        zone: tzinfo = timezone.utc,
        on_error: OnError = "raise",
        delimiter: str | None = None,
        surveys: object = None,
    ) -> None:
        if on_error not in ("raise", "skip"):
            raise ExportError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
        self.path = Path(path)
        self.mapping = _coerce_mapping(mapping)
        self.zone = zone
        self.on_error: OnError = on_error
        self.delimiter = delimiter
        self.answers = _answer_rules(surveys)
        self._rows = _Rows(self.path, on_error, self.mapping)
        self.tickets = 0
        self._started = False

    @property
    def skipped(self) -> tuple[SkippedRow, ...]:
        """The rows left out so far (``on_error="skip"``), in line order."""
        return tuple(sorted(self._rows.skipped, key=lambda row: row.line))

    @property
    def ungiven(self) -> frozenset[str]:
        """As [`Export.ungiven`][csmkit.io.Export] (complete once the file is read)."""
        return self._rows.ungiven()

    def _raw(self) -> Iterator[tuple[list[int], Timeline]]:
        suffix = self.path.suffix.lower()
        if suffix not in (".csv", ".jsonl", ".ndjson", ".json"):
            raise ExportError(
                f"{self.path}: unknown export format {suffix or '(no suffix)'!r}; "
                "use .csv or .jsonl (JSON Lines)"
            )
        try:
            handle = open(self.path, encoding="utf-8-sig", newline="")  # noqa: SIM115
        except OSError as exc:
            raise ExportError(f"{self.path}: cannot read the file: {exc}") from None
        with handle:
            try:
                if suffix == ".csv":
                    yield from _csv_rows(
                        self.path, handle, self.mapping, self.zone, self._rows, self.delimiter
                    )
                else:
                    yield from _json_lines(self.path, handle, self.mapping, self.zone, self._rows)
            except UnicodeDecodeError as exc:
                raise ExportError(f"{self.path}: cannot read the file: {exc}") from None

    def __iter__(self) -> Iterator[Timeline]:
        if self._started:
            raise ExportError(f"{self.path}: an ExportReader is read once; make another")
        self._started = True
        first_line: dict[str, int] = {}
        for lines, timeline in self._raw():
            if _accept(self._rows, first_line, lines, timeline, self.answers):
                self.tickets += 1
                yield timeline


def _repeated_message(timeline: Timeline) -> str | None:
    """Why a ticket holds one message twice (the same ``message_id``), if it does: an
    export written twice or a retried append would count a reply twice."""
    seen: set[str] = set()
    for event in timeline.events:
        if isinstance(event, MessageAdded) and event.message_id is not None:
            if event.message_id in seen:
                return f"message_id {event.message_id!r} appears twice (a duplicated event)"
            seen.add(event.message_id)
    return None


def _accept(
    rows: _Rows,
    first_line: dict[str, int],
    lines: list[int],
    timeline: Timeline,
    answers: Mapping[SurveyKind, Survey | None] | None = None,
) -> bool:
    problem = _bad_answer(timeline, answers) or _repeated_message(timeline)
    if problem is not None:
        rows.bad(
            lines, ExportError(f"{rows.path}:{lines[0]}: ticket {timeline.ticket_id!r}: {problem}")
        )
        return False
    seen = first_line.get(timeline.ticket_id)
    if seen is not None:
        error = ExportError(
            f"{rows.path}:{lines[0]}: ticket {timeline.ticket_id!r} appears twice "
            f"(first at line {seen})"
        )
        rows.bad(lines, error)
        return False
    first_line[timeline.ticket_id] = lines[0]
    return True


def load_export(
    path: str | os.PathLike[str],
    *,
    mapping: ColumnMapping | str | None = None,
    zone: tzinfo = timezone.utc,
    on_error: OnError = "raise",
    delimiter: str | None = None,
    surveys: object = None,
) -> Export:
    """Every ticket of an export as a timeline, in file order.

    ``.csv`` files hold flat ticket rows; ``.jsonl``/``.ndjson``/``.json`` files hold
    one JSON object per line: a timeline (``Timeline.to_dict()``), an event
    (``event.to_dict()``; events are grouped by ticket in file order) or a flat ticket
    record. A mapping file (not a built-in mapping such as ``zendesk``, whose columns are
    optional) must name columns the export has.

    Args:
        path: The export file.
        mapping: A [`ColumnMapping`][csmkit.io.ColumnMapping], a built-in mapping name or a
            mapping JSON file; ``None`` for the canonical column names.
        zone: Zone of instants written without an offset (default UTC).
        on_error: ``"raise"`` (default): the first bad row is an error. ``"skip"``: bad
            rows (malformed values, an unreadable JSON line, a ticket whose events do not
            form a timeline, a repeated ticket id or event) are left out and listed in
            `Export.skipped`, one entry per line.
        delimiter: The field separator of a CSV export; ``None`` (default) reads it from
            the header row (``,``, ``;``, tab or ``|``, whichever it has most of).
        surveys: The report's survey definitions (a [`Survey`][csmkit.metrics.Survey] or
            several): the scale a ticket's latest CSAT / CES answer must be on (default:
            CSAT 1–5, CES 1–7); an answer off it is a bad row. Where a kind has several
            definitions, or they are given by ticket type, the report checks the answer.

    Raises:
        ExportError: an unreadable file, a mapping naming missing columns, or (strict)
            a bad row, naming the file and line.
    """
    reader = ExportReader(
        path,
        mapping=mapping,
        zone=zone,
        on_error=on_error,
        delimiter=delimiter,
        surveys=surveys,
    )
    found = sorted(reader._raw(), key=lambda item: item[0][0])
    first_line: dict[str, int] = {}
    timelines = [
        timeline
        for lines, timeline in found
        if _accept(reader._rows, first_line, lines, timeline, reader.answers)
    ]
    return Export(tuple(timelines), reader.skipped, reader.ungiven)


def _answer_rules(surveys: object) -> dict[SurveyKind, Survey | None]:
    """How a loader checks each survey kind's answers, from any form a report's
    ``surveys`` takes: against the kind's one definition (a
    [`Survey`][csmkit.metrics.Survey]), or not at all (``None``) where the kind has
    several definitions or definitions by ticket type — the answer's survey name and
    ticket type decide there, so the report checks it. Kinds not given keep the defaults.
    """
    if surveys is None:
        return {}
    if isinstance(surveys, Mapping):
        rules: dict[SurveyKind, Survey | None] = {}
        for key, value in surveys.items():
            for survey in _definitions(value, f"surveys[{key!r}]"):
                rules[survey.kind] = None
        return rules
    rules = {}
    for survey in _definitions(surveys, "surveys"):
        rules[survey.kind] = survey if survey.kind not in rules else None
    return rules


def _definitions(value: object, where: str) -> tuple[Survey, ...]:
    items = (value,) if isinstance(value, Survey) else value
    if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Iterable):
        raise ExportError(f"{where} must be Survey definitions, got {value!r}")
    found = tuple(items)
    for index, survey in enumerate(found):
        if not isinstance(survey, Survey):
            raise ExportError(f"{where}[{index}]: expected a Survey, got {survey!r}")
    return found


def _check_with(survey: Survey) -> Callable[[list[float]], object]:
    def check(scores: list[float]) -> object:
        return survey.check(scores[0])

    return check


def _bad_answer(
    timeline: Timeline | Any, answers: Mapping[SurveyKind, Survey | None] | None = None
) -> str | None:
    """Why the survey answer a report reads (the latest CSAT / CES) is invalid, if it is.

    The report would refuse it anyway, but only here is the file and line known, so the
    row can be named and, on request, skipped. CSAT is 1–5 and CES 1–7 unless the
    report's surveys (``csmkit report --survey``) say otherwise (``answers``, from
    `_answer_rules`), as in [`csmkit.metrics.csat()`][csmkit.metrics.csat] and
    [`csmkit.metrics.ces()`][csmkit.metrics.ces] (NPS answers are checked when the event
    is built).
    """
    answers = answers or {}
    checks: dict[SurveyKind, Callable[[list[float]], object]] = {}
    for kind, default in ((SurveyKind.CSAT, csat), (SurveyKind.CES, ces)):
        if kind not in answers:
            checks[kind] = default
        else:
            survey = answers[kind]
            if survey is not None:
                checks[kind] = _check_with(survey)
    for event in reversed(timeline.events):
        if isinstance(event, SurveyAnswered) and event.survey in checks:
            check = checks.pop(event.survey)
            try:
                check([event.score])
            except MetricsError as exc:
                reason = str(exc).split(": ", 1)[-1]  # drop the "ratings[0]" position
                hint = (
                    ""
                    if event.survey in answers
                    else f" (another scale: --survey {event.survey.value}:LOW-HIGH)"
                )
                return f"{event.survey.value} answer: {reason}{hint}"
    return None


def load_timelines(
    path: str | os.PathLike[str],
    *,
    mapping: ColumnMapping | str | None = None,
    zone: tzinfo = timezone.utc,
) -> list[Timeline]:
    """The timelines of `load_export()` in strict mode (any bad row is an error)."""
    return list(load_export(path, mapping=mapping, zone=zone).timelines)


def _check_columns(path: Path, mapping: ColumnMapping | None, columns: Sequence[str]) -> None:
    """A mapping file must name columns the export has (a typo would empty a column)."""
    if mapping is None or mapping.name in MAPPINGS:
        return
    problems = [
        f"columns.{canonical} names {source!r}{did_you_mean(source, columns)}"
        for canonical, source in mapping.columns.items()
        if source not in columns
    ]
    if problems:
        raise ExportError(
            f"{path}: the mapping {mapping.name} names columns the export does not have: "
            + "; ".join(problems)
        )


DELIMITERS = (",", ";", "\t", "|")
"""Field separators a CSV export's header row is sniffed for, the default first."""


def sniff_delimiter(header: str) -> str:
    """The separator of a CSV header row: the candidate it has most of (ties: the earliest
    of ``, ; tab |``); ``,`` when it has none (a one-column file).

    Only separators outside double-quoted names count.
    """
    outside = "".join(header.split('"')[0::2])
    counts = [(outside.count(candidate), -rank) for rank, candidate in enumerate(DELIMITERS)]
    best = max(counts)
    return DELIMITERS[-best[1]] if best[0] else ","


def _shown(delimiter: str) -> str:
    return "tab" if delimiter == "\t" else repr(delimiter)


def _check_id_column(
    path: Path, mapping: ColumnMapping | None, columns: Sequence[str], delimiter: str
) -> None:
    """Without its ``id`` column no row can be read: say what the header holds instead."""
    source = mapping.columns.get("id", "id") if mapping is not None else "id"
    if source in columns:
        return
    others = [d for d in DELIMITERS if d != delimiter and len(columns) == 1 and d in columns[0]]
    if others:
        word = _shown(others[0])
        raise ExportError(
            f"{path}: the header has no {source!r} column: found one column "
            f"{columns[0][:60]!r} - is the file {word}-separated? use --delimiter {word}"
        )
    if len(columns) == 1:
        found = f"found one column {columns[0][:60]!r}"
    else:
        names = ", ".join(repr(column) for column in columns[:8])
        more = f" and {len(columns) - 8} more" if len(columns) > 8 else ""
        found = f"found {len(columns)} columns separated by {_shown(delimiter)}: {names}{more}"
        found += did_you_mean(source, columns)
    mapping_hint = (
        ""
        if mapping is not None
        else f"; name your columns with --mapping ({', '.join(sorted(MAPPINGS))} or a JSON file)"
    )
    raise ExportError(f"{path}: the header has no {source!r} column: {found}{mapping_hint}")


def _csv_rows(
    path: Path,
    handle: TextIO,
    mapping: ColumnMapping | None,
    zone: tzinfo,
    rows: _Rows,
    delimiter: str | None = None,
) -> Iterator[tuple[list[int], Timeline]]:
    header = handle.readline().rstrip("\r\n")
    handle.seek(0)
    separator = delimiter if delimiter is not None else sniff_delimiter(header)
    reader = csv.DictReader(handle, delimiter=separator)
    if reader.fieldnames is None:
        raise ExportError(f"{path}: the CSV file is empty (it needs a header row)")
    columns = [str(name) for name in reader.fieldnames]
    _check_columns(path, mapping, columns)
    _check_id_column(path, mapping, columns, separator)
    start = reader.line_num + 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ExportError(f"{path}:{start}: malformed CSV: {exc}") from None
        line, start = start, reader.line_num + 1
        rows.flat(record)
        try:
            timeline = ticket_timeline(record, mapping, zone, f"{path}:{line}")
        except ExportError as exc:
            rows.bad([line], exc)
            continue
        yield [line], timeline


def _json(line: str, where: str) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise ExportError(f"{where}: not JSON ({exc.msg}); one JSON object per line") from None


def _json_lines(
    path: Path, handle: Iterable[str], mapping: ColumnMapping | None, zone: tzinfo, rows: _Rows
) -> Iterator[tuple[list[int], Timeline]]:
    events: dict[str, list[tuple[int, Event]]] = {}
    flat_keys: set[str] = set()
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            data = _json(line, where)
            if isinstance(data, dict) and "events" not in data and "kind" not in data:
                flat_keys.update(str(key) for key in data)
                rows.flat(data)
            else:
                rows.histories += 1
            kind, value = read_record(data, mapping, zone, where)
        except ExportError as exc:
            rows.bad([number], exc)
            continue
        if kind == "timeline":
            yield [number], value
        else:
            events.setdefault(value.ticket_id, []).append((number, value))
    if flat_keys:
        _check_columns(path, mapping, sorted(flat_keys))
    for ticket_id, numbered in sorted(events.items(), key=lambda item: item[1][0][0]):
        lines = [number for number, _ in numbered]
        try:
            timeline = Timeline([event for _, event in numbered])
        except TimelineError as exc:
            error = ExportError(
                f"{path}:{lines[0]}: events of ticket {ticket_id!r} "
                f"(lines {', '.join(map(str, lines))}): {exc}"
            )
            rows.bad(lines, error)
            continue
        yield lines, timeline
