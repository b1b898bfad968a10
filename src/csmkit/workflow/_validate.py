"""Validation of workflow definitions: references, rules and graph shape, all problems at once."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from csmkit.errors import TimelineError
from csmkit.timeline import CORE_FIELDS, FieldChanged, StatusCategory
from csmkit.workflow._model import ANY_SOURCE, State, TimedTransition, Transition

if TYPE_CHECKING:
    from csmkit.workflow._forms import FormSchema

__all__ = [
    "CONDITION_ROOTS",
    "RESERVED_DATA_KEYS",
    "build_graph",
    "core_value_problem",
    "expand_sources",
    "graph_problems",
    "problems_of",
]

CONDITION_ROOTS: frozenset[str] = frozenset({"ticket", "fields", "data", "actor"})
"""The names a transition condition may read (``ticket.priority``, ``fields.model`` …)."""

RESERVED_DATA_KEYS: frozenset[str] = frozenset(
    {"id", "status", "category", "assignee", "group", "created_at", "updated_at", "version"}
    | {"workflow", "workflow_version", "escalation_level", "channel", "fields"}
)
"""Ticket attributes a transition's data may not write (they have their own events)."""


_PROBE_AT = datetime(2000, 1, 1, tzinfo=timezone.utc)


def core_value_problem(key: str, value: object) -> tuple[str, str] | None:
    """``(path, message)`` if ``value`` cannot be written to core ticket attribute ``key``.

    The rule is the timeline's own: whatever [`FieldChanged`][csmkit.timeline.FieldChanged]
    rejects. ``path`` is ``data.<key>`` (``data.tags[1]`` for one bad tag).
    """
    try:
        FieldChanged(ticket_id="check", at=_PROBE_AT, name=key, new=value)
    except TimelineError as exc:
        path = f"data.{exc.path}" if exc.path.startswith(key) else f"data.{key}"
        return path, exc.message
    return None


def expand_sources(transition: Transition, states: Sequence[State]) -> tuple[str, ...]:
    """The concrete source states of ``transition`` (``"*"`` expanded)."""
    if transition.from_any:
        return tuple(s.name for s in states if not s.terminal and s.name != transition.target)
    return transition.sources


def build_graph(states: Sequence[State], transitions: Sequence[Transition]) -> Any:
    """A networkx ``MultiDiGraph``: one node per state, one edge per (source, transition).

    Node attributes: ``category``, ``initial``, ``terminal``. Edge key: the transition
    name; edge attributes: ``transition``, ``roles``.
    """
    import networkx as nx  # type: ignore[import-untyped, unused-ignore]

    graph: Any = nx.MultiDiGraph()
    for state in states:
        graph.add_node(
            state.name,
            category=state.category.value,
            initial=state.initial,
            terminal=state.terminal,
        )
    for transition in transitions:
        if transition.target not in graph:
            continue  # an undefined target is a reference problem, not an edge
        for source in expand_sources(transition, states):
            if source not in graph:
                continue
            graph.add_edge(
                source,
                transition.target,
                key=transition.name,
                transition=transition.name,
                roles=sorted(transition.roles),
            )
    return graph


