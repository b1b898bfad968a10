"""``escalate`` with ``release``: the late assignee is released and the ticket reassigned."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from csmkit.automation import Automation, Environment, RuleSet
from csmkit.errors import AutomationError
from csmkit.routing import Agent, AgentPool, Router, RoutingRules
from csmkit.timeline import ActionFailed, Assigned, Escalated, TicketCreated, Timeline, Unassigned

T0 = datetime(2026, 10, 15, 9, 0, tzinfo=timezone.utc)
ROUTER = Router(
    RoutingRules.from_dict(
        {
            "rules": [
                {
                    "name": "escalated",
                    "when": 'ticket.group == "supervisors"',
                    "group": "supervisors",
                    "strategy": "least_loaded",
                }
            ],
            "default": {"group": "engineers", "strategy": "least_loaded"},
        }
    )
)
AGENTS = AgentPool(
    [
        Agent(id="li", groups=["engineers"]),
        Agent(id="s1", groups=["supervisors"]),
        Agent(id="s2", groups=["supervisors"], presence="offline"),
    ]
)


def _late(agents: AgentPool = AGENTS, **params: Any) -> Timeline:
    """A ticket assigned to engineer li, then escalated by a rule."""
    rule = {
        "id": "late",
        "on": "assigned",
        "actions": [{"do": "escalate", "group": "supervisors", **params}],
    }
    timeline = Timeline(
        [
            TicketCreated(
                ticket_id="T-1",
                at=T0,
                type="repair",
                channel="phone",
                fields={"supervisor": "s2"},
            ),
            Assigned(ticket_id="T-1", at=T0, agent="li", group="engineers", actor="router"),
        ]
    )
    engine = Automation(RuleSet.from_dict({"rules": [rule]}))
    env = Environment(router=ROUTER, agents=agents)
    outcome = engine.react(timeline, [timeline[1]], now=T0, env=env)
    return timeline.append(*outcome.events)


def test_release_hands_the_ticket_from_the_engineer_to_a_routed_supervisor() -> None:
    timeline = _late(release=True)
    kinds = [e.kind for e in timeline.events[2:]]
    assert kinds == ["escalated", "unassigned", "assigned"]
    released = timeline.last(Unassigned)
    assert isinstance(released, Unassigned) and released.agent == "li"
    assigned = timeline.last(Assigned)
    assert isinstance(assigned, Assigned)
    assert assigned.decision == "escalated#0"
    ticket = timeline.ticket
    assert (ticket.assignee, ticket.group, ticket.escalation_level) == ("s1", "supervisors", 1)


def test_with_no_supervisor_free_the_ticket_waits_released_in_their_queue() -> None:
    nobody = AgentPool([Agent(id="li", groups=["engineers"]), Agent(id="s1", presence="away")])
    timeline = _late(nobody, release=True)
    assert [e.kind for e in timeline.events[2:]] == ["escalated", "unassigned", "assigned"]
    ticket = timeline.ticket
    assert (ticket.assignee, ticket.group, ticket.escalation_level) == (None, "supervisors", 1)


def test_a_named_agent_takes_the_ticket_from_a_template() -> None:
    timeline = _late(release=True, agent="{ticket.fields.supervisor}")
    ticket = timeline.ticket
    assert (ticket.assignee, ticket.group) == ("s2", "supervisors")
    assert [e.kind for e in timeline.events[2:]] == ["escalated", "unassigned", "assigned"]


def test_without_release_the_late_engineer_stays_assigned() -> None:
    timeline = _late()
    assert [e.kind for e in timeline.events[2:]] == ["escalated", "assigned"]
    assert (timeline.ticket.assignee, timeline.ticket.group) == ("li", "supervisors")


def test_release_without_a_router_is_a_recorded_refusal() -> None:
    rule = {
        "id": "late",
        "on": "created",
        "actions": [{"do": "escalate", "group": "supervisors", "release": True}],
    }
    created = TicketCreated(ticket_id="T-1", at=T0, type="repair", channel="phone")
    timeline = Timeline([created])
    outcome = Automation(RuleSet.from_dict({"rules": [rule]})).react(
        timeline, [created], now=T0, env=Environment()
    )
    assert [type(e) for e in outcome.events] == [ActionFailed]
    failed = outcome.events[0]
    assert isinstance(failed, ActionFailed)
    assert "router" in failed.reason
    assert not any(isinstance(e, Escalated) for e in outcome.events)


def test_a_router_choosing_another_group_is_a_recorded_refusal() -> None:
    timeline = _late(release=True, group="nights")
    failed = timeline.last(ActionFailed)
    assert isinstance(failed, ActionFailed)
    assert "'engineers', not 'nights'" in failed.reason
    assert timeline.ticket.assignee == "li"  # nothing half-done
    assert timeline.ticket.escalation_level == 0


def test_a_missing_templated_agent_is_a_recorded_refusal() -> None:
    timeline = _late(release=True, agent="{ticket.fields.deputy}")
    assert timeline.last(ActionFailed) is not None
    assert timeline.ticket.assignee == "li"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"release": "yes"}, ".release: must be true or false"),
        ({"agent": "s1"}, ".agent: names the new assignee, so it needs release = true"),
        ({"agent": "s1", "release": False}, ".agent: names the new assignee"),
        ({"agent": "", "release": True}, ".agent: '' is not a non-empty string"),
    ],
)
def test_bad_parameters_are_refused_at_load_with_their_path(
    params: dict[str, Any], message: str
) -> None:
    rule = {"id": "r", "on": "created", "actions": [{"do": "escalate", **params}]}
    with pytest.raises(AutomationError) as caught:
        RuleSet.from_dict({"rules": [rule]})
    assert f"rules[0] 'r'.actions[0]{message}" in str(caught.value)
