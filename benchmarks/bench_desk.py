"""Desk throughput: full ticket lifecycles through ``ServiceDesk`` on SQLite, against the
raw SQLite appends of the same events (the floor).

Scenario: the demo's repair desk (``csmkit demo``: China calendar, 2 h first-response and
24 h resolution SLA with warnings, routing by region and skill over 10 engineers, the
"after" automation rules: route on create, survey on close, SLA warnings, a first-response
warning and an escalation). The store first holds ``--history`` closed tickets (imported
with ``desk.import_timelines``, not timed). Then ``N`` new tickets live their whole
lifecycle, 50 at a time: ``open_ticket`` (intake, routed by the rules), ``reply``,
``dispatch``, ``accept``, ``arrive``, ``repair``, ``follow_up``, ``close`` (the survey
rule sends the survey) and ``record_survey`` -- 9 operations per ticket, each followed by
``desk.tick(now)`` with the clock 40 s further on, so warnings and escalations fire.

``ops/s`` counts the 9 operations per ticket; the time includes the ticks (as the demo's
figure of 260 operations/s did). The floor replays every batch the desk appended (its
events as JSON text, serialised before timing) with plain ``sqlite3``: one ``BEGIN
IMMEDIATE`` transaction per batch that checks the stream's version and inserts the rows,
on a table with the same ``(ticket_id, version)`` key, same journal mode and
``synchronous`` setting. ``ratio`` = desk ops/s / floor ops/s (same operations, same
batches).

The store-SQL floor (``SQL``) replays the same batches with *every statement
``SqliteStore.append`` runs* for them (events, write positions, the ticket's index row
with its indexes, message ids, and the version read when it makes one), recorded by
appending the batches again, untimed, through a store whose connection writes down each
statement with its parameters, then run with plain ``sqlite3`` on a file with the store's
schema: what the desk's appends cost with no Python at all. ``SQL ratio`` = floor time /
store-SQL time: the best ``ratio`` the store's schema allows, were everything else a desk
operation does free. The µs columns are per operation (floor, store SQL, events, desk).

The events column (``events µs``) is the least Python any desk must run for the same
batches: each event built again through its class's constructor, from keyword arguments
gathered before timing (every validator runs, as in the desk's own construction), and
encoded to the store's JSON text. ``best`` = floor time / (store-SQL time + events time):
the ratio of a desk that did nothing but build, encode and store its events -- no
workflow, SLA, rules, routing or ticks.

Desk and floors alternate, best of ``--repeat``; times are CPU + I/O wall time of this
process (``time.perf_counter``) -- report ``uptime`` with the figures; ``--cpu`` times
everything by this process's CPU time (``time.process_time``) instead, for before/after
comparisons on a loaded machine.

    python benchmarks/bench_desk.py                  # 1,000 and 10,000 tickets in the store
    python benchmarks/bench_desk.py --big            # also 100,000 (slow: the import)
    python benchmarks/bench_desk.py --profile 1000   # cProfile of one run, top functions
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import pstats
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import attrs

from csmkit.cli._scenario import CALENDAR, SH, agents, desk_rules, router, ticket_types
from csmkit.desk import ServiceDesk
from csmkit.sla import BusinessCalendar
from csmkit.storage import SqliteStore, TicketStore, open_store
from csmkit.storage._eventjson import encode_event
from csmkit.timeline import Event, Timeline
from csmkit.workflow import Actor

T0 = datetime(2026, 10, 12, 9, 0, tzinfo=SH)  # a Monday, business hours
STEP = timedelta(seconds=40)
WAVE = 50
OPS_PER_TICKET = 9
REGIONS = ["east", "north", "south"]
PRODUCTS = ["aircon", "lock", "camera", "hub"]
SYNCHRONOUS = "normal"
#: The clock of the timed runs (``--cpu``: this process's CPU time).
CLOCK: Callable[[], float] = time.perf_counter


class _Sink:
    def __init__(self) -> None:
        self.sent = 0

    def send(self, notification: Any) -> dict[str, bool]:
        self.sent += 1
        return {"accepted": True}


class _Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


class _Recording:
    """Records every batch appended to a store (for the floors; serialised after the
    timed run), with its SLA due mark. It replaces the store object's ``append`` on the
    instance instead of wrapping the store, so the desk still sees the bundled store's own
    class and takes its internal path (the desk's fold handed to the store, as in
    production).
    """

    def __init__(self, store: TicketStore) -> None:
        self.store = store
        self.batches: list[tuple[str, int, list[Event], Any]] = []
        real = store.append

        def append(ticket_id: str, events: Any, expected_version: int, **options: Any) -> int:
            version = real(ticket_id, events, expected_version, **options)
            self.batches.append((ticket_id, expected_version, list(events), options.get("due")))
            return version

        store.append = append  # type: ignore[method-assign]


class _Tape:
    """A ``sqlite3.Connection`` stand-in that records every statement run through it
    (with its parameters), for the store-SQL floor."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self.statements: list[tuple[str, Any, bool]] = []

    def execute(self, sql: str, parameters: Any = ()) -> sqlite3.Cursor:
        self.statements.append((sql, parameters, False))
        return self.connection.execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any) -> sqlite3.Cursor:
        rows = list(parameters)
        self.statements.append((sql, rows, True))
        return self.connection.executemany(sql, rows)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.connection, name)


