"""The fast decoder of csmkit's own timeline records equals ``Timeline.from_dict``:
the same timeline for every valid record, the same error for every broken one."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from csmkit.errors import TimelineError
from csmkit.io._trusted import decode_timeline
from csmkit.timeline import Timeline
from strategies import timelines_events

ODD_VALUES = st.sampled_from(
    [None, "", "x", 0, 1.5, True, False, [], {}, ["a"], {"k": 1}, "2026-09-28T10:00:00", "new"]
)


def _outcome(decode: Any, data: Any) -> tuple[str, Any]:
    try:
        return "ok", decode(data)
    except TimelineError as exc:
        return "error", str(exc)


@given(timelines_events())
def test_valid_records_decode_to_the_same_timeline(events: list[Any]) -> None:
    data = json.loads(json.dumps(Timeline(events).to_dict()))
    decoded = decode_timeline(data)
    assert decoded == Timeline.from_dict(data)
    assert decoded.ticket == Timeline.from_dict(data).ticket
    assert decode_timeline(json.loads(json.dumps(data, sort_keys=True))) == decoded


@given(timelines_events(), st.data(), ODD_VALUES)
def test_broken_records_fail_the_same_way(events: list[Any], data: st.DataObject, odd: Any) -> None:
    record = json.loads(json.dumps(Timeline(events).to_dict()))
    target = data.draw(st.sampled_from(record["events"]))
    key = data.draw(st.sampled_from(sorted(target)))
    how = data.draw(st.sampled_from(["replace", "drop", "add"]))
    if how == "replace":
        target[key] = odd
    elif how == "drop":
        del target[key]
    else:
        target["surprise"] = odd
    assert _outcome(decode_timeline, record) == _outcome(Timeline.from_dict, record)


@given(timelines_events(), ODD_VALUES)
def test_broken_envelopes_fail_the_same_way(events: list[Any], odd: Any) -> None:
    record = json.loads(json.dumps(Timeline(events).to_dict()))
    for broken in ({**record, "ticket_id": odd}, {**record, "events": odd}, {**record, "x": 1}):
        assert _outcome(decode_timeline, broken) == _outcome(Timeline.from_dict, broken)
