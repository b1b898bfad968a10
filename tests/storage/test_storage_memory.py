"""The memory store's write path keeps less than it used to (its changes are built
without re-validation, its listing keys are made when a listing needs them): the
answers are the same as values built by the validating constructors and keys made
at each append."""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from csmkit.storage import Change, MemoryStore
from csmkit.storage._common import order_key
from csmkit.testing import T0, created, next_event
from csmkit.timeline import Event, Ticket

ACTIONS = ["assign", "message", "unassign"]
TICKETS = ["T-1", "T-2", "T-3"]
ZONES = [timezone.utc, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5))]


@settings(max_examples=60)
@given(data=st.data())
def test_changes_and_listings_match_the_validating_model(data: Any) -> None:
    store = MemoryStore()
    expected: list[Change] = []
    at = T0
    for _ in range(data.draw(st.integers(1, 12))):
        ticket_id = data.draw(st.sampled_from(TICKETS))
        at = (at + timedelta(minutes=data.draw(st.integers(0, 90)))).astimezone(
            data.draw(st.sampled_from(ZONES))
        )
        version = store.version(ticket_id)
        if version == 0:
            batch: list[Event] = [created(ticket_id, at)]
            state = Ticket.created(batch[0])  # type: ignore[arg-type]
        else:
            batch, state = [], store.load(ticket_id).ticket
        for _ in range(data.draw(st.integers(0 if batch else 1, 3))):
            event = next_event(state, data.draw(st.sampled_from(ACTIONS)), at)
            state = state.apply(event)
            batch.append(event)
        store.append(ticket_id, batch, version)
        for offset, event in enumerate(batch, version + 1):
            expected.append(
                Change(
                    position=len(expected) + 1,
                    ticket_id=ticket_id,
                    version=offset,
                    kind=event.kind,
                )
            )
        assert store.changes_after(0, limit=10_000) == expected
        # A listing between appends makes the keys; the next append must drop them.
        if data.draw(st.booleans()):
            _check_listing(store, data.draw(st.sampled_from([None, at, T0])))


def _check_listing(store: MemoryStore, since: Any) -> None:
    timelines = [store.load(t) for t in TICKETS if store.version(t)]
    order = sorted(
        (order_key(timeline.updated_at), timeline.ticket_id)
        for timeline in timelines
        if since is None or timeline.updated_at >= since
    )
    # pages of one, so the cursors (made from the keys) are exercised too
    seen, cursor = [], None
    while True:
        page = store.find_tickets(updated_since=since, limit=1, cursor=cursor)
        seen.extend(item.ticket_id for item in page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [ticket_id for _, ticket_id in order]