Statements = list[tuple[str, Any, bool]]


def store_statements(path: str, batches: list[tuple[str, int, list[Event], Any]]) -> Statements:
    """Every statement ``SqliteStore.append`` runs for these batches, with its parameters:
    the batches appended again (untimed) through a store on a scratch file whose
    connection records what it is asked to run. Ticket ids get a suffix so the timed
    replays of several runs can share one file."""
    store = SqliteStore(path, synchronous=SYNCHRONOUS)
    tape = _Tape(store._connection)  # type: ignore[arg-type]
    store._connection = tape  # type: ignore[assignment]
    suffix = f"-{time.monotonic_ns()}"
    for ticket_id, version, events, due in batches:
        renamed = []
        for event in events:
            data = event.to_dict()
            data["ticket_id"] = ticket_id + suffix
            renamed.append(Event.from_dict(data))
        store.append(ticket_id + suffix, renamed, version, due=due)
    store._connection = tape.connection
    store.close()
    return tape.statements


def store_sql_run(path: str, statements: Statements) -> float:
    """The store-SQL floor: ``statements`` replayed with plain ``sqlite3`` (no Python
    work beyond the driver calls) on a file with the store's schema."""
    SqliteStore(path, synchronous=SYNCHRONOUS).close()  # create or migrate the schema
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute(f"PRAGMA synchronous = {SYNCHRONOUS.upper()}")
    connection.execute("PRAGMA foreign_keys = ON")
    execute, executemany = connection.execute, connection.executemany
    started = CLOCK()
    for sql, parameters, many in statements:
        if many:
            executemany(sql, parameters)
        else:
            execute(sql, parameters).fetchone()
    elapsed = CLOCK() - started
    connection.close()
    return elapsed


def events_run(batches: list[tuple[str, int, list[Event], Any]]) -> float:
    """The events floor: every batch's events built again by their class's constructor
    (from keyword arguments gathered before timing; every validator runs) and encoded as
    the store encodes them."""
    calls = [
        (type(event), {a.name: getattr(event, a.name) for a in attrs.fields(type(event))})
        for _, _, events, _ in batches
        for event in events
    ]
    started = CLOCK()
    for cls, kwargs in calls:
        encode_event(cls(**kwargs))
    return CLOCK() - started


def _text(event: Event) -> str:
    return json.dumps(event.to_dict(), ensure_ascii=False, separators=(",", ":"))


def make_desk(store: Any, clock: _Clock) -> ServiceDesk:
    return ServiceDesk(
        store,
        types=ticket_types(),
        clock=clock,
        calendar=BusinessCalendar.from_dict(CALENDAR),
        router=router(True, 7),
        agents=agents(),
        rules=desk_rules(True),
        channels={"sms": _Sink()},
    )


