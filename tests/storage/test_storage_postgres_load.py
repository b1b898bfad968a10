"""``PostgresStore.load`` decodes its rows through ``csmkit.timeline.trusted.stored_events``:
the same timeline as the validating read path (``Event.from_dict`` row by row, then
``Timeline``) for every stored stream, and exactly the same ``StorageError`` for every
damaged row that path refuses -- never a wrong ticket."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import csmkit.storage._pg_index as pg_index
from _pg_server import PgServer
from csmkit.errors import StorageError, TimelineError
from csmkit.storage import PostgresStore
from csmkit.testing import T0, created, next_event
from csmkit.timeline import Event, Timeline
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
        [],
        {},
        ["a"],
        {"k": 1},
        "2026-09-28T10:00:00",  # naive
        "2026-09-28T10:00:00+08:00",
        "new",
        "open",
        "created",
        "inbound",
        "internal",
        "no-such-kind",
    ]
)
_NUMBERS = itertools.count(1)


@pytest.fixture(scope="module")
def schema(pg_server: PgServer) -> str:
    return pg_server.new_schema()


@pytest.fixture(scope="module")
def store(pg_server: PgServer, schema: str) -> Iterator[PostgresStore]:
    with PostgresStore(pg_server.url(), schema=schema) as opened:
        yield opened


def _reference(where: str, ticket_id: str, payloads: list[str]) -> tuple[str, Any]:
    """What the load gave before it used the trusted decoders (the validating path)."""
    events: list[Event] = []
    for version, payload in enumerate(payloads, 1):
        try:
            events.append(Event.from_dict(json.loads(payload)))
        except (ValueError, TypeError) as exc:
            return "error", f"{where}: ticket {ticket_id!r} event {version} is unreadable: {exc}"
    try:
        return "ok", Timeline(events)
    except TimelineError as exc:
        return "error", f"{where}: ticket {ticket_id!r} is corrupt: {exc}"


def _outcome(store: PostgresStore, ticket_id: str) -> tuple[str, Any]:
    try:
        return "ok", store.load(ticket_id)
    except StorageError as exc:
        return "error", str(exc)


def _same(got: Timeline, want: Timeline) -> None:
    assert [type(event) for event in got] == [type(event) for event in want]
    assert got == want
    # equality of instants ignores their offsets; the dict form does not
    assert got.to_dict() == want.to_dict()
    assert got.ticket == want.ticket
    assert got.ticket.fields == want.ticket.fields


def _damage(row: dict[str, Any], data: st.DataObject, odd: Any) -> None:
    key = data.draw(st.sampled_from(sorted(row)))
    how = data.draw(st.sampled_from(["replace", "drop", "add"]))
    if how == "replace":
        row[key] = odd
    elif how == "drop":
        del row[key]
    else:
        row["surprise"] = odd


def _rewrite(
    pg_server: PgServer, schema: str, ticket_id: str, version: int, row: dict[str, Any]
) -> list[str]:
    """Store ``row`` as the payload of one version; the stream's payloads after it."""
    text = json.dumps(row, ensure_ascii=False, separators=(",", ":"))
    with pg_server.admin() as admin:
        admin.execute(
            f"UPDATE {schema}.events SET payload = %s WHERE ticket_id = %s AND version = %s",
            (text, ticket_id, version),
        )
        rows = admin.execute(
            f"SELECT payload FROM {schema}.events WHERE ticket_id = %s ORDER BY version",
            (ticket_id,),
        ).fetchall()
    return [payload for (payload,) in rows]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(timelines_events(max_events=6), st.data(), ODD_VALUES)
