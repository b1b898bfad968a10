"""One desk on SQLite shared by a thread pool (a web server's shape): nothing lost or doubled."""

from __future__ import annotations

import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from csmkit.errors import CsmkitError
from csmkit.timeline import Assigned, FieldChanged, MessageAdded

THREADS = 8
OPS = 480


def _run(pool: ThreadPoolExecutor, calls: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """Run every call; each is ``(label, thunk)`` -> ``(label, result or CsmkitError)``."""

    def one(thunk: Any) -> Any:
        try:
            return thunk()
        except CsmkitError as exc:  # allowed; anything else fails the test
            return exc

    futures = [(label, pool.submit(one, thunk)) for label, thunk in calls]
    return [(label, future.result()) for label, future in futures]


def test_a_desk_shared_by_threads_loses_and_doubles_nothing(tmp_path: Any, kit: Any) -> None:
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often: interleave inside operations
    try:
        _shared_desk(tmp_path, kit)
    finally:
        sys.setswitchinterval(interval)


def _shared_desk(tmp_path: Any, kit: Any) -> None:
    clock = kit.Clock(datetime(2026, 10, 15, 10, 0, tzinfo=kit.SH))  # one instant for all
    desk = kit.make_desk(tmp_path / "threads.db", clock, kit.Outbox())
    with ThreadPoolExecutor(THREADS) as pool:
        # phase 1: open tickets concurrently, half with desk-made ids, some urgent (routed)
        opens = [
            (
                f"open-{i}",
                lambda i=i: desk.open_ticket(
                    "repair",
                    channel="phone",
                    fields=kit.FIELDS,
                    priority="urgent" if i % 3 == 0 else "normal",
                    **({"ticket_id": f"T-{i}"} if i % 2 else {}),
                ),
            )
            for i in range(48)
        ]
        opened = _run(pool, opens)
        tickets = [r.id for _, r in opened if not isinstance(r, CsmkitError)]
        assert len(tickets) == len(set(tickets)) == len(opens)  # no id given out twice
        # phase 2: replies, field updates and assignments on the same tickets at once
        calls: list[tuple[str, Any]] = []
        for n in range(OPS):
            t = tickets[n % len(tickets)]
            op = ("reply", "update", "assign", "route")[n % 4]
            if op == "reply":
                thunk = lambda t=t, n=n: desk.reply(t, author="wang", message_id=f"m-{n}")  # noqa: E731
            elif op == "update":
                thunk = lambda t=t, n=n: desk.update(t, fields={"symptom": f"s-{n}"}, actor="kf")  # noqa: E731
            elif op == "assign":
                agent = ("wang", "zhao", "li")[n % 3]
                thunk = lambda t=t, n=n, a=agent: desk.assign(t, a, actor=f"op-{n}")  # noqa: E731
            else:
                thunk = lambda t=t: desk.assign(t)  # noqa: E731
            calls.append((f"{op}:{t}:{n}", thunk))
        done = _run(pool, calls)

    ok = Counter(label.rsplit(":", 1)[0] for label, r in done if not isinstance(r, CsmkitError))
    failed = [(label, r) for label, r in done if isinstance(r, CsmkitError)]
    assert not failed, failed  # nothing here is refused; a lost race would show up here
    # the store's events: each successful operation's event exactly once
    seen: Counter[str] = Counter()
    for t in tickets:
        for event in desk.timeline(t):
            if isinstance(event, MessageAdded) and event.message_id is not None:
                seen[f"reply:{t}"] += 1
            elif isinstance(event, FieldChanged) and event.name == "symptom":
                seen[f"update:{t}"] += 1
            elif isinstance(event, Assigned) and str(event.actor).startswith("op-"):
                seen[f"assign:{t}"] += 1
    assert seen == Counter({k: v for k, v in ok.items() if not k.startswith("route:")})
    message_ids = [
        e.message_id
        for t in tickets
        for e in desk.timeline(t)
        if isinstance(e, MessageAdded) and e.message_id is not None
    ]
    assert sorted(message_ids) == sorted(f"m-{n}" for n in range(0, OPS, 4))
    # versions: consecutive from 1 in every stream, and the store's log agrees with the loads
    versions: dict[str, list[int]] = {}
    for change in desk.store.changes_after(0, limit=100_000):
        versions.setdefault(change.ticket_id, []).append(change.version)
    assert set(versions) == set(tickets)
    for t, numbers in versions.items():
        assert numbers == list(range(1, len(desk.timeline(t)) + 1)), t
    # the routing state kept by the desk equals one derived afresh from the store
    assert desk.routing_state() == desk.routing_state(refresh=True)
