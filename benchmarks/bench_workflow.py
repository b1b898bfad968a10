"""Ticket-workflow benchmark: csmkit.workflow vs transitions vs python-statemachine.

One 6-state ticket machine (new, open, pending, on_hold, solved, closed; 8 transitions)
with a guard on ``solve`` and a role check on every transition, run in one process:

  (a) transitions per second on one ticket (loop wait_customer, customer_replied,
      solve, reopen);
  (b) bindings / creations per second for 10,000 tickets;
  (c) memory per live ticket (tracemalloc, 10,000 tickets), beyond the ticket's data.

csmkit's ``fire`` does more than the peers: it returns a new immutable ticket and a
``StatusChanged`` audit event; the peers only set an attribute. ``check`` (the pure
verdict) is reported too. Run ``python benchmarks/bench_workflow.py [--quick]``; needs
the ``bench`` extra (``transitions``, ``python-statemachine``).
"""

from __future__ import annotations

import argparse
import gc
import platform
import statistics
import timeit
import tracemalloc
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import statemachine
import transitions
from statemachine import State, StateMachine
from transitions import Machine

from csmkit.timeline import Ticket
from csmkit.workflow import Actor, Workflow

STATES = ["new", "open", "pending", "on_hold", "solved", "closed"]
CATEGORIES = {s: s for s in STATES}
EDGES = [
    ("accept", "new", "open"),
    ("wait_customer", "open", "pending"),
    ("customer_replied", "pending", "open"),
    ("hold", "open", "on_hold"),
    ("resume", "on_hold", "open"),
    ("solve", "open", "solved"),
    ("reopen", "solved", "open"),
    ("close", "solved", "closed"),
]
LOOP = ("wait_customer", "customer_replied", "solve", "reopen")
AT = datetime(2026, 9, 30, 1, tzinfo=timezone.utc)
ROLES = frozenset({"agent"})

WF = Workflow.from_dict(
    {
        "name": "bench",
        "states": [
            {"name": s, "category": CATEGORIES[s], **({"initial": True} if s == "new" else {})}
            for s in STATES
        ],
        "transitions": [
            {
                "name": name,
                "sources": src,
                "target": dst,
                "roles": ["agent"],
                **({"condition": 'ticket.priority != "low"'} if name == "solve" else {}),
            }
            for name, src, dst in EDGES
        ],
    }
)
AGENT = Actor("li.wei", ROLES)


# ----------------------------------------------------------------------- peers
class PeerTicket:
    """A plain domain object for the peers (they write ``state`` onto it)."""

    def __init__(self) -> None:
        self.priority = "normal"
        self.actor_roles = ROLES

    def role_ok(self, *args: Any, **kwargs: Any) -> bool:
        return "agent" in self.actor_roles

    def not_low(self, *args: Any, **kwargs: Any) -> bool:
        return self.priority != "low"


T_DICTS = [
    {
        "trigger": name,
        "source": src,
        "dest": dst,
        "conditions": ["role_ok", "not_low"] if name == "solve" else ["role_ok"],
    }
    for name, src, dst in EDGES
]


class PsmTicket(StateMachine):  # type: ignore[misc]
    new = State(initial=True)
    open = State()
    pending = State()
    on_hold = State()
    solved = State()
    closed = State(final=True)

    accept = new.to(open, cond="role_ok")
    wait_customer = open.to(pending, cond="role_ok")
    customer_replied = pending.to(open, cond="role_ok")
    hold = open.to(on_hold, cond="role_ok")
    resume = on_hold.to(open, cond="role_ok")
    solve = open.to(solved, cond=["role_ok", "not_low"])
    reopen = solved.to(open, cond="role_ok")
    close = solved.to(closed, cond="role_ok")


def make_csmkit(i: int) -> Ticket:
    return Ticket.created(
        WF.created_event(ticket_id=f"T-{i}", at=AT, type="support", channel="web")
    )


def make_csmkit_plain(i: int) -> Ticket:
    """The same ticket data without workflow name/version (the 'own data' reference)."""
    from csmkit.timeline import TicketCreated

    return Ticket.created(TicketCreated(ticket_id=f"T-{i}", at=AT, type="support", channel="web"))


def make_transitions(i: int) -> PeerTicket:
    t = PeerTicket()
    Machine(model=t, states=STATES, transitions=T_DICTS, initial="new", auto_transitions=False)
    return t


def make_psm(i: int) -> PsmTicket:
    return PsmTicket(model=PeerTicket())


def shared_transitions(n: int) -> Machine:
    m = Machine(
        model=None, states=STATES, transitions=T_DICTS, initial="new", auto_transitions=False
    )
    for _ in range(n):
        m.add_model(PeerTicket())
    return m


