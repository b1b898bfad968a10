"""Records of exports (flat ticket rows, timelines, events) into timelines; column mappings."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from csmkit._time import parse_instant
from csmkit.errors import CsmkitError, TimelineError
from csmkit.io._trusted import decode_timeline
from csmkit.timeline import (
    Assigned,
    Event,
    MessageAdded,
    StatusCategory,
    StatusChanged,
    SurveyAnswered,
    TicketCreated,
    Timeline,
)

__all__ = [
    "CANONICAL_COLUMNS",
    "MAPPINGS",
    "ColumnMapping",
    "ExportError",
    "latest_instant",
    "load_mapping",
    "read_instant",
    "read_record",
    "ticket_timeline",
]


class ExportError(CsmkitError, ValueError):
    """An export file cannot be read as tickets or events (a data error, exit 1)."""


# The flat ticket schema of ``csmkit report`` (see docs/cli.md).
CANONICAL_COLUMNS: tuple[str, ...] = (
    "id",
    "created_at",
    "first_reply_at",
    "first_reply_minutes",
    "solved_at",
    "closed_at",
    "status",
    "priority",
    "type",
    "channel",
    "group",
    "assignee",
    "customer_id",
    "subject",
    "agent_replies",
    "csat",
    "nps",
    "ces",
)

_CATEGORIES = {category.value for category in StatusCategory}


class ColumnMapping:
    """A column mapping: export column per canonical column, value translations.

    Build one with [`load_mapping()`][csmkit.io.load_mapping] (a built-in name or a JSON
    file) or directly:

    >>> mapping = ColumnMapping({"id": "Ticket", "created_at": "Opened"}, {}, "mine")
    >>> mapping.columns["id"]
    'Ticket'

    Attributes:
        columns: Canonical column name -> column name in the export.
        values: Canonical column name -> {export value: canonical value}; a value mapped
            to ``None`` means "no value".
        name: Where the mapping came from (for messages).
    """

    def __init__(
        self,
        columns: Mapping[str, str],
        values: Mapping[str, Mapping[str, Any]],
        name: str,
    ) -> None:
        self.columns = dict(columns)
        self.values = {key: dict(table) for key, table in values.items()}
        self.name = name


_ZENDESK: dict[str, Any] = {
    "columns": {
        "id": "Id",
        "created_at": "Created at",
        "solved_at": "Solved at",
        "first_reply_minutes": "First reply time in minutes",
        "status": "Status",
        "priority": "Priority",
        "type": "Ticket type",
        "channel": "Via",
        "group": "Group",
        "assignee": "Assignee",
        "customer_id": "Requester",
        "subject": "Subject",
        "agent_replies": "Replies",
        "csat": "Satisfaction Score",
    },
    "values": {
        "status": {
            "New": "new",
            "Open": "open",
            "Pending": "pending",
            "Hold": "on_hold",
            "On-hold": "on_hold",
            "Solved": "solved",
            "Closed": "closed",
        },
        "priority": {
            "Low": "low",
            "Normal": "normal",
            "High": "high",
            "Urgent": "urgent",
            "": None,
        },
        "channel": {
            "Mail": "email",
            "Email": "email",
            "Web Form": "web",
            "Web form": "web",
            "Chat": "chat",
            "Phone call (inbound)": "phone",
            "Phone call (outbound)": "phone",
            "API": "api",
        },
        "csat": {"Good": 5, "Bad": 1, "Offered": None, "Unoffered": None, "": None},
    },
}

_FRESHDESK: dict[str, Any] = {
    "columns": {
        "id": "Ticket ID",
        "created_at": "Created time",
        "first_reply_at": "Initial response time",
        "solved_at": "Resolved time",
        "closed_at": "Closed time",
        "status": "Status",
        "priority": "Priority",
        "type": "Type",
        "channel": "Source",
        "group": "Group",
        "assignee": "Agent",
        "customer_id": "Requester Email",
        "subject": "Subject",
        "agent_replies": "Agent interactions",
        "csat": "Satisfaction rating",
    },
    "values": {
        "status": {
            "Open": "open",
            "Pending": "pending",
            "Waiting on Customer": "pending",
            "Waiting on Third Party": "on_hold",
            "Resolved": "solved",
            "Closed": "closed",
        },
        "priority": {"Low": "low", "Medium": "normal", "High": "high", "Urgent": "urgent"},
        "channel": {
            "Email": "email",
            "Outbound Email": "email",
            "Portal": "web",
            "Feedback Widget": "web",
            "Phone": "phone",
            "Chat": "chat",
        },
        "csat": {
            "Extremely happy": 5,
            "Happy": 4,
            "Neutral": 3,
            "Unhappy": 2,
            "Extremely unhappy": 1,
            "": None,
        },
    },
}

MAPPINGS: dict[str, dict[str, Any]] = {"freshdesk": _FRESHDESK, "zendesk": _ZENDESK}
"""Built-in column mappings by name (``mapping="zendesk"``, ``--mapping freshdesk``)."""


def load_mapping(spec: str) -> ColumnMapping:
    """A built-in mapping by name (``zendesk``, ``freshdesk``), or a mapping JSON file.

    A mapping file is ``{"columns": {canonical: export column}, "values": {canonical:
    {export value: canonical value}}}``.

    Raises:
        ExportError: the file is unreadable or malformed.
    """
    if spec in MAPPINGS:
        data: Any = MAPPINGS[spec]
    else:
        path = Path(spec)
        if not path.is_file():
            raise ExportError(
                f"--mapping {spec!r}: no such file and not a built-in mapping "
                f"({', '.join(sorted(MAPPINGS))})"
            )
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ExportError(f"{spec}: cannot read the mapping: {exc}") from None
    problems: list[str] = []
    if not isinstance(data, dict):
        raise ExportError(f"{spec}: a mapping is a JSON object with 'columns' and 'values'")
    extra = sorted(set(data) - {"columns", "values"})
    if extra:
        problems.append(f"unexpected key(s) {', '.join(map(repr, extra))}")
    columns = data.get("columns", {})
    values = data.get("values", {})
    if not isinstance(columns, dict):
        problems.append("columns: must be an object {canonical column: export column}")
        columns = {}
    for key, value in columns.items():
        if key not in CANONICAL_COLUMNS:
            problems.append(
                f"columns.{key}: not a canonical column ({', '.join(CANONICAL_COLUMNS)})"
            )
        if not isinstance(value, str):
            problems.append(f"columns.{key}: the export column must be a string, got {value!r}")
    if not isinstance(values, dict):
        problems.append("values: must be an object {canonical column: {value: value}}")
        values = {}
    for key, table in values.items():
        if not isinstance(table, dict):
            problems.append(f"values.{key}: must be an object")
    if problems:
        raise ExportError(f"{spec}: invalid mapping: " + "; ".join(problems))
    return ColumnMapping(columns, values, spec)


def read_instant(text: str, zone: tzinfo, where: str = "instant") -> datetime:
    """An instant as the loaders read an export's cells (and ``csmkit``'s ``--now``).

    ISO 8601 text with ``T`` or a space, an offset as ``+08:00``, ``+0800`` or ``Z``, or
    Zendesk's ``2026-09-28 09:15:00 +0800``; text without an offset is wall-clock time in
    ``zone``.

    Args:
        text: The text of the instant.
        zone: The time zone of instants written without an offset.
        where: Where the text comes from, for the error message (``file:line``).

    Returns:
        An aware datetime.

    Raises:
        ExportError: the text is not such an instant.

    Example:
        >>> from zoneinfo import ZoneInfo
        >>> read_instant("2026-09-28 09:15", ZoneInfo("Asia/Shanghai")).isoformat()
        '2026-09-28T09:15:00+08:00'
    """
    raw = text.strip()
    try:
        value = parse_instant(raw, where, zone=zone)
    except ValueError:
        # Zendesk writes "2026-09-28 09:15:00 +0800".
        try:
            value = datetime.strptime(raw, "%Y-%m-%d %H:%M:%S %z")
        except ValueError:
            raise ExportError(
                f"{where}: {text!r} is not an ISO 8601 instant (e.g. 2026-09-28T09:15:00+08:00)"
            ) from None
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=zone)
    return value


def _number(text: str, where: str, *, integer: bool = False) -> float | int:
    try:
        value = float(text)
    except ValueError:
        raise ExportError(f"{where}: {text!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise ExportError(f"{where}: {text!r} must be a finite number >= 0")
    if integer or value.is_integer():
        if not value.is_integer():
            raise ExportError(f"{where}: {text!r} must be a whole number")
        return int(value)
    return value


def _canonical_row(
    raw: Mapping[str, Any], mapping: ColumnMapping | None, where: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split a raw record into canonical values and the remaining form fields."""
    columns = mapping.columns if mapping is not None else {}
    used: set[str] = set()
    row: dict[str, Any] = {}
    for name in CANONICAL_COLUMNS:
        source = columns.get(name, name)
        if source in raw:
            used.add(source)
            value = raw[source]
            if isinstance(value, str):
                value = value.strip()
            table = mapping.values.get(name) if mapping is not None else None
            if table is not None and isinstance(value, str):
                value = _translate(table, value)
            if value is not None and value != "":
                row[name] = value
    fields = {
        str(key): value
        for key, value in raw.items()
        if key not in used and key is not None and value not in (None, "")
    }
    return row, fields


