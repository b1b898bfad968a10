"""``copy_store`` / ``csmkit store copy``: a desk moves between stores without loss."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _pg_server import PgServer
from csmkit.cli._main import main
from csmkit.errors import StorageError
from csmkit.storage import (
    Customer,
    Identity,
    MemoryStore,
    PostgresStore,
    SlaDue,
    SqliteStore,
    TicketStore,
    copy_store,
    stream_digest,
)
from csmkit.testing import ACTIONS, OFFSETS, T0, created, next_event
from csmkit.timeline import MessageAdded, Ticket


def _fill(store: TicketStore, seed: int, tickets: int = 12) -> None:
    """Interleaved appends of several batch sizes, customers with identities."""
    rng = random.Random(seed)
    states: dict[str, Ticket] = {}
    for index in range(tickets):
        ticket_id = f"工单-{index:03d}"
        customer = f"C-{index % 4}"
        first = created(ticket_id, T0, customer_id=customer)
        store.append(ticket_id, [first], 0)
        states[ticket_id] = Ticket.created(first)
    for step in range(tickets * 3):
        ticket_id = rng.choice(sorted(states))
        ticket = states[ticket_id]
        batch = []
        for _ in range(rng.randint(1, 3)):
            action = rng.choice(ACTIONS)
            at = (ticket.updated_at + timedelta(minutes=rng.randint(0, 90))).astimezone(
                rng.choice(OFFSETS)
            )
            event = next_event(
                ticket, action, at, message_id=f"<{ticket_id}.{step}.{len(batch)}@example.com>"
            )
            batch.append(event)
            ticket = ticket.apply(event)
        due = None
        if ticket.category.value in ("new", "open") and step % 2:
            due = SlaDue(at=ticket.updated_at + timedelta(hours=step), target="first_response")
        store.append(ticket_id, batch, states[ticket_id].version, due=due)
        states[ticket_id] = ticket
    for index in range(5):  # C-4 has no ticket: copied all the same
        store.save_customer(
            Customer(
                f"C-{index}",
                name=["王芳", "Li Lei", "", "张三", "😀"][index],
                identities=[
                    Identity("email", f"c{index}@example.com"),
                    Identity("phone", f"+86138001380{index:02d}"),
                ],
            )
        )


def _streams(store: TicketStore) -> dict[str, tuple[str, SlaDue | None]]:
    out = {}
    cursor = None
    while True:
        page = store.find_tickets(limit=50, cursor=cursor)
        for summary in page.items:
            out[summary.ticket_id] = (stream_digest(store.load(summary.ticket_id)), summary.due)
        cursor = page.next_cursor
        if cursor is None:
            return out


def test_stream_digest_tells_streams_apart() -> None:
    one = [created("T-1", T0)]
    ticket = Ticket.created(one[0])
    two = [*one, next_event(ticket, "assign", T0)]
    assert stream_digest(one) == stream_digest(list(one))
    assert stream_digest(one) != stream_digest(two)
    shifted = [created("T-1", T0.astimezone(OFFSETS[0]))]  # same instant, other UTC offset
    assert shifted[0].at == one[0].at
    assert stream_digest(shifted) != stream_digest(one)


def test_sqlite_to_sqlite_copies_everything(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "a.db") as source, SqliteStore(tmp_path / "b.db") as target:
        _fill(source, seed=1)
        report = copy_store(source, target)
        assert report.tickets == 12
        assert report.customers == 5
        assert report.skipped == 0
        assert report.events == sum(source.version(t) for t in _streams(source))
        assert _streams(target) == _streams(source)
        assert any(due is not None for _, due in _streams(target).values())
        assert target.get_customer("C-4") == source.get_customer("C-4")
        assert target.find_customer("phone", "+8613800138003").id == "C-3"  # type: ignore[union-attr]
        message_ids = [
            (e.message_id, e.ticket_id)
            for e in source.load("工单-005")
            if isinstance(e, MessageAdded)
        ]
        for message_id, ticket_id in message_ids:
            assert target.find_ticket_by_message_id(message_id) == ticket_id  # type: ignore[arg-type]
        assert target.position() == source.position()


def test_non_empty_destination_is_refused_unless_allowed(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "a.db") as source, SqliteStore(tmp_path / "b.db") as target:
        _fill(source, seed=2, tickets=4)
        target.append("工单-000", list(source.load("工单-000")), 0)  # identical stream
        with pytest.raises(StorageError, match="not empty"):
            copy_store(source, target)
        report = copy_store(source, target, allow_non_empty=True)
        assert (report.tickets, report.skipped) == (4, 1)
        assert _streams(target) == _streams(source)
        # A stream that differs is never overwritten.
        other = SqliteStore(tmp_path / "c.db")
        other.append("工单-001", [created("工单-001", T0)], 0)
        with pytest.raises(StorageError, match="'工单-001' is already in the destination"):
            copy_store(source, other, allow_non_empty=True)
        other.close()


@settings(max_examples=5)
@given(seed=st.integers(0, 10**6))
def test_memory_to_memory_round_trip_keeps_every_stream(seed: int) -> None:
    source, target = MemoryStore(), MemoryStore()
    _fill(source, seed=seed, tickets=5)
    first = copy_store(source, target)
    back = MemoryStore()
    second = copy_store(target, back)
    assert first.checksum == second.checksum
    assert _streams(back) == _streams(source)
    # MemoryStore cannot list customers: those its tickets name are copied.
    assert first.customers == 4


def test_cli_copies_sqlite_to_postgres(
    tmp_path: Path, pg_server: PgServer, capsys: pytest.CaptureFixture[str]
) -> None:
    with SqliteStore(tmp_path / "desk.db") as source:
        _fill(source, seed=3)
        expected = _streams(source)
        customers = [source.get_customer(f"C-{i}") for i in range(5)]
    schema = pg_server.new_schema()
    destination = pg_server.url(schema=schema)
    assert main(["store", "copy", f"sqlite:///{tmp_path / 'desk.db'}", destination]) == 0
    out = capsys.readouterr().out
    assert "copied 12 ticket(s)" in out and "5 customer(s)" in out and "verified" in out
    with PostgresStore(pg_server.url(), schema=schema) as copied:
        assert _streams(copied) == expected
        assert [copied.get_customer(c.id) for c in customers] == customers
        assert copied.list_customers() == customers
    # Again into the same, now full, destination: refused, exit status 1.
    assert main(["store", "copy", f"sqlite:///{tmp_path / 'desk.db'}", destination]) == 1
    assert "not empty" in capsys.readouterr().err