def _duplicates(names: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    dup: list[str] = []
    for name in names:
        if name in seen and name not in dup:
            dup.append(name)
        seen.add(name)
    return dup


def problems_of(
    states: Sequence[State],
    transitions: Sequence[Transition],
    *,
    reopen: str | None,
    timed: Sequence[TimedTransition],
    form: FormSchema | None,
    known_states: Iterable[str] = (),
    known_transitions: Iterable[str] = (),
    graph: bool = True,
    positions: Mapping[str, Sequence[int]] | None = None,
) -> list[str]:
    """Every problem of a definition, one line each, naming its location.

    Args:
        states: The parsed states.
        transitions: The parsed transitions.
        reopen: The reopen target.
        timed: The timed transitions.
        form: The form whose fields ``required`` must name, if any.
        known_states: Names of states that failed to parse (not reported as undefined).
        known_transitions: Likewise for transitions.
        graph: Whether to run the graph-shape checks (skipped when pieces are missing).
        positions: Where each parsed item stood in the input (``{"states": [0, 2], …}``)
            when some failed to parse, so paths name the input's indexes.
    """
    where_of = positions or {}

    def at(kind: str, i: int) -> int:
        index = where_of.get(kind)
        return index[i] if index is not None else i

    problems: list[str] = []
    by_state = {s.name: s for s in states}
    state_names = set(by_state) | set(known_states)
    by_transition = {t.name: t for t in transitions}
    transition_names = set(by_transition) | set(known_transitions)

    if not states and not known_states:
        problems.append("states: a workflow needs at least one state")
    for name in _duplicates(s.name for s in states):
        idx = [at("states", i) for i, s in enumerate(states) if s.name == name]
        problems.append(f"states{idx}: duplicate state name {name!r}")
    initial = [s.name for s in states if s.initial]
    if states and not initial and not known_states:  # a broken state may be the initial one
        problems.append("states: no initial state (mark exactly one state with initial: true)")
    elif len(initial) > 1:
        problems.append(f"states: several initial states {initial} (exactly one is allowed)")
    if states and not known_states and not any(s.category.is_done for s in states):
        problems.append(
            "states: no state of category 'solved' or 'closed'; tickets could never end"
        )

    for name in _duplicates(t.name for t in transitions):
        idx = [at("transitions", i) for i, t in enumerate(transitions) if t.name == name]
        problems.append(f"transitions{idx}: duplicate transition name {name!r}")
    for i, t in enumerate(transitions):
        where = f"transitions[{at('transitions', i)}] {t.name!r}"
        if not t.sources:
            problems.append(f"{where}.sources: no source state (name at least one, or '*')")
        if ANY_SOURCE in t.sources and len(t.sources) > 1:
            problems.append(f"{where}.sources: '*' cannot be combined with named states")
        for source in t.sources:
            if source == ANY_SOURCE:
                continue
            if source not in state_names:
                problems.append(f"{where}.sources: state {source!r} is not defined")
            elif source in by_state and by_state[source].terminal:
                problems.append(
                    f"{where}.sources: state {source!r} is terminal (category closed); "
                    "no transition may leave it"
                )
        for name in _duplicates(t.sources):
            problems.append(f"{where}.sources: {name!r} is listed twice")
        if t.target not in state_names:
            problems.append(f"{where}.target: state {t.target!r} is not defined")
        if t.condition is not None:
            for dotted in t.condition.names:
                if dotted.split(".", 1)[0] not in CONDITION_ROOTS:
                    problems.append(
                        f"{where}.condition: name {dotted!r} is unknown; conditions read "
                        "ticket.…, fields.…, data.… or actor.…"
                    )
        for field in t.required:
            if field in RESERVED_DATA_KEYS:
                problems.append(f"{where}.required: {field!r} is a ticket attribute, not a field")
            elif form is not None and field not in form:
                problems.append(f"{where}.required: field {field!r} is not in the form")
        for j, rule in enumerate(t.separation):
            for other in rule.not_actor_of:
                if other not in transition_names:
                    problems.append(f"{where}.separation[{j}]: transition {other!r} is not defined")

    if reopen is not None:
        if reopen not in state_names:
            problems.append(f"reopen: state {reopen!r} is not defined")
        elif reopen in by_state and by_state[reopen].category is not StatusCategory.OPEN:
            problems.append(
                f"reopen: state {reopen!r} has category "
                f"{by_state[reopen].category.value!r}; the reopen target must be an open state"
            )

    for i, timer in enumerate(timed):
        where = f"timed[{at('timed', i)}]"
        for key, value in timer.data.items():
            if key in RESERVED_DATA_KEYS:
                problems.append(f"{where}.data.{key}: data may not write ticket attribute {key!r}")
            elif key in CORE_FIELDS:
                bad = core_value_problem(key, value)
                if bad is not None:
                    problems.append(f"{where}.{bad[0]}: {bad[1]}")
            elif form is not None:
                if key not in form:
                    if not form.allow_unknown:
                        problems.append(f"{where}.data.{key}: field {key!r} is not in the form")
                elif value is not None:
                    problems.extend(f"{where}.data.{e}" for e in form.field(key).check_value(value))
        if timer.state not in state_names:
            problems.append(f"{where}.state: state {timer.state!r} is not defined")
        elif timer.state in by_state and by_state[timer.state].terminal:
            problems.append(f"{where}.state: state {timer.state!r} is terminal; nothing leaves it")
        found = by_transition.get(timer.transition)
        if found is None:
            if timer.transition not in transition_names:
                problems.append(
                    f"{where}.transition: transition {timer.transition!r} is not defined"
                )
        else:
            if timer.state in by_state and timer.state not in expand_sources(found, states):
                problems.append(
                    f"{where}.transition: {timer.transition!r} does not leave state {timer.state!r}"
                )
            for key in found.required:
                if key not in timer.data:
                    continue
                if timer.data[key] is None or timer.data[key] in ("", ()):
                    problems.append(
                        f"{where}.data.{key}: required by {timer.transition!r} but empty"
                    )
            if found.roles and "system" not in found.roles:
                problems.append(
                    f"{where}.transition: {timer.transition!r} is limited to roles "
                    f"{sorted(found.roles)}; a timed transition is fired by the 'system' role"
                )

    if graph and not known_states and not known_transitions:
        problems.extend(graph_problems(states, transitions))
    return problems


def graph_problems(states: Sequence[State], transitions: Sequence[Transition]) -> list[str]:
    """Unreachable states, dead ends and states that cannot end, when the graph can be built.

    The graph can be built when the state names are unique and exactly one is initial;
    transitions naming undefined states (reported elsewhere) add no edge.
    """
    import networkx as nx  # type: ignore[import-untyped, unused-ignore]

    names = [s.name for s in states]
    if not states or len(set(names)) != len(names) or sum(s.initial for s in states) != 1:
        return []
    g = build_graph(states, transitions)
    problems: list[str] = []
    initial = next(s.name for s in states if s.initial)
    reachable = nx.descendants(g, initial) | {initial}
    ends = {s.name for s in states if s.category.is_done}
    can_end: set[Any] = set()
    for end in ends:
        can_end |= nx.ancestors(g, end) | {end}
    for i, state in enumerate(states):
        where = f"states[{i}] {state.name!r}"
        if state.name not in reachable:
            problems.append(f"{where}: unreachable from the initial state {initial!r}")
        if not state.terminal and g.out_degree(state.name) == 0:
            problems.append(
                f"{where}: no transition leaves it, but only category 'closed' states are terminal"
            )
        elif state.name not in can_end:
            problems.append(f"{where}: no path leads from it to a 'solved' or 'closed' state")
    return problems