def _translate(table: Mapping[str, Any], value: str) -> Any:
    """``table[value]``, else the entry equal ignoring case and surrounding whitespace.

    Exports spell the same label ``Good``, ``good`` and ``GOOD``; a value the table does
    not know is returned unchanged (and then checked like any other value).
    """
    if value in table:
        return table[value]
    wanted = value.strip().casefold()
    for key, translated in table.items():
        if key.strip().casefold() == wanted:
            return translated
    return value


def ticket_timeline(
    raw: Mapping[str, Any], mapping: ColumnMapping | None, zone: tzinfo, where: str
) -> Timeline:
    """The timeline of one flat ticket record (see the schema in docs/cli.md).

    Raises:
        ExportError: a missing or malformed value, naming the record and column.
    """
    row, fields = _canonical_row(raw, mapping, where)
    for required in ("id", "created_at"):
        if required not in row:
            source = mapping.columns.get(required, required) if mapping else required
            hint = (
                f" (give the export's column names with --mapping: {', '.join(sorted(MAPPINGS))} "
                "or a mapping JSON file)"
                if required not in raw and source not in raw
                else ""
            )
            raise ExportError(f"{where}: column {source!r} ({required}) is missing or empty{hint}")
    ticket_id = str(row["id"])

    def instant(name: str) -> datetime | None:
        value = row.get(name)
        return None if value is None else read_instant(str(value), zone, f"{where}.{name}")

    created = instant("created_at")
    assert created is not None
    first_reply = instant("first_reply_at")
    if "first_reply_minutes" in row:
        minutes = _number(str(row["first_reply_minutes"]), f"{where}.first_reply_minutes")
        # Millisecond precision: minutes such as 437.85 are not exact binary fractions.
        from_minutes = created + timedelta(seconds=round(minutes * 60, 3))
        if first_reply is not None and first_reply != from_minutes:
            raise ExportError(f"{where}: first_reply_at and first_reply_minutes disagree")
        first_reply = from_minutes
    solved = instant("solved_at")
    closed = instant("closed_at")
    status = str(row.get("status", "")).lower() or None
    if status is not None and status not in _CATEGORIES:
        raise ExportError(
            f"{where}.status: {row['status']!r} is not a status category "
            f"({', '.join(sorted(_CATEGORIES))}); map it with --mapping"
        )
    if solved is None and closed is not None:
        solved = closed
    if solved is not None and status not in (None, "solved", "closed"):
        raise ExportError(
            f"{where}: status {status!r} but solved_at is set; a reopened ticket needs "
            "its events (JSON Lines), not a flat row"
        )
    if status is None:
        status = "solved" if solved is not None else "open"
    if status in ("solved", "closed") and solved is None:
        raise ExportError(f"{where}: status {status!r} needs solved_at")
    replies: int
    if "agent_replies" in row:
        replies = int(_number(str(row["agent_replies"]), f"{where}.agent_replies", integer=True))
        if replies > 0 and first_reply is None:
            raise ExportError(f"{where}: agent_replies is {replies} but there is no first reply")
    else:
        replies = 1 if first_reply is not None else 0
    if first_reply is not None and replies == 0:
        raise ExportError(f"{where}: agent_replies is 0 but a first reply is given")
    for name, value in (("first_reply", first_reply), ("solved_at", solved), ("closed_at", closed)):
        if value is not None and value < created:
            raise ExportError(f"{where}.{name}: {value.isoformat()} is before created_at")
    channel = str(row.get("channel", "unknown"))
    try:
        events: list[Event] = [
            TicketCreated(
                ticket_id=ticket_id,
                at=created,
                type=str(row.get("type", "ticket")),
                channel=channel,
                priority=str(row.get("priority", "normal")).lower(),
                customer_id=None if "customer_id" not in row else str(row["customer_id"]),
                subject=str(row.get("subject", "")),
                fields=_fields(row, fields),
            )
        ]
        if "group" in row or "assignee" in row:
            events.append(
                Assigned(
                    ticket_id=ticket_id,
                    at=created,
                    agent=None if "assignee" not in row else str(row["assignee"]),
                    group=None if "group" not in row else str(row["group"]),
                )
            )
        events.append(
            MessageAdded(ticket_id=ticket_id, at=created, direction="inbound", channel=channel)
        )
        if first_reply is not None:
            events.extend(
                MessageAdded(
                    ticket_id=ticket_id, at=first_reply, direction="outbound", channel=channel
                )
                for _ in range(replies)
            )
        timeline_events = sorted(events, key=lambda event: event.at)
        current = "new"
        if solved is not None:
            timeline_events.append(
                StatusChanged(
                    ticket_id=ticket_id,
                    at=solved,
                    from_status=current,
                    to_status="solved",
                    category="solved",
                )
            )
            current = "solved"
            if status == "closed":
                timeline_events.append(
                    StatusChanged(
                        ticket_id=ticket_id,
                        at=max(closed or solved, solved),
                        from_status="solved",
                        to_status="closed",
                        category="closed",
                    )
                )
        elif status != "new":
            last = max(event.at for event in timeline_events)
            timeline_events.append(
                StatusChanged(
                    ticket_id=ticket_id,
                    at=last,
                    from_status="new",
                    to_status=status,
                    category=status,
                )
            )
        survey_at = max(event.at for event in timeline_events)
        for survey in ("csat", "nps", "ces"):
            if survey in row:
                score = row[survey]
                if not isinstance(score, (int, float)) or isinstance(score, bool):
                    score = _number(str(score), f"{where}.{survey}")
                timeline_events.append(
                    SurveyAnswered(ticket_id=ticket_id, at=survey_at, survey=survey, score=score)
                )
        timeline_events.sort(key=lambda event: event.at)
        return Timeline(timeline_events)
    except (TimelineError, ValueError, TypeError) as exc:
        raise ExportError(f"{where}: {exc}") from None