def test_a_load_is_the_reference_or_the_same_storage_error(
    pg_server: PgServer,
    schema: str,
    store: PostgresStore,
    events: list[Event],
    data: st.DataObject,
    odd: Any,
) -> None:
    ticket_id = f"{events[0].ticket_id}-{next(_NUMBERS)}"
    events = [attrs.evolve(event, ticket_id=ticket_id) for event in events]
    store.append(ticket_id, events, 0)
    _same(store.load(ticket_id), Timeline(events))
    version = data.draw(st.integers(1, len(events)))
    row = events[version - 1].to_dict()
    _damage(row, data, odd)
    payloads = _rewrite(pg_server, schema, ticket_id, version, row)
    outcome, reference = _reference(store.where, ticket_id, payloads)
    got, value = _outcome(store, ticket_id)
    assert got == outcome, value
    if outcome == "error":
        assert value == reference
    else:
        _same(value, reference)


def _stream(store: PostgresStore, ticket_id: str) -> Timeline:
    timeline = Timeline([created(ticket_id, T0)])
    for hour, kind in enumerate(["open", "assign", "message", "solve"], 10):
        timeline = timeline.append(next_event(timeline.ticket, kind, T0.replace(hour=hour)))
    store.append(ticket_id, list(timeline), 0)
    return timeline


@pytest.mark.parametrize(
    ("version", "key", "value", "why"),
    [
        (2, "at", "2026-09-28T10:00:00", "naive instant"),
        (2, "kind", "no-such-kind", "unknown kind"),
        (2, "from_status", "elsewhere", "a move from a state the ticket is not in"),
        (2, "category", 3, "a category of the wrong type"),
        (2, "category", "done", "not a status category"),
        (2, "ticket_id", "T-other", "another ticket's event"),
        (2, "at", "2020-01-01T00:00:00+00:00", "out of order"),
        (2, "surprise", 1, "a key the kind does not have"),
        (3, "agent", None, "an assignment to nobody (with no group)"),
        (4, "public", "yes", "public not a bool"),
        (1, "workflow_version", 2, "a workflow version without a workflow"),
    ],
)
def test_each_kind_of_damage_is_the_same_storage_error(
    pg_server: PgServer,
    schema: str,
    store: PostgresStore,
    version: int,
    key: str,
    value: Any,
    why: str,
) -> None:
    ticket_id = f"T-damage-{next(_NUMBERS)}"
    timeline = _stream(store, ticket_id)
    row = timeline[version - 1].to_dict()
    row[key] = value
    if key == "agent":
        row["group"] = None
    payloads = _rewrite(pg_server, schema, ticket_id, version, row)
    outcome, message = _reference(store.where, ticket_id, payloads)
    assert outcome == "error", why
    with pytest.raises(StorageError) as raised:
        store.load(ticket_id)
    assert str(raised.value) == message
    assert repr(ticket_id) in message


def test_a_missing_version_is_still_named(
    pg_server: PgServer, schema: str, store: PostgresStore
) -> None:
    ticket_id = f"T-gap-{next(_NUMBERS)}"
    _stream(store, ticket_id)
    with pg_server.admin() as admin:
        admin.execute(
            f"DELETE FROM {schema}.events WHERE ticket_id = %s AND version = 3", (ticket_id,)
        )
    with pytest.raises(StorageError, match=f"ticket '{ticket_id}' misses event version 3"):
        store.load(ticket_id)


def test_a_clean_stream_takes_the_trusted_path(
    store: PostgresStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticket_id = f"T-fast-{next(_NUMBERS)}"
    timeline = _stream(store, ticket_id)
    decoded: list[int] = []
    validated: list[object] = []
    trusted, from_dict = pg_index.stored_events, Event.from_dict

    def counting_trusted(rows: list[Any]) -> list[Event]:
        events = trusted(rows)
        decoded.append(len(events))
        return events

    def counting_from_dict(data: Any) -> Event:
        validated.append(data)
        return from_dict(data)

    monkeypatch.setattr(pg_index, "stored_events", counting_trusted)
    monkeypatch.setattr(pg_index.Event, "from_dict", counting_from_dict)
    _same(store.load(ticket_id), timeline)
    assert decoded == [len(timeline)]
    assert validated == []
