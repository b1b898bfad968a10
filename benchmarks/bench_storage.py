"""Store throughput against raw baselines, concurrent writers, and the "due before T" query.

Measures, in one process with interleaved repeats (best of ``--repeat``), so the ratios
hold on a busy machine:

* **append**: ``SqliteStore.append`` (validation, fold, version check, JSON, positions,
  ticket index row and due mark, one ``BEGIN IMMEDIATE`` transaction per append) against
  plain ``sqlite3`` + ``json.dumps`` writing the same events (given as dicts) into one
  table keyed ``(ticket_id, version)``, with the same transactions, WAL and
  ``synchronous``; one ticket's five events per append, and one event per append.
  ``MemoryStore.append`` against appending the dicts to a ``dict`` of lists.
* **load**: ``store.load`` (rows, JSON, validated events, ``Timeline``) on a new handle
  against a raw ``SELECT`` + ``json.loads`` of the same rows (SQLite), a ``dict`` lookup
  (memory); and loading the same tickets again through that handle, which hands out the
  timelines it holds after checking each stream's version in the file.
* **concurrent writers**: 1 and 4 processes appending their own tickets to one SQLite
  file, events per second overall (csmkit and raw).
* **due before T**: ``due_before(T, limit=100)`` on a store holding ``--open`` tickets with
  an SLA due mark, with 0 and ``--closed`` closed tickets beside them (median of many
  queries at assorted T).

Run::

    python benchmarks/bench_storage.py                 # full run (~10 minutes)
    python benchmarks/bench_storage.py --quick         # small sizes, a smoke test
    python benchmarks/bench_storage.py --synchronous full
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from csmkit.storage import MemoryStore, SlaDue, SqliteStore, TicketStore
from csmkit.timeline import Assigned, Event, MessageAdded, StatusChanged, TicketCreated

CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 10, 8, 9, 0, tzinfo=CST)


def ticket_events(n: int, prefix: str = "T") -> list[Event]:
    """Five events of one ticket: created, assigned, opened, a message, solved."""
    ticket_id = f"{prefix}-{n:07d}"
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


def timed(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


# ----------------------------------------------------------------------- raw baselines
_RAW_TABLE = (
    "CREATE TABLE IF NOT EXISTS events (ticket_id TEXT NOT NULL, version INTEGER NOT NULL, "
    "kind TEXT NOT NULL, at TEXT NOT NULL, payload TEXT NOT NULL, "
    "PRIMARY KEY (ticket_id, version)) WITHOUT ROWID"
)


def raw_connection(path: Path, synchronous: str) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, timeout=60)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute(f"PRAGMA synchronous = {synchronous.upper()}")
    connection.execute(_RAW_TABLE)
    return connection


def raw_append(connection: sqlite3.Connection, batches: list[list[dict[str, Any]]]) -> None:
    """Plain sqlite3 + JSON: one transaction per batch of event dicts; the primary key
    refuses a taken (ticket, version), which is all the concurrency control it has."""
    versions: dict[str, int] = {}
    for batch in batches:
        ticket_id = batch[0]["ticket_id"]
        version = versions.get(ticket_id, 0)
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(
            "INSERT INTO events VALUES (?, ?, ?, ?, ?)",
            [
                (
                    ticket_id,
                    version + i,
                    data["kind"],
                    data["at"],
                    json.dumps(data, ensure_ascii=False, separators=(",", ":")),
                )
                for i, data in enumerate(batch, 1)
            ],
        )
        connection.execute("COMMIT")
        versions[ticket_id] = version + len(batch)


def raw_load(connection: sqlite3.Connection, ticket_id: str) -> list[Any]:
    rows = connection.execute(
        "SELECT payload FROM events WHERE ticket_id = ? ORDER BY version", (ticket_id,)
    ).fetchall()
    return [json.loads(payload) for (payload,) in rows]


def store_append(store: TicketStore, batches: list[list[Event]]) -> None:
    versions: dict[str, int] = {}
    for batch in batches:
        ticket_id = batch[0].ticket_id
        version = versions.get(ticket_id, 0)
        versions[ticket_id] = store.append(ticket_id, batch, version)


def split(tickets: list[list[Event]], single: bool) -> list[list[Event]]:
    return [[event] for events in tickets for event in events] if single else tickets


# ----------------------------------------------------------------------- append / load
def bench_sqlite(args: argparse.Namespace, root: Path) -> list[tuple[str, float, float]]:
    """Best-of interleaved rounds: (name, csmkit per second, raw per second)."""
    results = []
    for single in (False, True):
        count = args.single if single else args.tickets
        tickets = [ticket_events(n) for n in range(count)]
        batches = split(tickets, single)
        dicts = [[event.to_dict() for event in batch] for batch in batches]
        mine, theirs = [], []
        for round_ in range(args.repeat):
            store = SqliteStore(root / f"s{single}{round_}.db", synchronous=args.synchronous)
            mine.append(timed(lambda store=store, b=batches: store_append(store, b)))
            store.close()
            raw = raw_connection(root / f"r{single}{round_}.db", args.synchronous)
            theirs.append(timed(lambda raw=raw, d=dicts: raw_append(raw, d)))
            raw.close()
        events = 5 * count
        name = "append, 1 event/append" if single else "append, 5 events/append"
        results.append((name, events / min(mine), events / min(theirs)))
    # loads from the batched files of the last round
    path = root / f"sFalse{args.repeat - 1}.db"
    raw = raw_connection(root / f"rFalse{args.repeat - 1}.db", args.synchronous)
    ids = [f"T-{n:07d}" for n in random.Random(7).sample(range(args.tickets), args.loads)]
    mine, theirs, warm = [], [], []
    for _ in range(args.repeat):
        # cold: a new handle each round, so nothing this process read before helps
        store = SqliteStore(path, synchronous=args.synchronous)
        mine.append(timed(lambda store=store: [store.load(t) for t in ids]))
        theirs.append(timed(lambda: [raw_load(raw, t) for t in ids]))
        # again through the same handle: what a desk sees after its own load or append
        # (one version check per ticket; another writer's append forces a re-read)
        warm.append(timed(lambda store=store: [store.load(t) for t in ids]))
        store.close()
    with SqliteStore(path, synchronous=args.synchronous) as store:
        for ticket_id in ids[:50]:
            assert [e.to_dict() for e in store.load(ticket_id)] == raw_load(raw, ticket_id)
    results.append(("load (5 events)", len(ids) / min(mine), len(ids) / min(theirs)))
    results.append(("load again, same handle", len(ids) / min(warm), len(ids) / min(theirs)))
    raw.close()
    return results


def bench_memory(args: argparse.Namespace) -> list[tuple[str, float, float]]:
    tickets = [ticket_events(n) for n in range(args.tickets)]
    mine, theirs, mine_load, theirs_load = [], [], [], []
    ids = [f"T-{n:07d}" for n in random.Random(7).sample(range(args.tickets), args.loads)]
    for _ in range(args.repeat):
        store = MemoryStore()
        mine.append(timed(lambda store=store: store_append(store, tickets)))
        plain: dict[str, list[Event]] = {}

        def plain_append(plain: dict[str, list[Event]] = plain) -> None:
            for batch in tickets:
                plain.setdefault(batch[0].ticket_id, []).extend(batch)

        theirs.append(timed(plain_append))
        mine_load.append(timed(lambda store=store: [store.load(t) for t in ids]))
        theirs_load.append(timed(lambda plain=plain: [tuple(plain[t]) for t in ids]))
    events = 5 * args.tickets
    return [
        ("memory append, 5 events/append", events / min(mine), events / min(theirs)),
        ("memory load (5 events)", len(ids) / min(mine_load), len(ids) / min(theirs_load)),
    ]


# ----------------------------------------------------------------------- writers
def _writer(kind: str, path: str, worker: int, count: int, synchronous: str, start: Any) -> None:
    tickets = [ticket_events(n, prefix=f"W{worker}") for n in range(count)]
    start.wait()
    if kind == "csmkit":
        with SqliteStore(path, synchronous=synchronous, busy_timeout=60) as store:
            store_append(store, tickets)
    else:
        raw = raw_connection(Path(path), synchronous)
        raw_append(raw, [[e.to_dict() for e in batch] for batch in tickets])
        raw.close()


def bench_writers(args: argparse.Namespace, root: Path) -> list[tuple[str, float, float]]:
    context = multiprocessing.get_context("spawn")
    results = []
    for processes in (1, 4):
        count = args.writer_tickets // processes
        rates = {}
        for kind in ("csmkit", "raw"):
            best = 0.0
            for round_ in range(args.repeat):
                path = root / f"w-{kind}-{processes}-{round_}.db"
                if kind == "csmkit":
                    SqliteStore(path).close()  # create the schema first
                else:
                    raw_connection(path, args.synchronous).close()
                start = context.Barrier(processes + 1)
                workers = [
                    context.Process(
                        target=_writer,
                        args=(kind, str(path), w, count, args.synchronous, start),
                    )
                    for w in range(processes)
                ]
                for worker in workers:
                    worker.start()
                start.wait()
                began = time.perf_counter()
                for worker in workers:
                    worker.join()
                    assert worker.exitcode == 0, f"{kind} writer failed"
                best = max(best, 5 * count * processes / (time.perf_counter() - began))
            rates[kind] = best
        name = f"{processes} writer process{'es' if processes > 1 else ''}"
        results.append((name, rates["csmkit"], rates["raw"]))
    return results


# ----------------------------------------------------------------------- due before T
def fill(store: TicketStore, open_count: int, closed_count: int, seed: int = 11) -> None:
    """``open_count`` tickets with a due mark in the week after T0, ``closed_count``
    solved ones without, interleaved."""
    rng = random.Random(seed)
    kinds = ["open"] * open_count + ["closed"] * closed_count
    rng.shuffle(kinds)
    for n, kind in enumerate(kinds):
        ticket_id = f"D-{n:07d}"
        created = TicketCreated(
            ticket_id=ticket_id, at=T0, type="repair", channel="phone", priority="normal"
        )
        if kind == "open":
            due = SlaDue(at=T0 + timedelta(seconds=rng.randrange(7 * 86400)), target="resolution")
            store.append(ticket_id, [created], 0, due=due)
        else:
            solved = StatusChanged(
                ticket_id=ticket_id,
                at=T0 + timedelta(hours=1),
                from_status="new",
                to_status="solved",
                category="solved",
            )
            store.append(ticket_id, [created, solved], 0)


def query_times(store: TicketStore, queries: int) -> tuple[float, float]:
    """Median and 95th percentile milliseconds of ``due_before(T, limit=100)``."""
    rng = random.Random(5)
    times = []
    for _ in range(queries):
        before = T0 + timedelta(seconds=rng.randrange(8 * 86400))
        elapsed = timed(lambda before=before: store.due_before(before, limit=100))
        times.append(elapsed * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def bench_due(args: argparse.Namespace, root: Path) -> list[tuple[str, int, int, float, float]]:
    results = []
    for name, make in (
        ("sqlite", lambda closed: SqliteStore(root / f"due-{closed}.db", synchronous="off")),
        ("memory", lambda closed: MemoryStore()),
    ):
        for closed in (0, args.closed):
            store = make(closed)
            fill(store, args.open, closed)
            median, p95 = query_times(store, args.queries)
            results.append((name, args.open, closed, median, p95))
            store.close()
    return results


# ----------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tickets", type=int, default=10_000, help="tickets for batched appends")
    parser.add_argument("--single", type=int, default=4_000, help="tickets for 1-event appends")
    parser.add_argument("--loads", type=int, default=10_000, help="timelines to load")
    parser.add_argument("--writer-tickets", type=int, default=8_000, help="tickets per writer run")
    parser.add_argument("--open", type=int, default=100_000, help="open tickets (due query)")
    parser.add_argument("--closed", type=int, default=100_000, help="closed tickets (due query)")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds (best of)")
    parser.add_argument("--synchronous", default="normal", choices=["off", "normal", "full"])
    parser.add_argument("--quick", action="store_true", help="small sizes, one round")
    parser.add_argument("--dir", type=Path, default=None, help="where to put the files")
    parser.add_argument(
        "--only", choices=["append", "memory", "writers", "due"], action="append", default=None
    )
    args = parser.parse_args()
    if args.quick:
        args.tickets, args.single, args.loads, args.writer_tickets = 1_000, 500, 1_000, 800
        args.open, args.closed, args.queries, args.repeat = 5_000, 5_000, 100, 1
    args.loads = min(args.loads, args.tickets)
    parts = args.only or ["append", "memory", "writers", "due"]
    print(f"python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}, ", end="")
    print(f"synchronous={args.synchronous}, load average {os.getloadavg()[0]:.2f}", flush=True)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        root = Path(tmp)
        rows: list[tuple[str, float, float]] = []
        if "append" in parts:
            rows += bench_sqlite(args, root)
        if "memory" in parts:
            rows += bench_memory(args)
        if "writers" in parts:
            rows += bench_writers(args, root)
        if rows:
            print(f"\n{'operation':<34}{'csmkit /s':>12}{'raw /s':>12}{'csmkit / raw':>14}")
            for name, mine, theirs in rows:
                print(f"{name:<34}{mine:>12,.0f}{theirs:>12,.0f}{mine / theirs:>13.2f}x")
        if "due" in parts:
            head = f"{'open':>9}{'closed':>9}{'median ms':>11}{'p95 ms':>9}"
            print(f"\n{'due_before(T, limit=100)':<26}{head}")
            for name, open_count, closed, median, p95 in bench_due(args, root):
                print(f"{name:<26}{open_count:>9,}{closed:>9,}{median:>11.3f}{p95:>9.3f}")
    print(f"\nload average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