def _fields(row: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in extra.items():
        out[key] = value if isinstance(value, (str, int, float, bool)) else json.dumps(value)
    return out


def read_record(
    data: Any, mapping: ColumnMapping | None, zone: tzinfo, where: str
) -> tuple[str, Any]:
    """One JSON Lines record: ``("timeline", Timeline)`` or ``("event", Event)``.

    A record with ``events`` is a timeline, one with ``kind`` an event, anything else a
    flat ticket (see `ticket_timeline()`).

    Raises:
        ExportError: the record is none of these, naming ``where``.
    """
    if not isinstance(data, dict):
        raise ExportError(f"{where}: expected a JSON object, got {type(data).__name__}")
    if "events" in data:
        try:
            return "timeline", decode_timeline(data)
        except TimelineError as exc:
            raise ExportError(f"{where}: {exc}") from None
    if "kind" in data:
        try:
            return "event", Event.from_dict(data)
        except TimelineError as exc:
            raise ExportError(f"{where}: {exc}") from None
    return "timeline", ticket_timeline(data, mapping, zone, where)


def latest_instant(timelines: Iterable[Timeline]) -> datetime | None:
    """The latest event instant of all timelines (the default ``now`` of a report)."""
    latest: datetime | None = None
    for timeline in timelines:
        for event in timeline.events:
            if latest is None or event.at > latest:
                latest = event.at
    return latest
