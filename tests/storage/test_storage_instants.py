"""Instants whose UTC offset has seconds are stored and read back by every store.

Before the one instant codec, SQLite stored ``+08:05:43`` (Asia/Shanghai before 1901)
but dateutil's parser could not read it back, so one such event broke listing the store.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from csmkit.storage import MemoryStore, SqliteStore, TicketStore
from csmkit.timeline import MessageAdded, TicketCreated

OLD_SHANGHAI = datetime(1900, 6, 1, 9, 30, 0, 250000, tzinfo=ZoneInfo("Asia/Shanghai"))
ODD_OFFSET = timezone(timedelta(hours=-3, minutes=-7, seconds=-11, microseconds=-5))


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TicketStore]:
    made = MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "t.db")
    with made:
        yield made


def test_offsets_with_seconds_are_listed_and_loaded_back(store: TicketStore) -> None:
    assert OLD_SHANGHAI.utcoffset() == timedelta(hours=8, minutes=5, seconds=43)
    created = TicketCreated(ticket_id="T-1", at=OLD_SHANGHAI, type="repair", channel="phone")
    reply = MessageAdded(
        ticket_id="T-1",
        at=datetime(1900, 6, 1, 2, 0, tzinfo=ODD_OFFSET),
        direction="inbound",
        channel="phone",
        author="c-1",
    )
    store.append("T-1", [created, reply], expected_version=0)
    store.append(
        "T-2",
        [TicketCreated(ticket_id="T-2", at=OLD_SHANGHAI, type="repair", channel="web")],
        expected_version=0,
    )
    events = store.load("T-1").events
    assert events == (created, reply)
    assert [e.at.utcoffset() for e in events] == [created.at.utcoffset(), reply.at.utcoffset()]
    page = store.find_tickets(limit=10)
    assert [t.ticket_id for t in page.items] == ["T-2", "T-1"]
    summary = page.items[1]
    assert summary.created_at == OLD_SHANGHAI
    assert summary.created_at.utcoffset() == OLD_SHANGHAI.utcoffset()
    assert summary.updated_at == reply.at
    assert store.find_tickets(updated_since=OLD_SHANGHAI).items == page.items
