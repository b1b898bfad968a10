"""The desk's commit path skips work nothing reads: the ``csmkit_ticket_event`` fold
while no plugin listens, the rules' environment and run while no rule listens on an
operation's events. What is announced and decided is the same as without the skips."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from csmkit.hookspecs import hookimpl
from csmkit.plugins import PluginManager
from csmkit.timeline import Event, Ticket
from csmkit.workflow import Actor

DISPATCHER = Actor("d1", {"dispatcher"})
WANG = Actor("wang", {"engineer"})
T0 = datetime(2026, 10, 15, 10, 0)


class Listener:
    def __init__(self) -> None:
        self.seen: list[tuple[Event, Ticket]] = []

    @hookimpl
    def csmkit_ticket_event(self, event: Event, ticket: Ticket) -> None:
        self.seen.append((event, ticket))


def test_a_listener_registered_later_hears_every_later_event_with_its_state(kit: Any) -> None:
    clock = kit.Clock(T0.replace(tzinfo=kit.SH))
    plugins = PluginManager(load_entrypoints=False)
    desk = kit.make_desk("memory://", clock, kit.Outbox(), plugins=plugins)
    desk.open_ticket("repair", channel="phone", fields=kit.FIELDS, ticket_id="T-1")
    desk.note("T-1", author="agent:li")  # nobody listens yet
    listener = Listener()
    plugins.register(listener, name="late")
    before = len(desk.timeline("T-1"))
    clock.now += timedelta(minutes=5)
    desk.open_ticket("repair", channel="phone", fields=kit.FIELDS, ticket_id="T-2")
    desk.transition("T-1", "dispatch", actor=DISPATCHER, data={"engineer": "wang"})
    desk.assign("T-1", "li")
    desk.transition("T-1", "accept", actor=WANG)
    heard: dict[str, list[tuple[Event, Ticket]]] = {}
    for event, ticket in listener.seen:
        heard.setdefault(event.ticket_id, []).append((event, ticket))
    for ticket_id, start in (("T-1", before), ("T-2", 0)):
        timeline = desk.timeline(ticket_id)
        events = list(timeline.events[start:])
        assert [event for event, _ in heard[ticket_id]] == events
        # each event with the ticket as it stands right after it
        for index, (_, ticket) in enumerate(heard[ticket_id], start):
            assert ticket == type(timeline)(timeline.events[: index + 1]).ticket
    plugins.unregister("late")
    count = len(listener.seen)
    desk.note("T-2", author="agent:li")
    assert len(listener.seen) == count


def test_rules_that_listen_on_other_events_leave_an_operation_as_it_was(kit: Any) -> None:
    """A rule on ``status_changed`` only: a note is committed without running rules, a
    transition runs them; both stores end up with the same events as a desk whose
    rule also listens on notes but never holds."""
    tag = [{"do": "add_tags", "tags": ["moved"]}]
    narrow = {"rules": [{"id": "moved", "on": "status_changed", "actions": tag}]}
    wide = {
        "rules": [
            {"id": "moved", "on": "status_changed", "actions": tag},
            {
                "id": "never",
                "on": "message_added",
                "when": "ticket.priority == 'nonsense'",
                "actions": tag,
            },
        ]
    }
    kinds = []
    for rules in (narrow, wide):
        clock = kit.Clock(T0.replace(tzinfo=kit.SH))
        desk = kit.make_desk("memory://", clock, kit.Outbox(), rules=rules)
        desk.open_ticket("repair", channel="phone", fields=kit.FIELDS, ticket_id="T-1")
        desk.note("T-1", author="agent:li")
        clock.now += timedelta(minutes=5)
        desk.transition("T-1", "dispatch", actor=DISPATCHER, data={"engineer": "wang"})
        desk.note("T-1", author="agent:wang")
        timeline = desk.timeline("T-1")
        kinds.append([(e.kind, e.at, e.meta.get("rule")) for e in timeline.events])
        assert "moved" in timeline.ticket.tags
    assert kinds[0] == kinds[1]


def test_rules_route_against_the_state_after_the_previous_operation() -> None:
    """The rules' environment is reused while the routing state is the same object:
    each routed creation must see the loads of the ones before it (one slot per
    agent, so a stale state would give an agent a second ticket)."""
    from csmkit.desk import ServiceDesk, TicketType
    from csmkit.routing import Agent, AgentPool, Router, RoutingRules
    from csmkit.storage import open_store
    from csmkit.workflow import Workflow

    flow = Workflow.from_dict(
        {
            "name": "job",
            "states": [
                {"name": "new", "category": "new", "initial": True},
                {"name": "done", "category": "closed"},
            ],
            "transitions": [{"name": "finish", "sources": "new", "target": "done"}],
        }
    )
    clock = _Clock(datetime(2026, 10, 15, 10, 0).astimezone())
    desk = ServiceDesk(
        open_store("memory://"),
        types=[TicketType("job", flow)],
        clock=clock,
        router=Router(RoutingRules.from_dict({"default": {"strategy": "least_loaded"}})),
        agents=AgentPool(Agent(id=f"a{n}", capacity={"phone": 1}) for n in range(4)),
        rules={"rules": [{"id": "route", "on": "created", "actions": [{"do": "assign"}]}]},
    )
    assignees = []
    for n in range(5):
        clock.now += timedelta(seconds=1)
        ticket = desk.open_ticket("job", channel="phone", ticket_id=f"T-{n}")
        desk.note(ticket.id, author="agent:li")  # an operation between, no routing
        assignees.append(desk.ticket(ticket.id).assignee)
    assert sorted(a for a in assignees[:4] if a is not None) == ["a0", "a1", "a2", "a3"]
    assert assignees[4] is None  # every agent is full
    clock.now += timedelta(seconds=1)
    desk.transition("T-0", "finish", actor=Actor("li", {"agent"}))
    ticket = desk.open_ticket("job", channel="phone", ticket_id="T-5")
    assert desk.ticket("T-5").assignee == desk.ticket("T-0").assignee


class _Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_rules_route_with_the_agents_the_desk_has_now() -> None:
    """Replacing ``desk.agents`` takes effect on the next rule run, even while the
    routing state (and so a reused environment) is unchanged."""
    from csmkit.desk import ServiceDesk, TicketType
    from csmkit.routing import Agent, AgentPool, Router, RoutingRules
    from csmkit.storage import open_store
    from csmkit.workflow import Workflow

    flow = Workflow.from_dict(
        {
            "name": "job",
            "states": [
                {"name": "new", "category": "new", "initial": True},
                {"name": "done", "category": "closed"},
            ],
            "transitions": [{"name": "finish", "sources": "new", "target": "done"}],
        }
    )
    clock = _Clock(datetime(2026, 10, 15, 10, 0).astimezone())
    rules = {
        "rules": [
            {"id": "route", "on": "created", "actions": [{"do": "assign"}]},
            {"id": "seen", "on": "message_added", "actions": [{"do": "add_tags", "tags": ["s"]}]},
        ]
    }
    desk = ServiceDesk(
        open_store("memory://"),
        types=[TicketType("job", flow)],
        clock=clock,
        router=Router(RoutingRules.from_dict({"default": {"strategy": "least_loaded"}})),
        agents=AgentPool([Agent(id="old", capacity={"phone": 5})]),
        rules=rules,
    )
    desk.open_ticket("job", channel="phone", ticket_id="T-0")
    desk.note("T-0", author="agent:li")  # a rule run after the last routing change
    desk.agents = AgentPool([Agent(id="new", capacity={"phone": 5})])
    desk.note("T-0", author="agent:li")
    desk.open_ticket("job", channel="phone", ticket_id="T-1")
    assert desk.ticket("T-0").assignee == "old"
    assert desk.ticket("T-1").assignee == "new"


def test_the_rules_environment_is_reused_only_while_its_parts_are_the_same(kit: Any) -> None:
    """One environment per ticket type, made again as soon as the routing state, the
    router, the agents or the calendar is another object: never a stale one."""
    clock = kit.Clock(T0.replace(tzinfo=kit.SH))
    desk = kit.make_desk("memory://", clock, kit.Outbox())
    ticket = desk.open_ticket("repair", channel="phone", fields=kit.FIELDS, ticket_id="T-1")
    kernel = desk._kernel
    env = kernel.env(ticket)
    assert kernel.env(ticket) is env  # nothing changed: the same one
    assert env.routing_state is kernel.routing_state()
    replaced = {
        "router": kit.Router(kit.RoutingRules.from_dict(kit.ROUTING)),
        "agents": kit.AgentPool(kit.AGENTS),
        "calendar": kit.BusinessCalendar.from_dict(kit.CALENDAR),
    }
    for name, value in replaced.items():
        setattr(kernel, name, value)
        made = kernel.env(ticket)
        assert made is not env, name
        assert getattr(made, name) is value, name
        env = made
        assert kernel.env(ticket) is env
    clock.now += timedelta(minutes=1)
    desk.assign("T-1", "li")  # a new routing state
    made = kernel.env(ticket)
    assert made is not env
    assert made.routing_state is kernel.routing_state()
