"""``PostgresStore.load`` in client CPU time, against the validating read path and a raw
``SELECT`` + ``json.loads`` of the same rows, in one process.

The wall-clock rates of ``bench_postgres.py`` mix the server's time with the client's and
swing with the machine's load; this script counts the client's CPU only
(``time.process_time``), which is what the decoding of the rows costs. Three loaders,
interleaved, best of ``--repeat`` rounds over the same tickets (``bench_postgres``'s
four- and five-event tickets):

* ``raw``: the store's ``SELECT version, payload`` and ``json.loads`` of each row;
* ``validating``: the same, then ``Event.from_dict`` per row and ``Timeline(events)``
  (the store's read path before it used ``csmkit.timeline.trusted``);
* ``store.load``: ``PostgresStore.load``.

Run::

    python benchmarks/bench_postgres_load.py            # 2,000 tickets, best of 5
    python benchmarks/bench_postgres_load.py --url postgresql://…
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench_postgres import ticket_events

from csmkit.storage import PostgresStore, postgres_session
from csmkit.timeline import Event, Timeline

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

_SELECT = "SELECT version, payload FROM events WHERE ticket_id = %s ORDER BY version"


def _rows(store: PostgresStore, ticket_id: str) -> list[Any]:
    with postgres_session(store, "bench") as connection:
        rows: list[Any] = connection.execute(_SELECT, (ticket_id,)).fetchall()
    return rows


def raw_load(store: PostgresStore, ticket_id: str) -> list[Any]:
    return [json.loads(payload) for _, payload in _rows(store, ticket_id)]


def validating_load(store: PostgresStore, ticket_id: str) -> Timeline:
    return Timeline(
        [Event.from_dict(json.loads(payload)) for _, payload in _rows(store, ticket_id)]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a superuser postgresql:// URL (default: start a server)")
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    server = None
    url = args.url
    if url is None:
        from _pg_server import start_server

        server = start_server()
        url = server.admin_url
    try:
        run(url, args.tickets, args.repeat)
    finally:
        if server is not None:
            server.stop()


def run(url: str, tickets: int, repeat: int) -> None:
    schema = f"bench_load_{time.monotonic_ns()}"
    with PostgresStore(url, schema=schema) as store:
        ids = []
        for n in range(tickets):
            batch = ticket_events(n, solve=n % 2 == 0)
            store.append(batch[0].ticket_id, batch, 0)
            ids.append(batch[0].ticket_id)
        for ticket_id in ids[:100]:
            assert store.load(ticket_id) == validating_load(store, ticket_id)
        loaders: dict[str, Callable[[str], object]] = {
            "raw": lambda ticket_id: raw_load(store, ticket_id),
            "validating": lambda ticket_id: validating_load(store, ticket_id),
            "store.load": store.load,
        }
        best: dict[str, float] = {}
        for _ in range(repeat):
            for name, load in loaders.items():
                started = time.process_time()
                for ticket_id in ids:
                    load(ticket_id)
                spent = time.process_time() - started
                best[name] = min(best.get(name, float("inf")), spent)
    print(f"PostgresStore.load, client CPU, {tickets} tickets, best of {repeat}")
    for name, spent in best.items():
        print(f"  {name:<12} {spent * 1e6 / tickets:8.1f} µs per load")
    print(f"  store.load / validating     {best['store.load'] / best['validating']:.2f}")
    print(f"  raw / store.load            {best['raw'] / best['store.load']:.2f}")


if __name__ == "__main__":
    main()
