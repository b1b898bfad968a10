"""The SQLite store's rows are byte for byte their definition: each event's payload is
``json.dumps(event.to_dict())`` (compact, UTF-8 kept) and each ticket's state snapshot is
the same JSON of the ticket's attributes, whatever encoder the store runs."""

from __future__ import annotations

import json
import math
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from itertools import pairwise
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csmkit._time import format_instant
from csmkit.storage import SqliteStore
from csmkit.storage._common import order_key
from csmkit.storage._eventjson import dumps
from csmkit.timeline import Event, Ticket, Timeline
from strategies import timelines_events


def _reference(value: Any) -> str:
    """The standard library's compact JSON, instants as ISO 8601 with their offset."""

    def instant(item: object) -> str:
        if isinstance(item, datetime):
            return item.isoformat()
        raise TypeError(f"not JSON: {item!r}")

    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=instant)


_TEXT = st.text(st.characters(codec=None, blacklist_categories=()), max_size=8)
_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | _TEXT
    | st.datetimes(timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=8))]))
)
_VALUES = st.recursive(
    _LEAVES,
    lambda children: (
        st.lists(children, max_size=4)
        | st.lists(children, max_size=4).map(tuple)
        | st.dictionaries(_TEXT, children, max_size=4)
    ),
    max_leaves=20,
)


@given(_VALUES)
def test_dumps_is_the_standard_librarys_json(value: Any) -> None:
    assert dumps(value) == _reference(value)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, "\ud800", {"a": [1.5, ()]}])
def test_dumps_of_the_odd_values(value: Any) -> None:
    assert dumps(value) == _reference(value)


def test_dumps_refuses_what_json_refuses() -> None:
    with pytest.raises(TypeError):
        dumps({"x": object()})
    with pytest.raises(TypeError):
        dumps({1j: 1})


def _state(ticket: Ticket) -> str:
    data = {field.name: getattr(ticket, field.name) for field in attrs.fields(Ticket)}
    data["created_at"] = format_instant(ticket.created_at)
    data["updated_at"] = format_instant(ticket.updated_at)
    return _reference(data)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(events=timelines_events(), cuts=st.lists(st.integers(1, 12), max_size=4))
def test_rows_are_byte_for_byte_their_definition(
    tmp_path_factory: pytest.TempPathFactory, events: list[Event], cuts: list[int]
) -> None:
    path = tmp_path_factory.mktemp("bytes") / "desk.db"
    ticket_id = events[0].ticket_id
    bounds = sorted({0, len(events), *(cut for cut in cuts if cut < len(events))})
    with SqliteStore(path, synchronous="off") as store:
        for start, end in pairwise(bounds):
            store.append(ticket_id, events[start:end], start)
    connection = sqlite3.connect(path)
    try:
        payloads = connection.execute(
            "SELECT payload FROM events WHERE ticket_id = ? ORDER BY version", (ticket_id,)
        ).fetchall()
        (state,) = connection.execute(
            "SELECT state FROM tickets WHERE ticket_id = ?", (ticket_id,)
        ).fetchone()
    finally:
        connection.close()
    assert [text for (text,) in payloads] == [
        json.dumps(event.to_dict(), ensure_ascii=False, separators=(",", ":")) for event in events
    ]
    assert state == _state(Timeline(events).ticket)


def test_dumps_from_threads_at_once_is_the_same_text() -> None:
    """One encoder serves every thread: it keeps no state between calls (a shared table
    of the containers being encoded would see another thread's as a cycle)."""
    shared = {"fields": {"a": [{"b": ["c"] * 50}] * 50}, "at": datetime.now(timezone.utc)}
    expected = _reference(shared)

    def encode(_: int) -> bool:
        return all(dumps(shared) == expected for _ in range(200))

    with ThreadPoolExecutor(4) as pool:
        assert all(pool.map(encode, range(8)))


_AWARE = st.datetimes(
    min_value=datetime(2, 1, 1),
    max_value=datetime(9998, 12, 31),
    timezones=st.timezones() | st.just(timezone(timedelta(hours=5, minutes=30, seconds=15))),
)


@given(_AWARE, _AWARE)
def test_order_keys_are_utc_text_in_instant_order(first: datetime, second: datetime) -> None:
    """``updated_key`` / ``due_key``: fixed-width UTC text, ordered as the instants."""
    for instant in (first, second):
        utc = instant.astimezone(timezone.utc).replace(tzinfo=None)
        assert order_key(instant) == utc.isoformat(timespec="microseconds") + "Z"
    earlier = first.astimezone(timezone.utc) < second.astimezone(timezone.utc)
    assert (order_key(first) < order_key(second)) == earlier


def test_dumps_falls_back_to_the_general_encoder(monkeypatch: pytest.MonkeyPatch) -> None:
    # The shared C encoder is private to CPython's json: where it is missing, where its
    # signature differs, or where it writes another text, the general encoder is used.
    import json.encoder

    from csmkit.storage import _eventjson

    assert _eventjson._c_dumps() is not None  # this CPython: the fast path
    monkeypatch.setattr(json.encoder, "c_make_encoder", None)
    assert _eventjson._c_dumps() is None

    def other_signature(*args: Any) -> Any:
        raise TypeError("takes 10 arguments")

    monkeypatch.setattr(json.encoder, "c_make_encoder", other_signature)
    assert _eventjson._c_dumps() is None

    def other_text(*args: Any) -> Any:
        return lambda value, level: ["{", "}"]

    monkeypatch.setattr(json.encoder, "c_make_encoder", other_text)
    assert _eventjson._c_dumps() is None

    def failing(*args: Any) -> Any:
        def encode(value: Any, level: int) -> Any:
            raise ValueError("no")

        return encode

    monkeypatch.setattr(json.encoder, "c_make_encoder", failing)
    assert _eventjson._c_dumps() is None
