"""WorkflowRegistry, Migration and the exports."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csmkit.errors import NotFoundError, TimelineError, WorkflowError
from csmkit.timeline import Ticket, Timeline, WorkflowMigrated
from csmkit.workflow import Actor, Migration, Workflow, WorkflowRegistry, template, template_dict

T0 = datetime(2026, 9, 30, 1, tzinfo=timezone.utc)


def repair_v2() -> Workflow:
    """Version 2: 'waiting_parts' replaced by a spare-part approval and 'parts_ordered'."""
    data = template_dict("repair")
    data["version"] = 2
    data["states"] = [s for s in data["states"] if s["name"] != "waiting_parts"]
    data["states"].append({"name": "parts_approval", "category": "on_hold"})
    data["states"].append({"name": "parts_ordered", "category": "on_hold"})
    for t in data["transitions"]:
        if t["name"] == "wait_parts":
            t["target"] = "parts_approval"
        if t["name"] == "parts_arrived":
            t["sources"] = "parts_ordered"
    data["transitions"].append(
        {
            "name": "approve_parts",
            "sources": "parts_approval",
            "target": "parts_ordered",
            "roles": ["supervisor"],
        }
    )
    return Workflow.from_dict(data)


def ticket(tid: str, wf: Workflow, status: str | None = None) -> Ticket:
    t = Ticket.created(
        wf.created_event(
            ticket_id=tid,
            at=T0,
            type="repair",
            channel="phone",
            fields={"address": "北京市海淀区", "contact_phone": "13800138000"},
        )
    )
    if status is not None:
        import attrs

        t = attrs.evolve(t, status=status)
    return t


def test_registry_versions() -> None:
    v1, v2 = template("repair"), repair_v2()
    registry = WorkflowRegistry([v1])
    registry.register(v2)
    registry.register(template("repair"))  # identical: fine
    assert registry.versions("repair") == (1, 2)
    assert registry.latest("repair") is v2
    assert registry.get("repair", 1) is v1
    assert registry.names() == ("repair",)
    assert len(registry) == 2 and ("repair", 2) in registry
    assert [w.version for w in registry] == [1, 2]
    assert registry.for_ticket(ticket("T-1", v1)) is v1  # tickets stay on their version
    with pytest.raises(WorkflowError, match="different definition"):
        registry.register(Workflow.from_dict({**template_dict("repair"), "description": "x"}))
    with pytest.raises(NotFoundError, match=r"versions: \[1, 2\]"):
        registry.get("repair", 3)
    with pytest.raises(NotFoundError):
        registry.latest("nope")
    with pytest.raises(WorkflowError):
        registry.register("repair")  # type: ignore[arg-type]


def test_migration_validation_collects_problems() -> None:
    registry = WorkflowRegistry([template("repair"), repair_v2()])
    bad = Migration(
        workflow="repair",
        from_version=1,
        to_version=2,
        status_map={"on_sight": "on_site", "closed": "archived"},
    )
    problems = bad.problems(registry)
    assert "status_map['on_sight']: 'on_sight' is not a state of v1" in problems
    assert "status_map['closed']: target 'archived' is not a state of v2" in problems
    assert "state 'waiting_parts' was removed in v2 and is not mapped" in problems
    with pytest.raises(WorkflowError) as info:
        bad.validate(registry)
    assert len(info.value.problems) == 3
    assert Migration(workflow="repair", from_version=1, to_version=9).problems(registry)


def test_migration_dry_run() -> None:
    v1, v2 = template("repair"), repair_v2()
    registry = WorkflowRegistry([v1, v2])
    migration = Migration(
        workflow="repair",
        from_version=1,
        to_version=2,
        status_map={"waiting_parts": "parts_ordered"},
    )
    assert Migration.from_dict(migration.to_dict()) == migration
    tickets = [
        ticket("A", v1, "waiting_parts"),
        ticket("B", v1, "on_site"),
        ticket("C", v2),
        Ticket.created(
            template("consultation").created_event(
                ticket_id="D", at=T0, type="q", channel="web", fields={"topic": "billing"}
            )
        ),
    ]
    before = list(tickets)
    plan = migration.dry_run(tickets, registry)
    assert [(m.ticket_id, m.from_status, m.to_status) for m in plan.changed] == [
        ("A", "waiting_parts", "parts_ordered")
    ]
    assert [m.ticket_id for m in plan.moves] == ["A", "B"]
    assert [s[0] for s in plan.skipped] == ["C", "D"]
    assert plan.counts() == {("waiting_parts", "parts_ordered"): 1, ("on_site", "on_site"): 1}
    assert tickets == before


def test_migration_apply() -> None:
    v1, v2 = template("repair"), repair_v2()
    registry = WorkflowRegistry([v1, v2])
    migration = Migration(
        workflow="repair",
        from_version=1,
        to_version=2,
        status_map={"waiting_parts": "parts_ordered"},
    )
    created = ticket("A", v1)
    timeline = Timeline([v1.created_event(
        ticket_id="A", at=T0, type="repair", channel="phone",
        fields={"address": "北京市海淀区", "contact_phone": "13800138000"},
    )])  # fmt: skip
    for name in ("dispatch", "accept", "arrive", "wait_parts"):
        actor = Actor("e1", {"dispatcher", "engineer"})
        data = {"dispatch": {"engineer": "e1"}, "wait_parts": {"parts": ["motor"]}}.get(name)
        _, events = v1.fire(timeline, name, actor=actor, at=T0, data=data)
        timeline = timeline.append(*events)
    later = T0 + timedelta(hours=1)
    new, (event,) = migration.apply(timeline, registry, at=later, actor=Actor("ops"))
    assert isinstance(event, WorkflowMigrated)
    assert (event.from_version, event.to_version) == (1, 2)
    assert (event.from_status, event.to_status, event.category.value) == (
        "waiting_parts", "parts_ordered", "on_hold",
    )  # fmt: skip
    assert event.actor == "ops" and event.reason is None
    assert (new.workflow_version, new.status, new.version) == (2, "parts_ordered", 8)
    assert timeline.append(event).ticket == new
    assert registry.for_ticket(new) is v2
    assert v2.check(new, "parts_arrived", actor=Actor("e", {"engineer"})).allowed
    # a ticket whose state name is kept still gets the event (its version changes)
    same, (kept,) = registry.migrate(migration, created, at=T0, actor="ops", reason="CR-12")
    assert (same.status, same.workflow_version, kept.reason) == ("new", 2, "CR-12")
    assert created.workflow_version == 1  # never modified


def test_migration_apply_refuses_clearly() -> None:
    v1, v2 = template("repair"), repair_v2()
    registry = WorkflowRegistry([v1, v2])
    migration = Migration(
        workflow="repair",
        from_version=1,
        to_version=2,
        status_map={"waiting_parts": "parts_ordered"},
    )
    with pytest.raises(WorkflowError, match=r"'A'.*on 'repair' v2, not 'repair' v1"):
        migration.apply(ticket("A", v2), registry, at=T0)
    with pytest.raises(WorkflowError, match="state 'limbo', which is not a state of 'repair' v1"):
        migration.apply(ticket("B", v1, "limbo"), registry, at=T0)
    with pytest.raises(WorkflowError, match="removed in v2 and is not mapped"):
        Migration(workflow="repair", from_version=1, to_version=2).apply(
            ticket("C", v1), registry, at=T0
        )
    with pytest.raises(WorkflowError, match="timezone-aware"):
        migration.apply(ticket("D", v1), registry, at=datetime(2026, 1, 1))
    with pytest.raises(WorkflowError, match="Ticket or a Timeline"):
        migration.apply("T-1", registry, at=T0)  # type: ignore[arg-type]
    with pytest.raises(TimelineError, match="out of order"):
        migration.apply(ticket("E", v1), registry, at=T0 - timedelta(days=1))


STATUSES = ["new", "dispatched", "waiting_parts", "on_site", "limbo", "closed"]


@given(
    st.lists(
        st.tuples(st.sampled_from(STATUSES), st.sampled_from([1, 2]), st.booleans()),
        max_size=8,
    ),
    st.sampled_from(
        [
            {},
            {"waiting_parts": "parts_ordered"},
            {"waiting_parts": "parts_approval", "on_site": "repairing"},
        ]
    ),
)
def test_dry_run_and_apply_agree(
    specs: list[tuple[str, int, bool]], status_map: dict[str, str]
) -> None:
    v1, v2 = template("repair"), repair_v2()
    registry = WorkflowRegistry([v1, v2])
    migration = Migration(workflow="repair", from_version=1, to_version=2, status_map=status_map)
    tickets = [
        attrs.evolve(ticket(f"T{i}", v1 if version == 1 else v2, status), workflow=None)
        if foreign
        else ticket(f"T{i}", v1 if version == 1 else v2, status)
        for i, (status, version, foreign) in enumerate(specs)
    ]
    if migration.problems(registry):
        with pytest.raises(WorkflowError):
            migration.dry_run(tickets, registry)
        for item in tickets:
            with pytest.raises(WorkflowError):
                migration.apply(item, registry, at=T0)
        return
    plan = migration.dry_run(tickets, registry)
    moves = {m.ticket_id: m for m in plan.moves}
    skipped = dict(plan.skipped)
    assert set(moves) | set(skipped) == {t.id for t in tickets}
    for item in tickets:
        if item.id in skipped:
            with pytest.raises(WorkflowError) as info:
                migration.apply(item, registry, at=T0)
            assert skipped[item.id] in str(info.value)
            continue
        new, (event,) = migration.apply(item, registry, at=T0)
        move = moves[item.id]
        assert (event.from_status, event.to_status) == (move.from_status, move.to_status)
        assert (new.status, new.workflow, new.workflow_version) == (move.to_status, "repair", 2)
        assert new.category is v2.state(move.to_status).category
        assert item.apply(event) == new


def test_migration_from_dict_errors() -> None:
    with pytest.raises(WorkflowError) as info:
        Migration.from_dict({"workflow": "repair", "from_version": 0, "extra": 1})
    text = "\n".join(info.value.problems)
    assert "unknown key 'extra'" in text and "missing key 'to_version'" in text
    assert "from_version: must be an integer >= 1" in text
    with pytest.raises(WorkflowError):
        Migration(workflow="r", from_version=1, to_version=2, status_map={"a": ""})


def test_exports() -> None:
    wf = template("repair")
    mermaid = wf.to_mermaid(current="on_site", lang="zh")
    assert mermaid.startswith("stateDiagram-v2\n")
    assert 'state "上门中" as on_site' in mermaid
    assert "    [*] --> new" in mermaid and "    closed --> [*]" in mermaid
    assert "class on_site current" in mermaid
    assert "on_site --> repaired: 完成维修" in mermaid
    dot = wf.to_dot(current="on_site")
    assert dot.startswith('digraph "repair" {')
    assert 'on_site [label="on_site", style="rounded,filled", fillcolor="#ffd54f"];' in dot
    assert 'dispatched -> accepted [label="accept"];' in dot
    table = wf.to_table(lang="zh")
    assert table.splitlines()[0].split() == [
        "transition",
        "label",
        "from",
        "to",
        "roles",
        "required",
        "condition",
    ]
    assert any(line.startswith("cancel") and " * " in line for line in table.splitlines())
    graph = wf.to_networkx()
    assert set(graph.nodes) == {s.name for s in wf.states}
    assert graph.has_edge("on_site", "repaired", key="repair")
    assert graph.nodes["closed"]["terminal"] is True
    with pytest.raises(WorkflowError, match="no state 'mars'"):
        wf.to_mermaid(current="mars")


def test_created_event_validates_form() -> None:
    wf = template("repair")
    with pytest.raises(WorkflowError) as info:
        wf.created_event(
            ticket_id="T", at=T0, type="repair", channel="phone", fields={"contact_phone": "abc"}
        )
    assert [p.split(":")[0] for p in info.value.problems] == ["address", "contact_phone"]


def test_fire_checks_data_against_form() -> None:
    wf = template("repair")
    t = ticket("T", wf)
    verdict = wf.check(
        t, "dispatch", actor=Actor("d", {"dispatcher"}), data={"engineer": 7, "colour": "red"}
    )
    assert verdict.codes == ("form", "form")
    messages = [r.message for r in verdict.reasons]
    assert "engineer: expected text, got 7" in messages
    assert "colour: is not a field of the form" in messages
