"""Ticket folding and Timeline validation, queries and round trips."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csmkit.errors import TimelineError
from csmkit.timeline import (
    Assigned,
    Escalated,
    Event,
    FieldChanged,
    MessageAdded,
    Priority,
    StatusCategory,
    StatusChanged,
    Ticket,
    TicketCreated,
    Timeline,
    Unassigned,
    WorkflowMigrated,
)
from strategies import timelines_events

CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 9, 30, 9, 0, tzinfo=CST)
MIN = timedelta(minutes=1)


def repair_timeline() -> Timeline:
    return Timeline(
        [
            TicketCreated(
                ticket_id="T-1",
                at=T0,
                type="repair",
                channel="wechat",
                priority="high",
                customer_id="c-8",
                subject="空调不制冷",
                fields={"region": "east"},
                workflow="repair",
                workflow_version=2,
            ),
            Assigned(ticket_id="T-1", at=T0 + 2 * MIN, agent="li.wei", group="hvac"),
            MessageAdded(ticket_id="T-1", at=T0 + 5 * MIN, direction="outbound", channel="wechat"),
            StatusChanged(
                ticket_id="T-1",
                at=T0 + 60 * MIN,
                from_status="new",
                to_status="dispatched",
                category="open",
                transition="dispatch",
            ),
            FieldChanged(ticket_id="T-1", at=T0 + 90 * MIN, name="priority", new="urgent"),
            FieldChanged(ticket_id="T-1", at=T0 + 90 * MIN, name="region", new=None),
            FieldChanged(ticket_id="T-1", at=T0 + 91 * MIN, name="model", new="KFR-35"),
            Escalated(ticket_id="T-1", at=T0 + 120 * MIN, level=2),
            Escalated(ticket_id="T-1", at=T0 + 121 * MIN, level=1),
            Unassigned(ticket_id="T-1", at=T0 + 130 * MIN, agent="li.wei", group="hvac"),
        ]
    )


class TestFold:
    def test_current_state(self) -> None:
        ticket = repair_timeline().ticket
        assert ticket.status == "dispatched"
        assert ticket.category is StatusCategory.OPEN
        assert ticket.priority is Priority.URGENT
        assert dict(ticket.fields) == {"model": "KFR-35"}
        assert ticket.assignee is None and ticket.group is None
        assert ticket.escalation_level == 2  # the highest level reached stays
        assert ticket.version == 10
        assert ticket.updated_at == T0 + 130 * MIN
        assert (ticket.workflow, ticket.workflow_version) == ("repair", 2)

    def test_state_at_is_the_fold_of_the_prefix(self) -> None:
        timeline = repair_timeline()
        assert timeline.state_at(T0).version == 1
        at_dispatch = timeline.state_at(T0 + 60 * MIN)
        assert at_dispatch.status == "dispatched" and at_dispatch.assignee == "li.wei"
        assert timeline.state_at(T0 + 89 * MIN).priority is Priority.HIGH
        # two events share T0 + 90 min: both are included
        assert timeline.state_at(T0 + 90 * MIN).version == 6
        assert timeline.state_at(T0 + timedelta(days=3)) == timeline.ticket

    def test_state_at_before_creation_or_naive(self) -> None:
        timeline = repair_timeline()
        with pytest.raises(TimelineError, match="did not exist yet"):
            timeline.state_at(T0 - MIN)
        with pytest.raises(TimelineError, match="timezone-aware"):
            timeline.state_at(datetime(2026, 9, 30, 12))

    def test_apply_leaves_the_ticket_unchanged(self) -> None:
        ticket = repair_timeline().ticket
        later = ticket.apply(Assigned(ticket_id="T-1", at=T0 + 200 * MIN, agent="wang.fang"))
        assert ticket.assignee is None and later.assignee == "wang.fang"

    def test_unassigned_keeps_another_group(self) -> None:
        ticket = repair_timeline().state_at(T0 + 2 * MIN)
        after = ticket.apply(Unassigned(ticket_id="T-1", at=T0 + 3 * MIN, group="billing"))
        assert after.assignee is None and after.group == "hvac"


class TestWorkflowMigration:
    def migrated(self, **overrides: object) -> WorkflowMigrated:
        values: dict[str, object] = {
            "ticket_id": "T-1",
            "at": T0 + 400 * MIN,
            "workflow": "repair",
            "from_version": 2,
            "to_version": 3,
            "from_status": "dispatched",
            "to_status": "assigned",
            "category": "open",
            "reason": "repair v3 splits dispatch",
        }
        values.update(overrides)
        return WorkflowMigrated(**values)  # type: ignore[arg-type]

    def test_migration_moves_version_and_state_together(self) -> None:
        ticket = repair_timeline().append(self.migrated()).ticket
        assert (ticket.workflow, ticket.workflow_version) == ("repair", 3)
        assert ticket.status == "assigned"
        assert ticket.category is StatusCategory.OPEN

    def test_migration_must_start_from_the_current_version_and_state(self) -> None:
        with pytest.raises(TimelineError, match=r"from_version: .*follows version 2"):
            repair_timeline().append(self.migrated(from_version=1))
        with pytest.raises(TimelineError, match=r"from_status: .*is in 'dispatched'"):
            repair_timeline().append(self.migrated(from_status="new"))

    def test_field_changed_cannot_touch_the_workflow(self) -> None:
        with pytest.raises(TimelineError, match="WorkflowMigrated"):
            FieldChanged(ticket_id="T-1", at=T0, name="workflow_version", new=3)


class TestValidation:
    def test_empty(self) -> None:
        with pytest.raises(TimelineError, match="at least its TicketCreated"):
            Timeline([])

    def test_first_event_must_be_creation(self) -> None:
        with pytest.raises(TimelineError, match=r"events\[0\]: the first event must be"):
            Timeline([Assigned(ticket_id="T-1", at=T0, agent="a")])

    def test_events_of_another_ticket(self) -> None:
        with pytest.raises(TimelineError, match=r"events\[1\]\.ticket_id: .*'T-2'"):
            Timeline(list(repair_timeline())[:1] + [Assigned(ticket_id="T-2", at=T0, agent="a")])

    def test_out_of_order(self) -> None:
        events = list(repair_timeline())
        events[3], events[2] = events[2], events[3]
        with pytest.raises(TimelineError, match=r"events\[3\]\.at: .*out of order"):
            Timeline(events)

    def test_second_creation(self) -> None:
        first = repair_timeline()[0]
        with pytest.raises(TimelineError, match="already created"):
            Timeline([first, first])

    def test_status_change_from_the_wrong_state(self) -> None:
        timeline = repair_timeline()
        wrong = StatusChanged(
            ticket_id="T-1",
            at=T0 + 300 * MIN,
            from_status="new",
            to_status="solved",
            category="solved",
        )
        with pytest.raises(TimelineError, match=r"events\[10\]\.from_status: .*'dispatched'"):
            timeline.append(wrong)

    def test_not_an_event(self) -> None:
        with pytest.raises(TimelineError, match=r"events\[1\]: expected an Event"):
            Timeline([repair_timeline()[0], {"kind": "assigned"}])  # type: ignore[list-item]

    def test_append_returns_a_new_timeline(self) -> None:
        timeline = repair_timeline()
        longer = timeline.append(Assigned(ticket_id="T-1", at=T0 + 300 * MIN, agent="zhao"))
        assert len(timeline) == 10 and len(longer) == 11
        assert longer.ticket.assignee == "zhao"
        assert longer.state_at(T0 + 299 * MIN) == timeline.ticket


class TestQueries:
    def test_kind_filters(self) -> None:
        timeline = repair_timeline()
        assert [e.kind for e in timeline.of_kind("escalated")] == ["escalated", "escalated"]
        assert timeline.of_kind(Escalated) == timeline.of_type(Escalated)
        assert timeline.first("field_changed") is timeline[4]
        assert timeline.last(FieldChanged, Escalated) is timeline[8]
        assert timeline.first("linked") is None
        with pytest.raises(TimelineError, match="unknown event kind 'closed'"):
            timeline.of_kind("closed")

    def test_between_is_half_open(self) -> None:
        timeline = repair_timeline()
        window = timeline.between(T0 + 60 * MIN, T0 + 91 * MIN)
        assert [e.kind for e in window] == ["status_changed", "field_changed", "field_changed"]

    def test_messages_and_status_changes(self) -> None:
        timeline = repair_timeline()
        assert len(timeline.messages("outbound", public=True)) == 1
        assert timeline.messages("inbound") == ()
        assert [s.to_status for s in timeline.status_changes()] == ["dispatched"]

    def test_sequence_protocol(self) -> None:
        timeline = repair_timeline()
        assert timeline[0].kind == "created"
        assert isinstance(timeline[1:3], tuple) and len(timeline[1:3]) == 2
        assert timeline.version == len(timeline) == 10
        assert "T-1" in repr(timeline)


class TestDictForm:
    def test_round_trip(self) -> None:
        timeline = repair_timeline()
        data = json.loads(json.dumps(timeline.to_dict(), ensure_ascii=False))
        assert Timeline.from_dict(data) == timeline

    @pytest.mark.parametrize(
        ("mutate", "message"),
        [
            (lambda d: d.update(owner="x"), "owner: unexpected key"),
            (lambda d: d.update(events={}), "'events' must be a list"),
            (lambda d: d.update(ticket_id="T-9"), "ticket_id: ticket_id 'T-9' does not match"),
            (lambda d: d["events"][2].update(at="2026-09-30T10:00:00"), r"events\[2\]\.at"),
            (lambda d: d["events"][3].update(kind="moved"), r"events\[3\]\.kind: unknown"),
        ],
    )
    def test_malformed(self, mutate: object, message: str) -> None:
        data = repair_timeline().to_dict()
        mutate(data)  # type: ignore[operator]
        with pytest.raises(TimelineError, match=message):
            Timeline.from_dict(data)


def _reference_fold(events: list[Event]) -> dict[str, object]:
    """An independent, deliberately plain fold used as the oracle."""
    first = events[0]
    assert isinstance(first, TicketCreated)
    state: dict[str, object] = {
        "status": first.status,
        "priority": first.priority.value,
        "assignee": None,
        "group": None,
        "fields": dict(first.fields),
        "tags": first.tags,
        "escalation_level": 0,
    }
    for event in events[1:]:
        if isinstance(event, StatusChanged):
            state["status"] = event.to_status
        elif isinstance(event, Assigned):
            state["assignee"] = event.agent or state["assignee"]
            state["group"] = event.group or state["group"]
        elif isinstance(event, Unassigned):
            state["assignee"] = None
            if event.group is not None and event.group == state["group"]:
                state["group"] = None
        elif isinstance(event, FieldChanged):
            if event.name in ("priority", "tags"):
                state[event.name] = event.new
            elif event.name == "subject":
                pass
            elif event.new is None:
                state["fields"].pop(event.name, None)  # type: ignore[attr-defined]
            else:
                state["fields"][event.name] = event.new  # type: ignore[index]
        elif isinstance(event, Escalated):
            state["escalation_level"] = max(state["escalation_level"], event.level)  # type: ignore[call-overload]
    return state


def _observed(ticket: Ticket) -> dict[str, object]:
    return {
        "status": ticket.status,
        "priority": ticket.priority.value,
        "assignee": ticket.assignee,
        "group": ticket.group,
        "fields": dict(ticket.fields),
        "tags": ticket.tags,
        "escalation_level": ticket.escalation_level,
    }


@given(timelines_events())
def test_fold_matches_the_reference_fold(events: list[Event]) -> None:
    assert _observed(Timeline(events).ticket) == _reference_fold(events)


@given(timelines_events())
def test_timeline_round_trips_through_json(events: list[Event]) -> None:
    timeline = Timeline(events)
    back = Timeline.from_dict(json.loads(json.dumps(timeline.to_dict())))
    assert back == timeline
    assert back.ticket == timeline.ticket


@given(timelines_events(), st.data())
def test_state_at_equals_folding_the_prefix(events: list[Event], data: st.DataObject) -> None:
    timeline = Timeline(events)
    index = data.draw(st.integers(0, len(events) - 1))
    at = events[index].at
    prefix = [e for e in events if e.at <= at]
    assert timeline.state_at(at) == Timeline(prefix).ticket


@given(timelines_events(), st.data())
def test_append_equals_building_whole(events: list[Event], data: st.DataObject) -> None:
    cut = data.draw(st.integers(1, len(events)))
    assert Timeline(events[:cut]).append(*events[cut:]) == Timeline(events)
    assert Timeline(events[:cut]).append(*events[cut:]).ticket == Timeline(events).ticket


@given(timelines_events(), st.data())
def test_version_counts_events_and_updated_at_is_last(
    events: list[Event], data: st.DataObject
) -> None:
    timeline = Timeline(events)
    assert timeline.ticket.version == len(events)
    assert timeline.updated_at == events[-1].at
    assert timeline.created_at == events[0].at


@given(timelines_events())
def test_folded_tickets_pass_full_validation(events: list[Event]) -> None:
    # Ticket.apply copies slots without re-validating; rebuilding the ticket through its
    # validating constructor must give the same, valid ticket.
    ticket = Timeline(events).ticket
    rebuilt = Ticket(**{a.name: getattr(ticket, a.name) for a in attrs.fields(Ticket)})
    assert rebuilt == ticket
    assert type(rebuilt.priority) is Priority
    assert hash(rebuilt) == hash(ticket)
