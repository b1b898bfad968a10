"""Events: validation, enums, dict forms."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import attrs
import pytest
from hypothesis import given

from csmkit.errors import CsmkitError, TimelineError
from csmkit.timeline import (
    EVENT_TYPES,
    Assigned,
    Direction,
    Escalated,
    Event,
    FieldChanged,
    Linked,
    MessageAdded,
    Priority,
    StatusCategory,
    StatusChanged,
    SurveyAnswered,
    TicketCreated,
)
from strategies import timelines_events

CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 9, 30, 9, 0, tzinfo=CST)


def created(**overrides: object) -> TicketCreated:
    values: dict[str, object] = {
        "ticket_id": "T-1",
        "at": T0,
        "type": "repair",
        "channel": "phone",
    }
    values.update(overrides)
    return TicketCreated(**values)  # type: ignore[arg-type]


class TestEnums:
    def test_priority_orders_by_rank_not_alphabet(self) -> None:
        assert Priority.LOW < Priority.NORMAL < Priority.HIGH < Priority.URGENT
        assert Priority.HIGH > "low"  # alphabetically "high" < "low"
        assert Priority.HIGH > "low"  # reflected comparison on the str subclass
        assert sorted(["urgent", "low", "normal", "high"], key=Priority.parse) == [
            "low",
            "normal",
            "high",
            "urgent",
        ]

    def test_priority_equals_its_value_and_prints_as_it(self) -> None:
        assert Priority.HIGH == "high"
        assert hash(Priority.HIGH) == hash("high")
        assert str(Priority.HIGH) == "high"
        assert f"{Priority.URGENT}" == "urgent"

    def test_priority_against_unknown_string_is_an_error(self) -> None:
        with pytest.raises(TimelineError, match="unknown priority 'hgh'"):
            _ = Priority.HIGH < "hgh"

    def test_priority_against_number_is_a_type_error(self) -> None:
        with pytest.raises(TypeError):
            _ = Priority.HIGH < 3  # type: ignore[operator]

    def test_category_helpers(self) -> None:
        assert StatusCategory.NEW.is_active and StatusCategory.OPEN.is_active
        assert not StatusCategory.PENDING.is_active
        assert StatusCategory.SOLVED.is_done and StatusCategory.CLOSED.is_done
        assert not StatusCategory.ON_HOLD.is_done

    @pytest.mark.parametrize("category", list(StatusCategory))
    def test_category_helpers_for_every_member(self, category: StatusCategory) -> None:
        assert category.is_active is (category.value in ("new", "open"))
        assert category.is_done is (category.value in ("solved", "closed"))


class TestValidation:
    def test_naive_datetime_is_rejected_naming_the_field(self) -> None:
        with pytest.raises(
            TimelineError, match=r"TicketCreated\.at must be a timezone-aware datetime"
        ):
            created(at=datetime(2026, 9, 30, 9))

    def test_errors_are_csmkit_and_value_errors(self) -> None:
        with pytest.raises(CsmkitError):
            created(priority="highest")
        with pytest.raises(ValueError, match="unknown priority 'highest'"):
            created(priority="highest")

    @pytest.mark.parametrize(
        ("overrides", "message"),
        [
            ({"ticket_id": ""}, "ticket_id must be a non-empty string"),
            ({"type": 3}, "type must be a non-empty string"),
            ({"category": "done"}, "unknown category 'done'"),
            ({"fields": {"due": datetime(2026, 1, 1, tzinfo=CST)}}, "fields.due: datetime"),
            ({"fields": {"x": float("nan")}}, "not a finite number"),
            ({"fields": {1: "x"}}, "key 1 is not a string"),
            ({"tags": "vip"}, "tags must be a list of strings"),
            ({"workflow_version": 2}, "workflow_version is set but workflow is not"),
            ({"workflow": "repair", "workflow_version": 0}, "positive integer"),
        ],
    )
    def test_bad_created_values(self, overrides: dict[str, object], message: str) -> None:
        with pytest.raises(TimelineError, match=message):
            created(**overrides)

    def test_fields_are_frozen_deeply(self) -> None:
        source = {"parts": ["fan", "motor"], "address": {"city": "杭州"}}
        event = created(fields=source)
        source["parts"].append("board")
        assert event.fields["parts"] == ("fan", "motor")
        with pytest.raises(TypeError):
            event.fields["x"] = 1  # type: ignore[index]

    def test_events_are_hashable_by_content(self) -> None:
        one = created(fields={"parts": ["fan"], "address": {"city": "杭州"}}, meta={"rule": "r1"})
        two = created(fields={"address": {"city": "杭州"}, "parts": ["fan"]}, meta={"rule": "r1"})
        assert one == two
        assert hash(one) == hash(two)
        assert len({one, two, created()}) == 2

    def test_tags_are_sorted_and_unique(self) -> None:
        assert created(tags=["vip", "ac", "vip"]).tags == ("ac", "vip")

    def test_assigned_needs_agent_or_group(self) -> None:
        with pytest.raises(TimelineError, match="needs an agent, a group or both"):
            Assigned(ticket_id="T-1", at=T0)

    def test_message_visibility_rules(self) -> None:
        note = MessageAdded(ticket_id="T-1", at=T0, direction="internal", channel="web")
        assert note.public is False
        reply = MessageAdded(ticket_id="T-1", at=T0, direction="outbound", channel="email")
        assert reply.public is True and reply.direction is Direction.OUTBOUND
        with pytest.raises(TimelineError, match="internal note cannot be public"):
            MessageAdded(ticket_id="T-1", at=T0, direction="internal", channel="web", public=True)
        with pytest.raises(TimelineError, match="always public"):
            MessageAdded(ticket_id="T-1", at=T0, direction="inbound", channel="web", public=False)

    def test_field_changed_normalises_core_fields(self) -> None:
        change = FieldChanged(ticket_id="T-1", at=T0, name="priority", old="high", new="urgent")
        assert change.new == "urgent" and type(change.new) is str
        with pytest.raises(TimelineError, match="unknown priority"):
            FieldChanged(ticket_id="T-1", at=T0, name="priority", new="asap")
        with pytest.raises(TimelineError, match="cannot be changed with FieldChanged"):
            FieldChanged(ticket_id="T-1", at=T0, name="status", new="open")

    def test_escalation_level_and_links(self) -> None:
        with pytest.raises(TimelineError, match="level"):
            Escalated(ticket_id="T-1", at=T0, level=0)
        with pytest.raises(TimelineError, match="level"):
            Escalated(ticket_id="T-1", at=T0, level=True)
        with pytest.raises(TimelineError, match="linked to itself"):
            Linked(ticket_id="T-1", at=T0, relation="related", other_ticket="T-1")

    @pytest.mark.parametrize(
        ("survey", "score", "ok"),
        [("nps", 10, True), ("nps", 11, False), ("nps", 7.5, False), ("csat", 4.5, True)]
        + [("csat", -1, False), ("ces", float("inf"), False), ("csat", True, False)],
    )
    def test_survey_scores(self, survey: str, score: object, ok: bool) -> None:
        def build() -> SurveyAnswered:
            return SurveyAnswered(ticket_id="T-1", at=T0, survey=survey, score=score)  # type: ignore[arg-type]

        if ok:
            assert build().score == score
        else:
            with pytest.raises(TimelineError, match="score"):
                build()


class TestDictForm:
    def test_every_kind_is_registered_once(self) -> None:
        assert len(EVENT_TYPES) == 13
        assert all(cls.kind == kind for kind, cls in EVENT_TYPES.items())

    def test_round_trip_through_json_keeps_instant_and_offset(self) -> None:
        event = created(at=datetime(2026, 9, 30, 9, 0, 0, 123456, tzinfo=CST), priority="high")
        data = json.loads(json.dumps(event.to_dict()))
        assert data["at"] == "2026-09-30T09:00:00.123456+08:00"
        back = Event.from_dict(data)
        assert back == event
        assert back.at.utcoffset() == timedelta(hours=8)

    def test_subclass_from_dict_checks_the_kind(self) -> None:
        data = created().to_dict()
        assert TicketCreated.from_dict(data) == created()
        with pytest.raises(TimelineError, match="expected a 'status_changed' event"):
            StatusChanged.from_dict(data)

    @pytest.mark.parametrize(
        ("mutate", "message"),
        [
            (lambda d: d.update(kind="deleted"), "kind: unknown event kind 'deleted'"),
            (lambda d: d.update(colour="red"), "colour: unexpected key"),
            (lambda d: d.pop("type"), "type: missing key"),
            (lambda d: d.update(at="2026-09-30 09:00"), "at: not an ISO 8601 instant"),
            (lambda d: d.update(at="yesterday"), "at: not an ISO 8601 instant"),
            (lambda d: d.update(priority="p1"), "priority: unknown priority 'p1'"),
        ],
    )
    def test_malformed_dicts(self, mutate: object, message: str) -> None:
        data = created().to_dict()
        mutate(data)  # type: ignore[operator]
        with pytest.raises(TimelineError, match=message):
            Event.from_dict(data)

    def test_not_a_dict(self) -> None:
        with pytest.raises(TimelineError, match="an event must be a dict"):
            Event.from_dict(["created"])  # type: ignore[arg-type]

    @given(timelines_events())
    def test_every_generated_event_round_trips_through_json(self, events: list[Event]) -> None:
        for event in events:
            text = json.dumps(event.to_dict(), allow_nan=False)
            assert Event.from_dict(json.loads(text)) == event


def test_action_failed_round_trips_and_changes_no_ticket_state() -> None:
    from csmkit.timeline import ActionFailed, Timeline

    first = TicketCreated(ticket_id="T-1", at=T0, type="repair", channel="phone")
    failed = ActionFailed(
        ticket_id="T-1",
        at=T0 + timedelta(minutes=5),
        rule="dispatch",
        action="transition",
        index=1,
        reason="transition 'dispatch' needs fields.engineer",
        meta={"rule": "dispatch"},
    )
    assert Event.from_dict(json.loads(json.dumps(failed.to_dict()))) == failed
    before, after = Timeline([first]).ticket, Timeline([first, failed]).ticket
    assert (after.updated_at, after.version) == (failed.at, before.version + 1)
    assert attrs.evolve(after, updated_at=before.updated_at, version=before.version) == before
    with pytest.raises(TimelineError, match="index"):
        ActionFailed(ticket_id="T-1", at=T0, rule="r", action="assign", index=-1, reason="x")
