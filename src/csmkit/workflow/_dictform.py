"""Loading a workflow from its dict form, collecting every problem with its path."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from csmkit._duration import parse_duration
from csmkit.errors import WorkflowError
from csmkit.workflow._forms import FormSchema
from csmkit.workflow._model import SeparationOfDuty, State, TimedTransition, Transition
from csmkit.workflow._validate import graph_problems, problems_of

if TYPE_CHECKING:
    from csmkit.workflow._workflow import Workflow

__all__ = ["WORKFLOW_KEYS", "workflow_from_dict"]

WORKFLOW_KEYS = frozenset(
    {"name", "version", "states", "transitions", "reopen", "timed", "form", "labels"}
    | {"description", "metadata"}
)
_STATE_KEYS = frozenset({"name", "category", "labels", "description", "initial"})
_TRANSITION_KEYS = frozenset(
    {"name", "sources", "target", "labels", "roles", "condition", "required", "separation"}
    | {"metadata"}
)
_TIMED_KEYS = frozenset({"state", "transition", "after", "clock", "since", "data"})
_SEPARATION_KEYS = frozenset({"not_actor_of", "scope"})

T = TypeVar("T")


def _messages(exc: Exception) -> list[str]:
    if isinstance(exc, WorkflowError) and exc.problems:
        return list(exc.problems)
    return [str(exc).split("\n", 1)[0] if isinstance(exc, WorkflowError) else str(exc)]


def _parse_items(
    data: Mapping[str, Any],
    key: str,
    allowed: frozenset[str],
    required: tuple[str, ...],
    build: Any,
    problems: list[str],
    known: list[str],
    positions: dict[str, list[int]],
) -> list[Any]:
    raw = data.get(key, [])
    if not isinstance(raw, list):
        problems.append(f"{key}: expected a list, got {type(raw).__name__}")
        return []
    out = []
    for i, item in enumerate(raw):
        path = f"{key}[{i}]"
        if not isinstance(item, Mapping):
            problems.append(f"{path}: expected a dict, got {type(item).__name__} {item!r}")
            continue
        name = item.get("name")
        if isinstance(name, str) and name:
            path = f"{path} {name!r}"
        bad = False
        extra = sorted(set(item) - allowed)
        if extra:
            problems.append(f"{path}: unknown key(s) {', '.join(map(repr, extra))}")
            bad = True
        missing = [k for k in required if k not in item]
        if missing:
            problems.append(f"{path}: missing key(s) {', '.join(map(repr, missing))}")
            bad = True
        if not bad:
            try:
                out.append(build(item, path, problems))
                positions.setdefault(key, []).append(i)
                continue
            except (WorkflowError, TypeError, ValueError) as exc:
                messages = _messages(exc)
        else:
            messages = []
        messages.extend(_every_problem(item, allowed, build, key))
        problems.extend(f"{path}: {m}" for m in dict.fromkeys(messages))
        if isinstance(name, str) and name:
            known.append(name)
    return out


_VALID_ITEMS: dict[str, dict[str, Any]] = {
    "states": {"name": "s", "category": "open"},
    "transitions": {"name": "t", "sources": ["s"], "target": "s"},
    "timed": {"state": "s", "transition": "t", "after": "P1D"},
}
"""A valid item of each list: one key of a broken item at a time is checked against it."""


def _every_problem(
    item: Mapping[str, Any], allowed: frozenset[str], build: Any, key: str
) -> list[str]:
    """The problems of each known key of ``item`` on its own (so none hides another)."""
    valid = _VALID_ITEMS[key]
    messages: list[str] = []
    for name in item:
        if name not in allowed or (name in valid and item[name] == valid[name]):
            continue
        try:
            build({**valid, name: item[name]}, "", [])
        except (WorkflowError, TypeError, ValueError) as exc:
            messages.extend(_messages(exc))
    return messages


def _build_state(item: Mapping[str, Any], path: str, problems: list[str]) -> State:
    initial = item.get("initial", False)
    if not isinstance(initial, bool):
        raise WorkflowError(f"initial must be true or false, got {initial!r}")
    description = item.get("description", "")
    if not isinstance(description, str):
        raise WorkflowError(f"description must be text, got {description!r}")
    return State(**dict(item))


def _build_transition(item: Mapping[str, Any], path: str, problems: list[str]) -> Transition:
    kwargs = dict(item)
    sep = kwargs.get("separation", [])
    if isinstance(sep, list):
        for j, rule in enumerate(sep):
            if isinstance(rule, Mapping):
                extra = sorted(set(rule) - _SEPARATION_KEYS)
                if extra:
                    raise WorkflowError(f"separation[{j}]: unknown key(s) {extra}")
                if "not_actor_of" not in rule:
                    raise WorkflowError(f"separation[{j}]: missing key 'not_actor_of'")
        kwargs["separation"] = [
            SeparationOfDuty(**dict(rule)) if isinstance(rule, Mapping) else rule for rule in sep
        ]
    else:
        raise WorkflowError(f"separation must be a list, got {sep!r}")
    roles = kwargs.get("roles", [])
    if isinstance(roles, str) or not isinstance(roles, list):
        raise WorkflowError(f"roles must be a list of role names, got {roles!r}")
    return Transition(**kwargs)


def _build_timed(item: Mapping[str, Any], path: str, problems: list[str]) -> TimedTransition:
    # a business day is ambiguous (24 business hours or one working day?): hours only
    parse_duration(item["after"], "after", days=item.get("clock") != "business")
    return TimedTransition(**dict(item))


def _skeletons(data: Mapping[str, Any], key: str, build: Any) -> list[Any] | None:
    """The graph part of every item of ``data[key]`` (``None`` if one lacks it)."""
    raw = data.get(key, [])
    if not isinstance(raw, list):
        return None
    out = []
    for item in raw:
        try:
            out.append(build(item))
        except (WorkflowError, TypeError, ValueError, KeyError, AttributeError):
            return None
    return out


def _graph_problems_of(
    data: Mapping[str, Any],
    states: list[State],
    transitions: list[Transition],
    known_states: list[str],
) -> list[str]:
    """Graph-shape problems of a definition that has other problems, if it can be built.

    Items that failed to parse still count with their names, categories, sources and
    targets when those are valid (a bad condition does not hide a dead end).
    """
    graph_states = _skeletons(
        data,
        "states",
        lambda item: State(
            name=item["name"], category=item["category"], initial=item.get("initial") is True
        ),
    )
    graph_transitions = _skeletons(
        data,
        "transitions",
        lambda item: Transition(name=item["name"], sources=item["sources"], target=item["target"]),
    )
    if graph_states is None or graph_transitions is None:
        return []
    return graph_problems(graph_states, graph_transitions)


def workflow_from_dict(cls: type[Workflow], data: Mapping[str, Any]) -> Workflow:
    """Parse ``data`` into ``cls``; see
    [`Workflow.from_dict()`][csmkit.workflow.Workflow.from_dict]."""
    if not isinstance(data, Mapping):
        raise WorkflowError(
            "workflow is invalid",
            problems=[f"a workflow must be a dict, got {type(data).__name__} {data!r:.60}"],
        )
    problems: list[str] = []
    extra = sorted(set(data) - WORKFLOW_KEYS)
    if extra:
        problems.append(f"unknown key(s) {', '.join(map(repr, extra))}")
    name = data.get("name")
    if not isinstance(name, str) or not name or name != name.strip():
        problems.append(f"name: must be a non-empty string, got {name!r}")
    version = data.get("version", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        problems.append(f"version: must be an integer >= 1, got {version!r}")
    known_states: list[str] = []
    known_transitions: list[str] = []
    positions: dict[str, list[int]] = {}
    states = _parse_items(
        data,
        "states",
        _STATE_KEYS,
        ("name", "category"),
        _build_state,
        problems,
        known_states,
        positions,
    )
    transitions = _parse_items(
        data,
        "transitions",
        _TRANSITION_KEYS,
        ("name", "sources", "target"),
        _build_transition,
        problems,
        known_transitions,
        positions,
    )
    timed_known: list[str] = []
    timed = _parse_items(
        data,
        "timed",
        _TIMED_KEYS,
        ("state", "transition", "after"),
        _build_timed,
        problems,
        timed_known,
        positions,
    )
    form = None
    if data.get("form") is not None:
        try:
            form = FormSchema.from_dict(data["form"])
        except WorkflowError as exc:
            problems.extend(
                f"form.{m}" if m.startswith(("fields", "allow_unknown")) else f"form: {m}"
                for m in _messages(exc)
            )
    reopen = data.get("reopen")
    if reopen is not None and (not isinstance(reopen, str) or not reopen):
        problems.append(f"reopen: must be a state name, got {reopen!r}")
        reopen = None
    kwargs: dict[str, Any] = {}
    for key in ("labels", "description", "metadata"):
        if key in data:
            kwargs[key] = data[key]
    if problems:
        problems.extend(
            problems_of(
                states,
                transitions,
                reopen=reopen,
                timed=timed,
                form=form,
                known_states=known_states,
                known_transitions=known_transitions,
                graph=False,
                positions=positions,
            )
        )
        problems.extend(_graph_problems_of(data, states, transitions, known_states))
        label = name if isinstance(name, str) else "?"
        raise WorkflowError(f"workflow {label!r} is invalid", problems=problems)
    return cls(
        name=name,  # type: ignore[arg-type]
        version=version,
        states=tuple(states),
        transitions=tuple(transitions),
        reopen=reopen,
        timed=tuple(timed),
        form=form,
        **kwargs,
    )
