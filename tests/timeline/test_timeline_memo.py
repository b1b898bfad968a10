"""What a timeline derives on demand (the instants, the latest event of a kind) and
carries over to the timelines grown from it answers as a walk of the whole history."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.strategies import timelines_events

from csmkit.timeline import EVENT_TYPES, Event, Timeline
from csmkit.timeline.trusted import folded_timeline

KINDS = sorted(EVENT_TYPES)


def _walk_last(events: tuple[Event, ...], kind: str) -> Event | None:
    latest = None
    for event in events:
        if event.kind == kind:
            latest = event
    return latest


@settings(max_examples=150)
@given(events=timelines_events(max_events=16), data=st.data())
def test_grown_timelines_answer_last_and_instants_as_a_fresh_walk(
    events: list[Event], data: Any
) -> None:
    timeline = Timeline(events[:1])
    position = 1
    while True:
        # ask some kinds now (memoised), maybe none, before growing
        for kind in data.draw(st.lists(st.sampled_from(KINDS), max_size=3)):
            assert timeline.last(kind) is _walk_last(timeline.events, kind)
        if data.draw(st.booleans()):  # the instants made now, then grown
            end = timeline.updated_at + timedelta(seconds=1)
            assert timeline.between(timeline.created_at, end) == timeline.events
        if position == len(events):
            break
        size = data.draw(st.integers(1, len(events) - position))
        batch = events[position : position + size]
        position += size
        if data.draw(st.booleans()):
            timeline = timeline.append(*batch)
        else:  # a store's path: the state folded elsewhere
            grown = Timeline(events[:position]).ticket
            timeline = folded_timeline(timeline, batch, grown)
    fresh = Timeline(events)
    assert timeline == fresh
    for kind in KINDS:
        assert timeline.last(kind) is _walk_last(fresh.events, kind)
    # several kinds at once: the latest of any of them
    pair = data.draw(st.lists(st.sampled_from(KINDS), min_size=2, max_size=2, unique=True))
    latest = [e for e in fresh.events if e.kind in pair]
    assert timeline.last(*pair) is (latest[-1] if latest else None)
    at = data.draw(st.sampled_from([e.at for e in events])) + data.draw(
        st.sampled_from([timedelta(0), timedelta(seconds=1), -timedelta(seconds=1)])
    )
    if at >= fresh.created_at:
        assert timeline.state_at(at) == fresh.state_at(at)
    start = data.draw(st.sampled_from([e.at for e in events]))
    assert timeline.between(start, at) == tuple(e for e in events if start <= e.at < at)
