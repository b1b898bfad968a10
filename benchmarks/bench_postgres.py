"""PostgreSQL store throughput against raw psycopg inserts and selects of the same rows.

Measures, on a throwaway server (the one the tests start: ``tests/_pg_server.py``) or
``--url``:

* events appended per second, one ticket's five events per append, through
  ``PostgresStore.append`` (validation, JSON, row lock and version check, events, index
  row with the folded state, message ids, the write-position counter, one transaction);
* the raw psycopg rate of inserting the very same event rows (precomputed JSON) into a
  table with the same primary key, one transaction per ticket;
* the same appends from 4 writer threads (each on its own tickets; the store's pool);
* timelines loaded per second (``PostgresStore.load``) against a raw ``SELECT`` +
  ``json.loads`` of the same rows;
* ``due_before(T)`` listing the first 100 of ``--open`` open tickets (default 100,000)
  due before T, alone and with as many closed tickets beside them (the partial index
  keeps closed tickets out); the index rows are generated in SQL.

Ratios measured in one process, interleaved, best of ``--repeat``. Run::

    python benchmarks/bench_postgres.py --quick     # 500 tickets per round
    python benchmarks/bench_postgres.py             # 2,000 tickets per round
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from csmkit.storage import PostgresStore
from csmkit.timeline import Assigned, Event, MessageAdded, StatusChanged, TicketCreated

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 10, 8, 9, 0, tzinfo=CST)


def ticket_events(n: int, *, solve: bool = False) -> list[Event]:
    """Four or five events of one ticket: created, assigned, opened, a message (solved)."""
    ticket_id = f"T-{n:07d}"
    at = T0 + timedelta(seconds=n * 7)
    events: list[Event] = [
        TicketCreated(
            ticket_id=ticket_id,
            at=at,
            type="repair",
            channel="phone",
            customer_id=f"C-{n % 5000}",
            subject="空调不制冷",
            fields={"型号": "KFR-35GW", "城市": "上海"},
        ),
        Assigned(ticket_id=ticket_id, at=at + timedelta(minutes=3), agent=f"agent-{n % 40}"),
        StatusChanged(
            ticket_id=ticket_id,
            at=at + timedelta(minutes=4),
            from_status="new",
            to_status="open",
            category="open",
            transition="open",
        ),
        MessageAdded(
            ticket_id=ticket_id,
            at=at + timedelta(minutes=30),
            direction="inbound",
            channel="email",
            message_id=f"<{ticket_id}.1@example.cn>",
        ),
    ]
    if solve:
        events.append(
            StatusChanged(
                ticket_id=ticket_id,
                at=at + timedelta(hours=2),
                from_status="open",
                to_status="solved",
                category="solved",
                transition="solve",
            )
        )
    return events


def _rate(count: int, run: Callable[[], None]) -> float:
    started = time.perf_counter()
    run()
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a superuser postgresql:// URL (default: start a server)")
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--open", type=int, default=100_000, dest="open_tickets")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.tickets, args.repeat = 500, 2
    import psycopg

    server = None
    url = args.url
    if url is None:
        from _pg_server import start_server

        server = start_server()
        url = server.admin_url
    try:
        run(psycopg, url, args)
    finally:
        if server is not None:
            server.stop()


def run(psycopg: Any, url: str, args: argparse.Namespace) -> None:
    n = args.tickets
    batches = [ticket_events(i) for i in range(n)]
    rows = [
        [
            (e.ticket_id, v, e.kind, e.at.isoformat(), json.dumps(e.to_dict(), ensure_ascii=False))
            for v, e in enumerate(batch, 1)
        ]
        for batch in batches
    ]
    best: dict[str, float] = {}

    def keep(name: str, value: float) -> None:
        best[name] = max(best.get(name, 0.0), value)

    for repeat in range(args.repeat):
        one_round(psycopg, url, f"bench_{os.getpid()}_{repeat}", batches, rows, keep)
    due_timing(psycopg, url, args.open_tickets, best)
    print(f"PostgreSQL store, {n} tickets per round, best of {args.repeat}")
    for name, value in best.items():
        unit = "ms" if name.startswith("due_before") else "/s"
        print(f"  {name:<34} {value:>12,.1f} {unit}")
    print(f"  append ratio (store / raw)         {best['store append'] / best['raw append']:.2f}")
    print(f"  load ratio (store / raw)           {best['store load'] / best['raw load']:.2f}")
    print(
        f"  4 writers / 1 writer               "
        f"{best['store append, 4 writers'] / best['store append']:.2f}"
    )


def one_round(
    psycopg: Any,
    url: str,
    schema: str,
    batches: list[list[Event]],
    rows: list[list[tuple[str, int, str, str, str]]],
    keep: Callable[[str, float], None],
) -> None:
    """One interleaved round: raw and store appends, loads, then 4 writers."""
    n = len(batches)
    events = sum(len(b) for b in batches)
    with psycopg.connect(url, autocommit=True) as raw:
        raw.execute(f"CREATE SCHEMA raw_{schema}")
        raw.execute(
            f"CREATE TABLE raw_{schema}.events (ticket_id TEXT, version INTEGER, kind TEXT, "
            "at TEXT, payload TEXT, PRIMARY KEY (ticket_id, version))"
        )

        def raw_append() -> None:
            for ticket_rows in rows:
                with raw.transaction():
                    raw.cursor().executemany(
                        f"INSERT INTO raw_{schema}.events VALUES (%s, %s, %s, %s, %s)",
                        ticket_rows,
                    )

        keep("raw append", _rate(events, raw_append))
        store = PostgresStore(url, schema=schema, pool_size=5)

        def store_append() -> None:
            for batch in batches:
                store.append(batch[0].ticket_id, batch, 0)

        keep("store append", _rate(events, store_append))
        ids = [b[0].ticket_id for b in batches]

        def raw_load() -> None:
            for ticket_id in ids:
                got = raw.execute(
                    f"SELECT version, payload FROM raw_{schema}.events "
                    "WHERE ticket_id = %s ORDER BY version",
                    (ticket_id,),
                ).fetchall()
                [json.loads(payload) for _, payload in got]

        def store_load() -> None:
            for ticket_id in ids:
                store.load(ticket_id)

        keep("raw load", _rate(n, raw_load))
        keep("store load", _rate(n, store_load))
        parallel = [ticket_events(n + i) for i in range(n)]

        def write(part: list[list[Event]]) -> None:
            for batch in part:
                store.append(batch[0].ticket_id, batch, 0)

        def four_writers() -> None:
            threads = [threading.Thread(target=write, args=(parallel[k::4],)) for k in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()

        keep("store append, 4 writers", _rate(sum(len(b) for b in parallel), four_writers))
        store.close()
        raw.execute(f"DROP SCHEMA raw_{schema} CASCADE")
        raw.execute(f"DROP SCHEMA {schema} CASCADE")


def due_timing(psycopg: Any, url: str, open_tickets: int, best: dict[str, float]) -> None:
    """``due_before`` with ``open_tickets`` open tickets, and with as many closed ones.

    The index rows are generated in SQL (``generate_series``), as the appends would have
    written them, so the query is timed at 100,000s of tickets without appending them all.
    """
    for closed in (0, open_tickets):
        schema = f"bench_due_{os.getpid()}_{closed}"
        with PostgresStore(url, schema=schema, pool_size=2) as store:
            with psycopg.connect(url, autocommit=True) as raw:
                raw.execute(
                    f"INSERT INTO {schema}.tickets (ticket_id, version, status, category, "
                    "priority, assignee, group_name, customer_id, created_at, updated_at, "
                    "updated_key, state, type, due_at, due_key, due_target) "
                    "SELECT 'T-' || lpad(i::text, 8, '0'), 4, "
                    "CASE WHEN i <= %s THEN 'open' ELSE 'solved' END, "
                    "CASE WHEN i <= %s THEN 'open' ELSE 'solved' END, 'normal', "
                    "'agent-' || (i %% 40), 'engineers', 'C-' || (i %% 5000), "
                    "'2026-10-08T09:00:00+08:00', '2026-10-08T09:30:00+08:00', "
                    "'2026-10-08T01:30:00.000000Z', '{}', 'repair', "
                    "CASE WHEN i <= %s THEN to_char(timestamp '2026-10-08 04:00' + "
                    "i * interval '7 seconds', 'YYYY-MM-DD\"T\"HH24:MI:SS\"+00:00\"') END, "
                    "CASE WHEN i <= %s THEN to_char(timestamp '2026-10-08 04:00' + "
                    "i * interval '7 seconds', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') END, "
                    "CASE WHEN i <= %s THEN 'resolution' END "
                    "FROM generate_series(1, %s) AS i",
                    (open_tickets,) * 5 + (open_tickets + closed,),
                )
                raw.execute(f"ANALYZE {schema}.tickets")
            cutoff = datetime(2027, 1, 1, tzinfo=timezone.utc)
            timings = []
            for _ in range(30):
                started = time.perf_counter()
                page = store.due_before(cutoff, limit=100)
                timings.append((time.perf_counter() - started) * 1000)
                assert len(page.items) == 100
                assert page.items[0].due is not None
            name = f"due_before, {open_tickets:,} open + {closed:,} closed (ms)"
            best[name] = min(timings)
            with psycopg.connect(url, autocommit=True) as raw:
                raw.execute(f"DROP SCHEMA {schema} CASCADE")


if __name__ == "__main__":
    main()
