"""The stores' event JSON is exactly ``json.dumps(event.to_dict())`` and reads back equal."""

from __future__ import annotations

import json

import pytest
from hypothesis import given

from csmkit._time import format_instant
from csmkit.errors import TimelineError
from csmkit.storage._eventjson import decode_event, encode_event
from csmkit.timeline import Event
from strategies import timelines_events


@given(timelines_events())
def test_encoding_is_the_codecs_json(events: list[Event]) -> None:
    for event in events:
        text = encode_event(event)
        assert text == json.dumps(event.to_dict(), ensure_ascii=False, separators=(",", ":"))
        assert encode_event(event, format_instant(event.at)) == text  # the append's path
        decoded = decode_event(text)
        assert decoded == event
        assert type(decoded) is type(event)
        assert decoded.at.utcoffset() == event.at.utcoffset()


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('{"kind":"nope","ticket_id":"T","at":"2026-10-08T09:00:00+08:00"}', KeyError),
        ('{"kind":"escalated","ticket_id":"T","at":"2026-10-08T09:00:00+08:00"}', TypeError),
        ('{"kind":"escalated","ticket_id":"T","at":"yesterday","level":1}', ValueError),
        (
            '{"kind":"escalated","ticket_id":"","at":"2026-10-08T09:00:00+08:00","level":1}',
            TimelineError,
        ),
        (
            '{"kind":"escalated","ticket_id":"T","at":"2026-10-08T09:00:00+08:00","level":1,"x":1}',
            TypeError,
        ),
        ("[1]", TypeError),
        ("3", AttributeError),
    ],
)
def test_rows_that_are_not_events_are_errors(text: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        decode_event(text)
