"""Where a SQLite append's time goes: the store's own SQL replayed without its Python.

Appends ``--tickets`` tickets (five events each, as ``bench_storage.py``) through
``SqliteStore``, reads back exactly the rows it wrote, then replays them with plain
``sqlite3`` into fresh files with the store's schema, one ``BEGIN IMMEDIATE`` transaction
per ticket, parameters precomputed, adding one part of the store's write at a time:

* the event rows alone (what the raw baseline of ``bench_storage.py`` writes),
* plus the write positions (``changes``),
* plus the ticket's index row (its state snapshot, with the listing and due indexes),
* plus the message ids: every statement the store runs (a new ticket's version is
  checked by the ``INSERT`` of its row, which fails if the ticket exists),
* plus a ``SELECT`` of the ticket's row first, as the store did before it checked a new
  ticket that way (for comparison).

The fourth line is the floor of ``SqliteStore.append`` on this schema: no Python work at
all. Figures are CPU time (``time.process_time``) per append, best of ``--repeat``
interleaved rounds, so they hold on a busy machine.

Run::

    python benchmarks/bench_storage_floor.py --tickets 3000
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_storage import store_append, ticket_events

from csmkit.storage import SqliteStore

_COLUMNS = (
    "ticket_id, version, state, status, category, priority, assignee, group_name, "
    "customer_id, created_at, updated_at, updated_key, type, due_at, due_key, due_target"
)
PARTS = ("events", "changes", "ticket", "message_ids", "select")


def written(root: Path, tickets: int) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The schema's statements and, per ticket, every row the store wrote for it."""
    path = root / "source.db"
    with SqliteStore(path, synchronous="off") as store:
        store_append(store, [ticket_events(n) for n in range(tickets)])
    connection = sqlite3.connect(path)
    schema = [
        row[0]
        for row in connection.execute(
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
            "AND name != 'csmkit_schema' ORDER BY rowid"
        )
    ]
    events: dict[str, list[Any]] = {}
    for row in connection.execute(
        "SELECT ticket_id, version, kind, at, payload FROM events ORDER BY ticket_id, version"
    ):
        events.setdefault(row[0], []).append(row)
    rows = {row[0]: row for row in connection.execute(f"SELECT {_COLUMNS} FROM tickets")}
    ids = {row[1]: row[0] for row in connection.execute("SELECT * FROM message_ids")}
    connection.close()
    return schema, [(t, events[t], rows[t], ids.get(t)) for t in sorted(events)]


def replay(path: Path, schema: list[str], work: list[Any], parts: tuple[str, ...]) -> float:
    """CPU seconds per append for the store's statements of ``parts``."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    for statement in schema:
        connection.execute(statement)
    insert_ticket = f"INSERT INTO tickets ({_COLUMNS}) VALUES ({', '.join('?' * 16)})"
    start = time.process_time()
    for ticket_id, events, ticket, message_id in work:
        connection.execute("BEGIN IMMEDIATE")
        if "select" in parts:  # how the store checked a new ticket's version before
            connection.execute(
                "SELECT version, state FROM tickets WHERE ticket_id = ?", (ticket_id,)
            ).fetchone()
        connection.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?)", events)
        if "changes" in parts:
            connection.executemany(
                "INSERT INTO changes (ticket_id, version, kind) VALUES (?, ?, ?)",
                [row[:3] for row in events],
            )
        if "ticket" in parts:
            connection.execute(insert_ticket, ticket)
        if "message_ids" in parts and message_id is not None:
            connection.execute("INSERT INTO message_ids VALUES (?, ?)", (message_id, ticket_id))
        connection.execute("COMMIT")
    elapsed = time.process_time() - start
    connection.close()
    return elapsed / len(work)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tickets", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}, ", end="")
    print(f"synchronous=normal, load average {os.getloadavg()[0]:.2f}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        schema, work = written(root, args.tickets)
        best: dict[int, float] = {}
        for round_ in range(args.repeat):
            for upto in range(1, len(PARTS) + 1):
                path = root / f"replay-{round_}-{upto}.db"
                seconds = replay(path, schema, work, PARTS[:upto])
                best[upto] = min(best.get(upto, seconds), seconds)
        print(f"\n{'the store SQL of one 5-event append':<50}{'CPU µs':>8}")
        for upto in range(1, len(PARTS) + 1):
            label = " + ".join(PARTS[:upto])
            print(f"{label:<50}{best[upto] * 1e6:>8.1f}")


if __name__ == "__main__":
    main()
