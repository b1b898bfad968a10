"""The bundled stores' internal ``append(..., _folded=(prior, final))`` path (the desk's).

A writer that folded a batch itself (``Timeline.append``) hands the store its fold; the
store uses it only when ``prior`` is the very state it holds, and must then store exactly
what its own fold would have stored. Anything else is folded and validated as before.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import csmkit.storage._common as common
from csmkit.errors import TimelineError
from csmkit.storage import MemoryStore, SqliteStore, TicketStore
from csmkit.testing import ACTIONS, T0, created, next_event
from csmkit.timeline import Event, StatusChanged, Ticket, Timeline


def _batches(ticket_id: str, plan: list[list[str]]) -> list[list[Event]]:
    """Valid batches continuing one ticket: the first creates it."""
    ticket: Ticket | None = None
    out: list[list[Event]] = []
    minute = 0
    for actions in [["create"], *plan]:
        batch: list[Event] = []
        for action in actions:
            at = T0 + timedelta(minutes=minute)
            minute += 1
            if ticket is None:
                event: Event = created(ticket_id, at)
                ticket = Ticket.created(event)  # type: ignore[arg-type]
            else:
                event = next_event(ticket, action, at, message_id=f"<{ticket_id}-{minute}@x>")
                ticket = ticket.apply(event)
            batch.append(event)
        out.append(batch)
    return out


def _append_all(store: TicketStore, batches: dict[str, list[list[Event]]], fold: bool) -> None:
    """Append the tickets' batches interleaved, as the desk's committer does when
    ``fold`` (its timeline before, and ``Timeline.append``'s fold after), else plainly."""
    held: dict[str, Timeline | None] = dict.fromkeys(batches)
    longest = max(len(b) for b in batches.values())
    for step in range(longest):
        for ticket_id, plan in batches.items():
            if step >= len(plan):
                continue
            before = held[ticket_id]
            batch = plan[step]
            final = Timeline(batch) if before is None else before.append(*batch)
            version = 0 if before is None else len(before)
            if fold:
                prior = None if before is None else before.ticket
                store.append(ticket_id, batch, version, _folded=(prior, final.ticket))  # type: ignore[call-arg]
            else:
                store.append(ticket_id, batch, version)
            # Every third step the writer re-reads the ticket (a cache miss): its state
            # is then not the store's object, and the store must fold and compare.
            held[ticket_id] = store.load(ticket_id) if step % 3 == 2 else final


_plans = st.lists(
    st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=3), min_size=0, max_size=8
)


def _sqlite_rows(path: Path) -> list[str]:
    with sqlite3.connect(path) as connection:
        return list(connection.iterdump())


@settings(max_examples=40, deadline=None)
@given(plans=st.lists(_plans, min_size=1, max_size=3))
def test_a_desk_fold_stores_exactly_the_rows_of_the_stores_own_fold(
    tmp_path_factory: pytest.TempPathFactory, plans: list[list[list[str]]]
) -> None:
    batches = {f"T-{n}": _batches(f"T-{n}", plan) for n, plan in enumerate(plans)}
    folder = tmp_path_factory.mktemp("folded")
    paths = {side: folder / f"{side}.db" for side in ("folded", "plain")}
    for side, path in paths.items():
        with SqliteStore(path) as store:
            _append_all(store, batches, fold=side == "folded")
    assert _sqlite_rows(paths["folded"]) == _sqlite_rows(paths["plain"])
    memory = {side: MemoryStore() for side in ("folded", "plain")}
    for side, store in memory.items():
        _append_all(store, batches, fold=side == "folded")
    for ticket_id in batches:
        a, b = (memory[side].load(ticket_id) for side in ("folded", "plain"))
        assert a.events == b.events and a.ticket == b.ticket
    assert memory["folded"].changes_after(0) == memory["plain"].changes_after(0)
    assert memory["folded"].find_tickets() == memory["plain"].find_tickets()


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_the_short_path_is_taken_only_on_the_held_state(
    tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    folds: list[int] = []
    original = common.fold_batch

    def counted(*args: object) -> Ticket:
        folds.append(1)
        return original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(common, "fold_batch", counted)
    store: TicketStore = MemoryStore() if kind == "memory" else SqliteStore(tmp_path / "s.db")
    first, second, third = _batches("T-1", [["assign"], ["message"]])
    timeline = Timeline(first)
    store.append("T-1", first, 0, _folded=(None, timeline.ticket))  # type: ignore[call-arg]
    assert folds == []
    # A re-read state equal to but not the store's own object: folded and compared.
    loaded = store.load("T-1")
    copy = attrs.evolve(loaded.ticket)
    after = loaded.append(*second)
    store.append("T-1", second, 1, _folded=(copy, after.ticket))  # type: ignore[call-arg]
    assert folds == [1]
    # The store kept the writer's (equal) fold: the writer's next batch takes the short path.
    final = after.append(*third)
    store.append("T-1", third, 2, _folded=(after.ticket, final.ticket))  # type: ignore[call-arg]
    assert folds == [1]
    assert store.load("T-1").ticket == Timeline([*first, *second, *third]).ticket
    store.close()


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_a_fold_of_another_state_is_neither_trusted_nor_kept(tmp_path: Path, kind: str) -> None:
    store: TicketStore = MemoryStore() if kind == "memory" else SqliteStore(tmp_path / "s.db")
    first, second = _batches("T-1", [["message"]])
    store.append("T-1", first, 0)
    held = store.load("T-1").ticket
    stranger = attrs.evolve(held)  # equal, but not the object the store holds
    lie = attrs.evolve(held, version=2)  # a "fold" at the right version, but wrong
    # An invalid move is refused although the writer claims a fold for it.
    bad = StatusChanged(
        ticket_id="T-1",
        at=T0 + timedelta(minutes=5),
        from_status="no_such_status",
        to_status="open",
        category="open",
    )
    with pytest.raises(TimelineError):
        store.append("T-1", [bad], 1, _folded=(stranger, lie))  # type: ignore[call-arg]
    assert store.version("T-1") == 1
    # A wrong fold of a valid batch is not stored: the store's own fold is.
    store.append("T-1", second, 1, _folded=(stranger, lie))  # type: ignore[call-arg]
    assert store.load("T-1").ticket == Timeline([*first, *second]).ticket
    assert store.load("T-1").ticket != lie
    store.close()