def lifecycle(desk: ServiceDesk, ticket_id: str, number: int) -> Iterator[Callable[[], Any]]:
    """The 9 operations of one ticket, as thunks (so waves can interleave them)."""
    region, product = REGIONS[number % 3], PRODUCTS[number % 4]

    def engineer() -> str:
        return desk.ticket(ticket_id).assignee or "e01"

    yield lambda: desk.open_ticket(
        "repair",
        channel="wechat",
        customer_id=f"C-{number % 5000:05d}",
        priority="normal",
        subject=f"{product} repair",
        ticket_id=ticket_id,
        fields={
            "address": f"{region} {number}",
            "contact_phone": "+86 138 0000 0000",
            "region": region,
            "product": product,
        },
    )
    yield lambda: desk.reply(ticket_id, author=engineer())
    yield lambda: desk.transition(
        ticket_id, "dispatch", actor=Actor("d1", {"dispatcher"}), data={"engineer": engineer()}
    )
    yield lambda: desk.transition(ticket_id, "accept", actor=Actor(engineer(), {"engineer"}))
    yield lambda: desk.transition(ticket_id, "arrive", actor=Actor(engineer(), {"engineer"}))
    yield lambda: desk.transition(
        ticket_id,
        "repair",
        actor=Actor(engineer(), {"engineer"}),
        data={"repair_notes": "repaired"},
    )
    yield lambda: desk.transition(ticket_id, "follow_up", actor=Actor("s1", {"agent"}))
    yield lambda: desk.transition(ticket_id, "close", actor=Actor("s1", {"agent"}))
    yield lambda: desk.record_survey(ticket_id, "after-repair", 9)


def run_lifecycles(desk: ServiceDesk, clock: _Clock, prefix: str, count: int) -> int:
    """Run ``count`` lifecycles in waves of ``WAVE``; returns the operations done."""
    done = 0
    for start in range(0, count, WAVE):
        waves = [
            lifecycle(desk, f"{prefix}-{n:06d}", n) for n in range(start, min(count, start + WAVE))
        ]
        for _ in range(OPS_PER_TICKET):
            for steps in waves:
                clock.now += STEP
                next(steps)()
                done += 1
                desk.tick(clock.now)
    return done


def history_timelines(count: int) -> list[Timeline]:
    """``count`` closed tickets' timelines, a few weeks before ``T0`` (one lifecycle
    run through a desk on a memory store, copied with new ids and instants)."""
    clock = _Clock(T0 - timedelta(days=30))
    desk = make_desk(open_store("memory://"), clock)
    run_lifecycles(desk, clock, "TPL", 3)
    templates = [desk.timeline(f"TPL-{n:06d}") for n in range(3)]
    out = []
    for n in range(count):
        template = templates[n % 3]
        shift = timedelta(minutes=-(n % 20000))
        events = []
        for event in template.events:
            data = event.to_dict()
            data["ticket_id"] = f"H-{n:07d}"
            data["at"] = (event.at + shift).isoformat()
            events.append(Event.from_dict(data))
        out.append(Timeline(events))
    return out


def fill(path: str, history: list[Timeline]) -> None:
    store = open_store(f"sqlite:///{path}", synchronous=SYNCHRONOUS)
    importer = getattr(make_desk(store, _Clock(T0)), "import_timelines", None)
    if importer is not None:
        for start in range(0, len(history), 1000):
            importer(history[start : start + 1000])
    else:  # before the bulk path existed
        for timeline in history:
            store.append(timeline.ticket_id, list(timeline.events), 0)
    store.close()


def desk_run(
    path: str, tickets: int, profiler: cProfile.Profile | None = None, *, start: datetime = T0
) -> tuple[float, int, list[tuple[str, int, list[Event], Any]]]:
    """One timed run from ``start`` (each run of a series starts after the previous
    one's instants: a desk whose clock went back behind the latest routed assignment
    rebuilds its routing state, which is not the steady state measured here)."""
    store = open_store(f"sqlite:///{path}", synchronous=SYNCHRONOUS)
    recording = _Recording(store)
    clock = _Clock(start)
    desk = make_desk(store, clock)
    # Start-up (the first tick's scan, the routing state's derivation from the whole
    # store) is paid once per process, not per operation: done before timing, and so
    # is the collection of the garbage it left (at 100,000 tickets a young-generation
    # collection after start-up walks hundreds of thousands of objects once; left in,
    # it is charged to the first few hundred operations).
    desk.tick(clock.now)
    desk.routing_state()
    recording.batches.clear()
    gc.collect()
    if profiler is not None:
        profiler.enable()
    started = CLOCK()
    ops = run_lifecycles(desk, clock, f"L{time.monotonic_ns()}", tickets)
    elapsed = CLOCK() - started
    if profiler is not None:
        profiler.disable()
    store.close()
    return elapsed, ops, recording.batches


