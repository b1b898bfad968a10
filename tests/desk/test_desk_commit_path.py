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
