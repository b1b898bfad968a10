"""SQLite store throughput against raw ``sqlite3`` inserts of the same rows.

Measures, for a SQLite file holding ``--tickets`` tickets of five events each:

* events appended per second, one event per append (single) and one ticket's five
  events per append (batched), through ``SqliteStore.append`` (validation, JSON,
  version check, index row, one ``BEGIN IMMEDIATE`` transaction per append);
* the raw ``sqlite3`` rate of inserting the very same rows (precomputed JSON payloads)
  into a table with the same primary key, with the same transaction granularity;
* timelines loaded per second (``SqliteStore.load``: rows, JSON, events, validated
  ``Timeline``) against a raw ``SELECT`` + ``json.loads`` of the same rows.

Both sides use WAL and the same ``synchronous`` setting, in one process, so the ratios are
what count. Run::

    python benchmarks/bench_storage.py            # 100,000 tickets
    python benchmarks/bench_storage.py --quick    # 2,000 tickets
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

from csmkit.storage import SqliteStore
from csmkit.timeline import (
    Assigned,
    Event,
    MessageAdded,
    StatusChanged,
    TicketCreated,
)

CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 10, 8, 9, 0, tzinfo=CST)


def ticket_events(n: int) -> list[Event]:
    """Five events of one ticket: created, assigned, opened, a message, solved."""
    ticket_id = f"T-{n:07d}"
    at = T0 + timedelta(seconds=n * 7, microseconds=n % 1_000_000)
    return [
        TicketCreated(
            ticket_id=ticket_id,
            at=at,
            type="repair",
            channel="phone",
            priority="high" if n % 5 == 0 else "normal",
            customer_id=f"C-{n % 5000}",
            subject="空调不制冷",
            fields={"型号": "KFR-35GW", "城市": "上海"},
        ),
        Assigned(ticket_id=ticket_id, at=at + timedelta(minutes=3), agent=f"agent-{n % 40}"),
        StatusChanged(
            ticket_id=ticket_id,
            at=at + timedelta(minutes=4),
            from_status="new",
            to_status="dispatched",
            category="open",
            transition="dispatch",
        ),
        MessageAdded(
            ticket_id=ticket_id,
            at=at + timedelta(minutes=30),
            direction="inbound",
            channel="email",
            message_id=f"<{ticket_id}.1@example.cn>",
        ),
        StatusChanged(
            ticket_id=ticket_id,
            at=at + timedelta(hours=2),
            from_status="dispatched",
            to_status="solved",
            category="solved",
            transition="finish",
        ),
    ]


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def timed(function: Callable[[], None]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def raw_connection(path: Path, synchronous: str) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute(f"PRAGMA synchronous = {synchronous.upper()}")
    connection.execute(
        "CREATE TABLE events (ticket_id TEXT NOT NULL, version INTEGER NOT NULL, "
        "kind TEXT NOT NULL, at TEXT NOT NULL, payload TEXT NOT NULL, "
        "PRIMARY KEY (ticket_id, version)) WITHOUT ROWID"
    )
    return connection


def rows_of(events: list[Event]) -> list[tuple[str, int, str, str, str]]:
    return [
        (
            e.ticket_id,
            version,
            e.kind,
            e.at.isoformat(),
            json.dumps(e.to_dict(), ensure_ascii=False, separators=(",", ":")),
        )
        for version, e in enumerate(events, 1)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--single", type=int, default=20_000, help="tickets for single appends")
    parser.add_argument("--loads", type=int, default=20_000, help="timelines to load")
    parser.add_argument("--quick", action="store_true", help="2,000 tickets")
    parser.add_argument("--synchronous", default="normal", choices=["off", "normal", "full"])
    parser.add_argument("--dir", type=Path, default=None, help="where to put the files")
    args = parser.parse_args()
    if args.quick:
        args.tickets, args.single, args.loads = 2_000, 1_000, 2_000
    args.single = min(args.single, args.tickets)
    args.loads = min(args.loads, args.tickets)

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        root = Path(tmp)
        print(f"building {args.tickets:,} tickets x 5 events ...", flush=True)
        tickets = [ticket_events(n) for n in range(args.tickets)]
        total_events = 5 * args.tickets
        print(f"synchronous={args.synchronous}, WAL, files in {root}\n")
        results: list[tuple[str, float, float]] = []

        # -- batched: one ticket's five events per append --------------------------
        store = SqliteStore(root / "batched.db", synchronous=args.synchronous)

        def store_batched() -> None:
            for events in tickets:
                store.append(events[0].ticket_id, events, 0)

        store_time = timed(store_batched)
        raw = raw_connection(root / "raw-batched.db", args.synchronous)
        raw_rows = [rows_of(events) for events in tickets]

        def raw_batched() -> None:
            for rows in raw_rows:
                raw.execute("BEGIN IMMEDIATE")
                raw.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?)", rows)
                raw.execute("COMMIT")

        raw_time = timed(raw_batched)
        results.append(
            ("append, 5 events/batch", rate(total_events, store_time), rate(total_events, raw_time))
        )
        stored = store.find_tickets(limit=1).items
        assert stored, "nothing stored"
        (raw_count,) = raw.execute("SELECT count(*) FROM events").fetchone()
        assert raw_count == total_events

        # -- single: one event per append ----------------------------------------
        single = SqliteStore(root / "single.db", synchronous=args.synchronous)
        subset = tickets[: args.single]

        def store_single() -> None:
            for events in subset:
                for version, event in enumerate(events):
                    single.append(event.ticket_id, [event], version)

        single_time = timed(store_single)
        raw_single = raw_connection(root / "raw-single.db", args.synchronous)
        single_rows = [row for events in subset for row in rows_of(events)]

        def raw_single_inserts() -> None:
            for row in single_rows:
                raw_single.execute("BEGIN IMMEDIATE")
                raw_single.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?)", row)
                raw_single.execute("COMMIT")

        raw_single_time = timed(raw_single_inserts)
        count = 5 * len(subset)
        results.append(
            ("append, 1 event/append", rate(count, single_time), rate(count, raw_single_time))
        )

        # -- loads -----------------------------------------------------------------
        sample = random.Random(7).sample(range(args.tickets), args.loads)
        ids = [tickets[n][0].ticket_id for n in sample]
        loaded = []

        def store_loads() -> None:
            for ticket_id in ids:
                loaded.append(store.load(ticket_id))

        load_time = timed(store_loads)
        raw_loaded = []

        def raw_loads() -> None:
            for ticket_id in ids:
                rows = raw.execute(
                    "SELECT payload FROM events WHERE ticket_id = ? ORDER BY version", (ticket_id,)
                ).fetchall()
                raw_loaded.append([json.loads(payload) for (payload,) in rows])

        raw_load_time = timed(raw_loads)
        for n, timeline, dicts in zip(sample, loaded, raw_loaded, strict=True):
            assert list(timeline) == tickets[n], "store returned different events"
            assert [e.to_dict() for e in timeline] == dicts, "raw rows differ"
        results.append(
            ("load timeline (5 events)", rate(len(ids), load_time), rate(len(ids), raw_load_time))
        )
        for handle in (store, single):
            handle.close()
        raw.close()
        raw_single.close()

    print(f"{'operation':<28}{'csmkit /s':>14}{'raw sqlite3 /s':>17}{'raw / csmkit':>15}")
    for name, mine, theirs in results:
        print(f"{name:<28}{mine:>14,.0f}{theirs:>17,.0f}{theirs / mine:>14.2f}x")
    print(
        f"\n{args.tickets:,} tickets batched, {args.single:,} tickets single, "
        f"{args.loads:,} loads; all loaded timelines equal the appended events."
    )


if __name__ == "__main__":
    main()
