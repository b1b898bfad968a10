"""``event_to_dict`` passes plain scalars through as they are and encodes every other
value with ``_encode``: the same dict as encoding every field."""

from __future__ import annotations

import enum
from typing import Any

import attrs
from hypothesis import given

from csmkit.testing import T0
from csmkit.timeline import Event, MessageAdded, TicketCreated
from csmkit.timeline._codec import _encode, event_to_dict
from csmkit.timeline._events import trusted_event
from strategies import timelines_events


def _reference(event: Event) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": event.kind}
    for attribute in attrs.fields(type(event)):
        out[attribute.name] = _encode(getattr(event, attribute.name))
    return out


def _same(got: Any, want: Any) -> None:
    assert got == want
    assert type(got) is type(want)
    if isinstance(want, dict):
        for key in want:
            _same(got[key], want[key])
    elif isinstance(want, list):
        for left, right in zip(got, want, strict=True):
            _same(left, right)


@given(timelines_events())
def test_to_dict_equals_encoding_every_field(events: list[Event]) -> None:
    for event in events:
        _same(event_to_dict(event), _reference(event))


class _Channel(str, enum.Enum):
    WEB = "web"


def test_a_str_subclass_is_encoded_not_passed_through() -> None:
    # an enum member is a str too: it is written as its value, a plain str
    created = TicketCreated(ticket_id="T-1", at=T0, type="r", channel="web")
    odd = trusted_event(
        MessageAdded, ticket_id="T-1", at=T0, actor=None, meta=created.meta,
        direction="inbound", channel=_Channel.WEB, author=None, public=True,
        message_id=None, body_ref=None,
    )  # fmt: skip
    got = event_to_dict(odd)
    assert type(got["channel"]) is str
    _same(got, _reference(odd))