# ----------------------------------------------------------------------- loops
def loop_csmkit(n: int) -> Ticket:
    ticket, _ = WF.fire(make_csmkit(0), "accept", actor=AGENT, at=AT)
    fire = WF.fire
    for _ in range(n // 4):
        for name in LOOP:
            ticket, _events = fire(ticket, name, actor=AGENT, at=AT)
    return ticket


def loop_csmkit_check(n: int) -> int:
    ticket, _ = WF.fire(make_csmkit(0), "accept", actor=AGENT, at=AT)
    check = WF.check
    allowed = 0
    for _ in range(n // 4):
        for name in ("wait_customer", "solve", "hold", "close"):
            allowed += bool(check(ticket, name, actor=AGENT))
    return allowed


def loop_transitions(n: int) -> PeerTicket:
    t = make_transitions(0)
    t.accept()
    calls = [getattr(t, name) for name in LOOP]
    for _ in range(n // 4):
        for call in calls:
            call()
    return t


def loop_psm(n: int) -> PsmTicket:
    sm = make_psm(0)
    sm.accept()
    calls = [getattr(sm, name) for name in LOOP]
    for _ in range(n // 4):
        for call in calls:
            call()
    return sm


def best_rate(fn: Callable[[int], Any], n: int, repeats: int) -> float:
    times = timeit.repeat(lambda: fn(n), number=1, repeat=repeats)
    return n / statistics.median(times)


def create_many(make: Callable[[int], Any], n: int) -> list[Any]:
    return [make(i) for i in range(n)]


def bytes_per(builder: Callable[[int], Any], n: int) -> float:
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    keep = builder(n)
    gc.collect()
    used = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    del keep
    gc.collect()
    return used / n


def agree() -> None:
    """Same answers from all three: state after the loop, and the guard refuses 'low'."""
    assert loop_csmkit(8).status == "open"
    assert loop_transitions(8).state == "open"
    assert "open" in loop_psm(8).configuration_values
    low = PeerTicket()
    low.priority = "low"
    Machine(model=low, states=STATES, transitions=T_DICTS, initial="open", auto_transitions=False)
    assert low.solve() is False
    assert low.state == "open"
    import attrs

    ticket = attrs.evolve(loop_csmkit(0), priority="low")
    assert WF.check(ticket, "solve", actor=AGENT).codes == ("condition",)
    outsider = Actor("x", {"customer"})
    assert WF.check(ticket, "wait_customer", actor=outsider).codes == ("role",)
    # fire's fast path gives what folding its (validated) events gives
    from csmkit.timeline import Timeline

    created = WF.created_event(ticket_id="T-0", at=AT, type="support", channel="web")
    timeline = Timeline([created])
    ticket = timeline.ticket
    for name in ("accept", *LOOP):
        ticket, events = WF.fire(ticket, name, actor=AGENT, at=AT)
        timeline = timeline.append(*(type(e)(**attrs.asdict(e, recurse=False)) for e in events))
        assert timeline.ticket == ticket


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run")
    args = parser.parse_args()
    n_trans = 20_000 if args.quick else 100_000
    n_psm = n_trans // 10
    n_tickets = 2_000 if args.quick else 10_000
    repeats = 3 if args.quick else 5

    print(
        f"python {platform.python_version()}, transitions {transitions.__version__}, "
        f"python-statemachine {statemachine.__version__}; medians of {repeats} runs"
    )
    agree()
    print("answers agree (final state, guard, role check)\n")

    print(f"(a) transitions per second on one ticket ({n_trans:,}; psm {n_psm:,})")
    rates = {
        "csmkit wf.fire (new ticket + StatusChanged event)": best_rate(
            loop_csmkit, n_trans, repeats
        ),
        "csmkit wf.check (pure verdict)": best_rate(loop_csmkit_check, n_trans, repeats),
        "transitions Machine, bound trigger methods": best_rate(loop_transitions, n_trans, repeats),
        "python-statemachine StateMachine": best_rate(loop_psm, n_psm, repeats),
    }
    base = rates["transitions Machine, bound trigger methods"]
    for name, rate in rates.items():
        print(f"  {name:55s} {rate:12,.0f} /s   {rate / base:6.2f}x transitions")

    print(f"\n(b) creations / bindings per second for {n_tickets:,} tickets")
    rows: dict[str, Callable[[], Any]] = {
        "csmkit Ticket.created(wf.created_event(...))": lambda: create_many(make_csmkit, n_tickets),
        "transitions Machine(model=t) per ticket": lambda: create_many(make_transitions, n_tickets),
        "transitions shared Machine + add_model": lambda: shared_transitions(n_tickets),
        "python-statemachine StateMachine(model=t)": lambda: create_many(make_psm, n_tickets),
    }
    created = {}
    for name, fn in rows.items():
        med = statistics.median(timeit.repeat(fn, number=1, repeat=repeats))
        created[name] = n_tickets / med
    base = created["transitions Machine(model=t) per ticket"]
    for name, rate in created.items():
        print(f"  {name:55s} {rate:12,.0f} /s   {rate / base:6.2f}x transitions")

    print(f"\n(c) memory per live ticket (tracemalloc, {n_tickets:,} tickets)")
    plain = bytes_per(lambda n: create_many(make_csmkit_plain, n), n_tickets)
    bare_peer = bytes_per(lambda n: [PeerTicket() for _ in range(n)], n_tickets)
    mem = {
        "csmkit Ticket on a workflow": (
            bytes_per(lambda n: create_many(make_csmkit, n), n_tickets),
            plain,
        ),
        "transitions Machine per ticket": (
            bytes_per(lambda n: create_many(make_transitions, n), n_tickets),
            bare_peer,
        ),
        "transitions shared Machine + add_model": (
            bytes_per(shared_transitions, n_tickets),
            bare_peer,
        ),
        "python-statemachine StateMachine(model=t)": (
            bytes_per(lambda n: create_many(make_psm, n), n_tickets),
            bare_peer,
        ),
    }
    print(
        f"  reference: csmkit Ticket without workflow {plain:,.0f} B; "
        f"peer ticket object {bare_peer:,.0f} B"
    )
    for name, (total, ref) in mem.items():
        print(
            f"  {name:55s} {total:10,.0f} B total  {total - ref:10,.0f} B beyond the ticket's data"
        )


if __name__ == "__main__":
    main()
