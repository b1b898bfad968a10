"""A cold ``SqliteStore.load`` decodes its rows through the trusted per-kind decoders and
folds them in one go: the same timeline as the validating decoder for every stored stream,
and a ``StorageError`` naming the ticket for every damaged row the reference refuses."""

from __future__ import annotations

import json
import sqlite3
import tempfile
from functools import reduce
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csmkit.errors import StorageError, TimelineError
from csmkit.io._trusted import decode_timeline
from csmkit.storage import SqliteStore
from csmkit.storage._eventjson import decode_event, encode_event
from csmkit.testing import T0, created, next_event
from csmkit.timeline import Event, Ticket, Timeline
from csmkit.timeline._trusted import Untrusted, stored_events
from strategies import timelines_events

ODD_VALUES = st.sampled_from(
    [
        None,
        "",
        "x",
        0,
        -1,
        1.5,
        True,
        False,
        [],
        {},
        ["a"],
        {"k": 1},
        "2026-09-28T10:00:00",  # naive
        "2026-09-28T10:00:00+08:00",
        "2026-09-28T10:00:00.5+00:00:00.5",
        "new",
        "open",
        "created",
        "inbound",
        "internal",
        "no-such-kind",
    ]
)
_UNREADABLE = (ValueError, TypeError, KeyError, AttributeError)


def _same_events(got: list[Event], want: list[Event]) -> None:
    assert [type(event) for event in got] == [type(event) for event in want]
    assert got == want
    # equality of instants ignores their offsets; the dict form does not
    assert [event.to_dict() for event in got] == [event.to_dict() for event in want]


@given(timelines_events())
def test_stored_rows_decode_to_the_constructors_events(events: list[Event]) -> None:
    texts = [encode_event(event) for event in events]
    _same_events(stored_events([json.loads(text) for text in texts]), events)
    _same_events([decode_event(text) for text in texts], events)


def _reference(texts: list[str]) -> tuple[str, Any]:
    """What the store's validating read path gives: the events and the step-by-step fold,
    or that it refuses the stream."""
    try:
        events = [decode_event(text) for text in texts]
        ticket = reduce(Ticket.apply, events[1:], Ticket.created(events[0]))  # type: ignore[arg-type]
    except _UNREADABLE:
        return "error", None
    return "ok", (events, ticket)


def _damage(row: dict[str, Any], data: st.DataObject, odd: Any) -> None:
    key = data.draw(st.sampled_from(sorted(row)))
    how = data.draw(st.sampled_from(["replace", "drop", "add"]))
    if how == "replace":
        row[key] = odd
    elif how == "drop":
        del row[key]
    else:
        row["surprise"] = odd


@given(timelines_events(max_events=6), st.data(), ODD_VALUES)
def test_damaged_rows_decode_as_the_reference_or_fall_back(
    events: list[Event], data: st.DataObject, odd: Any
) -> None:
    rows = [json.loads(encode_event(event)) for event in events]
    _damage(data.draw(st.sampled_from(rows)), data, odd)
    texts = [json.dumps(row) for row in rows]
    try:
        fast = stored_events([json.loads(text) for text in texts])
    except (Untrusted, *_UNREADABLE):
        return  # the store decodes these rows the validating way
    try:
        reference = [decode_event(text) for text in texts]
    except _UNREADABLE:
        pytest.fail("the trusted decoder accepted a row the constructors refuse")
    _same_events(fast, reference)


@settings(max_examples=40, deadline=None)
@given(timelines_events(max_events=6), st.data(), ODD_VALUES)
def test_a_load_is_the_reference_or_a_storage_error_naming_the_ticket(
    events: list[Event], data: st.DataObject, odd: Any
) -> None:
    ticket_id = events[0].ticket_id
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "desk.db"
        with SqliteStore(path) as store:
            store.append(ticket_id, events, 0)
        version = data.draw(st.integers(1, len(events)))
        row = json.loads(encode_event(events[version - 1]))
        _damage(row, data, odd)
        text = json.dumps(row, ensure_ascii=False, separators=(",", ":"))
        connection = sqlite3.connect(path)
        with connection:
            connection.execute(
                "UPDATE events SET payload = ? WHERE ticket_id = ? AND version = ?",
                (text, ticket_id, version),
            )
        rows = connection.execute(
            "SELECT payload FROM events WHERE ticket_id = ? ORDER BY version", (ticket_id,)
        ).fetchall()
        connection.close()
        outcome, reference = _reference([payload for (payload,) in rows])
        with SqliteStore(path) as store:
            if outcome == "error":
                with pytest.raises(StorageError, match=repr(ticket_id)):
                    store.load(ticket_id)
                return
            loaded = store.load(ticket_id)
    want_events, want_ticket = reference
    _same_events(list(loaded), want_events)
    assert loaded.ticket == want_ticket
    assert loaded.ticket.fields == want_ticket.fields


@pytest.mark.parametrize(
    ("key", "value", "why"),
    [
        ("at", "2026-09-28T10:00:00", "naive instant"),
        ("kind", "no-such-kind", "unknown kind"),
        ("from_status", "elsewhere", "a move from a state the ticket is not in"),
        ("category", 3, "a category of the wrong type"),
        ("ticket_id", "T-2", "another ticket's event"),
        ("at", "2020-01-01T00:00:00+00:00", "out of order"),
    ],
)
def test_each_kind_of_damage_is_a_storage_error(
    tmp_path: Path, key: str, value: Any, why: str
) -> None:
    first = created("T-1", T0)
    timeline = Timeline([first])
    for n, kind in enumerate(["open", "message", "solve"]):
        timeline = timeline.append(next_event(timeline.ticket, kind, T0.replace(hour=10 + n)))
    path = tmp_path / "desk.db"
    with SqliteStore(path) as store:
        store.append("T-1", list(timeline), 0)
    row = json.loads(encode_event(timeline[1]))
    assert row["kind"] == "status_changed", why
    row[key] = value
    connection = sqlite3.connect(path)
    with connection:
        connection.execute("UPDATE events SET payload = ? WHERE version = 2", (json.dumps(row),))
    connection.close()
    with SqliteStore(path) as store, pytest.raises(StorageError, match="'T-1'"):
        store.load("T-1")


def test_an_assignment_to_nobody_is_refused_not_trusted(tmp_path: Path) -> None:
    # Regression: the trusted decoder once built an Assigned with neither agent nor
    # group, which the constructor refuses.
    timeline = Timeline([created("T-1", T0)])
    timeline = timeline.append(next_event(timeline.ticket, "assign", T0.replace(hour=10)))
    rows = [json.loads(encode_event(event)) for event in timeline]
    rows[1]["agent"] = rows[1]["group"] = None
    with pytest.raises(Untrusted):
        stored_events(rows)
    record = {"ticket_id": "T-1", "events": rows}
    with pytest.raises(TimelineError, match="Assigned needs an agent"):
        decode_timeline(record)
    path = tmp_path / "desk.db"
    with SqliteStore(path) as store:
        store.append("T-1", list(timeline), 0)
    connection = sqlite3.connect(path)
    with connection:
        connection.execute(
            "UPDATE events SET payload = ? WHERE version = 2", (json.dumps(rows[1]),)
        )
    connection.close()
    with SqliteStore(path) as store, pytest.raises(StorageError, match="'T-1' event 2"):
        store.load("T-1")