def texts(batches: list[tuple[str, int, list[Event], Any]]) -> list[tuple[str, int, list[str]]]:
    """The batches as the bare floor writes them: events as JSON text."""
    return [(t, v, [_text(e) for e in events]) for t, v, events, _ in batches]


def raw_run(path: str, batches: list[tuple[str, int, list[str]]]) -> float:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute(f"PRAGMA synchronous = {SYNCHRONOUS.upper()}")
    connection.execute(
        "CREATE TABLE IF NOT EXISTS events (ticket_id TEXT NOT NULL, version INTEGER NOT NULL,"
        " payload TEXT NOT NULL, PRIMARY KEY (ticket_id, version))"
    )
    suffix = f"-{time.monotonic_ns()}"
    started = CLOCK()
    for ticket_id, version, payloads in batches:
        key = ticket_id + suffix
        connection.execute("BEGIN IMMEDIATE")
        row = connection.execute(
            "SELECT max(version) FROM events WHERE ticket_id = ?", (key,)
        ).fetchone()
        if (row[0] or 0) != version:
            raise RuntimeError(f"raw floor: {key} at {row[0]}, expected {version}")
        connection.executemany(
            "INSERT INTO events (ticket_id, version, payload) VALUES (?, ?, ?)",
            [(key, version + i, text) for i, text in enumerate(payloads, 1)],
        )
        connection.execute("COMMIT")
    elapsed = CLOCK() - started
    connection.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=300, help="live lifecycles per run")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--big", action="store_true", help="also 100,000 tickets in the store")
    parser.add_argument("--sizes", type=int, nargs="*", default=None)
    parser.add_argument("--profile", type=int, default=None, metavar="HISTORY")
    parser.add_argument("--cpu", action="store_true", help="time by CPU time (process_time)")
    args = parser.parse_args()
    if args.cpu:
        global CLOCK
        CLOCK = time.process_time
    sizes = args.sizes or ([1_000, 10_000, 100_000] if args.big else [1_000, 10_000])
    if args.profile is not None:
        sizes = [args.profile]
    print(f"load average: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    print(
        f"{'history':>8} {'desk ops/s':>11} {'raw ops/s':>10} {'ratio':>6} {'ms/op':>6}"
        f" {'floor µs':>8} {'SQL µs':>7} {'events µs':>9} {'desk µs':>7} {'SQL ratio':>9}"
        f" {'best':>5}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            path = os.path.join(tmp, f"desk-{size}.db")
            started = time.perf_counter()
            fill(path, history_timelines(size))
            fill_s = time.perf_counter() - started
            if args.profile is not None:
                profiler = cProfile.Profile()
                desk_run(path, args.tickets, profiler)
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
                pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
                return
            best_desk = best_raw = best_sql = best_events = float("inf")
            ops = 0
            for run in range(args.repeat):
                # Whole weeks later, so every run sees the same business hours.
                span = args.tickets * OPS_PER_TICKET * STEP
                start = T0 + timedelta(weeks=run * (1 + span // timedelta(weeks=1)))
                elapsed, ops, batches = desk_run(path, args.tickets, start=start)
                best_desk = min(best_desk, elapsed)
                best_raw = min(best_raw, raw_run(os.path.join(tmp, "raw.db"), texts(batches)))
                statements = store_statements(os.path.join(tmp, "tape.db"), batches)
                best_sql = min(best_sql, store_sql_run(os.path.join(tmp, "sql.db"), statements))
                best_events = min(best_events, events_run(batches))
            desk_rate, raw_rate = ops / best_desk, ops / best_raw
            print(
                f"{size:>8,} {desk_rate:>11,.0f} {raw_rate:>10,.0f} "
                f"{desk_rate / raw_rate:>6.2f} {1000 * best_desk / ops:>6.2f}"
                f" {1e6 * best_raw / ops:>8.1f} {1e6 * best_sql / ops:>7.1f}"
                f" {1e6 * best_events / ops:>9.1f} {1e6 * best_desk / ops:>7.1f}"
                f" {best_raw / best_sql:>9.2f} {best_raw / (best_sql + best_events):>5.2f}"
                f"   (history imported in {fill_s:.1f} s; {len(batches)} batches per run)"
            )
    print(f"load average: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")


if __name__ == "__main__":
    main()
