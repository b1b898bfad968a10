"""The transition engine: the one place that says why a transition may not fire.

`TransitionRules.reasons()` yields every reason against firing a transition, in a
fixed order. [`Workflow.check()`][csmkit.workflow.Workflow.check] collects all of them into a
[`Verdict`][csmkit.workflow.Verdict]; [`Workflow.fire()`][csmkit.workflow.Workflow.fire] and
[`Workflow.available()`][csmkit.workflow.Workflow.available] stop at the first one (``fire`` then
asks for the full verdict to put on [`TransitionNotAllowed`][csmkit.errors.TransitionNotAllowed]). A
new rule is written here once, so ``check``, ``fire`` and ``available`` cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from csmkit._jsonvalue import EMPTY, JsonValue, freeze
from csmkit.conditions import Condition
from csmkit.errors import ConditionError
from csmkit.timeline import (
    CORE_FIELDS,
    StatusCategory,
    StatusChanged,
    Ticket,
    Timeline,
)
from csmkit.workflow._forms import FormSchema
from csmkit.workflow._model import Actor, State, Transition
from csmkit.workflow._validate import RESERVED_DATA_KEYS, core_value_problem
from csmkit.workflow._verdict import Reason, Verdict

__all__ = [
    "Plan",
    "TransitionRules",
    "check_data",
    "condition_context",
    "present",
]


def present(value: object) -> bool:
    """Whether a field value counts as given for ``required`` (not None, "" or empty)."""
    return value is not None and value != "" and value != ()


class Plan:
    """What the engine needs of one transition, computed once per definition."""

    __slots__ = (
        "category",
        "condition",
        "name",
        "needs_actor",
        "required",
        "roles",
        "separation",
        "sources",
        "target",
        "transition",
    )

    def __init__(self, transition: Transition, sources: frozenset[str], target: State) -> None:
        self.transition = transition
        self.name: str = transition.name
        self.sources = sources
        self.target: str = target.name
        self.category: StatusCategory = target.category
        self.roles: frozenset[str] = transition.roles
        self.condition: Condition | None = transition.condition
        self.needs_actor = transition.condition is not None and any(
            name.split(".", 1)[0] == "actor" for name in transition.condition.names
        )
        self.required: tuple[str, ...] = transition.required
        self.separation = bool(transition.separation)


def condition_context(
    current: Ticket,
    frozen: Mapping[str, JsonValue],
    actor: Actor,
    needs_actor: bool,
) -> dict[str, Any]:
    """What a transition condition sees (``actor`` only built when it is read)."""
    fields = current.fields
    context: dict[str, Any] = {
        "ticket": current,
        "fields": {**fields, **frozen} if frozen else fields,
        "data": frozen,
    }
    if needs_actor:
        context["actor"] = actor.to_dict()
    return context


def _core_value_reason(key: str, value: JsonValue) -> Reason | None:
    """Why ``value`` cannot be written to the core ticket attribute ``key``, if it cannot."""
    found = core_value_problem(key, value)
    return None if found is None else Reason("invalid_data", f"{found[0]}: {found[1]}", found[0])


def check_data(
    form: FormSchema | None, data: object
) -> tuple[Mapping[str, JsonValue], list[Reason]]:
    """Check and freeze a transition's data: the frozen data and every reason against it."""
    if not isinstance(data, Mapping):
        message = f"data must be a mapping, got {type(data).__name__}"
        return EMPTY, [Reason("invalid_data", message, "data")]
    reasons: list[Reason] = []
    clean: dict[str, Any] = {}
    for key, value in data.items():
        if not isinstance(key, str) or not key:
            reasons.append(Reason("invalid_data", f"data key {key!r} is not a field name", "data"))
            continue
        path = f"data.{key}"
        if key in RESERVED_DATA_KEYS:
            message = f"data may not write ticket attribute {key!r}"
            reasons.append(Reason("invalid_data", message, path))
            continue
        try:
            clean[key] = freeze(value, path)
        except ValueError as exc:
            reasons.append(Reason("invalid_data", str(exc), path))
            continue
        if key in CORE_FIELDS:
            core = _core_value_reason(key, clean[key])
            if core is not None:
                reasons.append(core)
        elif form is not None:
            if key not in form:
                if not form.allow_unknown:
                    reasons.append(Reason("form", f"{key}: is not a field of the form", path))
            elif clean[key] is not None:
                reasons.extend(
                    Reason("form", str(e), path) for e in form.field(key).check_value(clean[key])
                )
    return MappingProxyType(clean), reasons


def _separation_reasons(
    transition: Transition, actor: Actor, timeline: Timeline | None
) -> Iterator[Reason]:
    """The separation-of-duty reasons against ``actor`` firing ``transition``."""
    if timeline is None:
        yield Reason(
            "history_needed",
            f"{transition.name!r} has a separation-of-duty rule; pass the ticket's "
            "Timeline instead of the Ticket",
            "ticket",
        )
        return
    changes = [e for e in timeline if isinstance(e, StatusChanged)]
    for rule in transition.separation:
        for name in rule.not_actor_of:
            actors = [e.actor for e in changes if e.transition == name]
            if rule.scope == "last":
                actors = actors[-1:]
            if actor.id in actors:
                which = "last fired" if rule.scope == "last" else "fired"
                yield Reason(
                    "separation_of_duty",
                    f"actor {actor.id!r} {which} {name!r} and may not fire {transition.name!r}",
                    "actor.id",
                )


class TransitionRules:
    """The compiled rules of one workflow definition (built once by ``Workflow``)."""

    __slots__ = ("name", "plans", "states", "version")

    def __init__(
        self, name: str, version: int, states: frozenset[str], plans: Mapping[str, Plan]
    ) -> None:
        self.name = name
        self.version = version
        self.states = states
        self.plans = plans

    def plan(self, transition: object) -> Plan | None:
        """The plan of the transition called ``transition`` (``None``: no such transition)."""
        return self.plans.get(transition) if isinstance(transition, str) else None

    def reasons(
        self,
        current: Ticket,
        timeline: Timeline | None,
        transition: object,
        plan: Plan | None,
        actor: Actor,
        frozen: Mapping[str, JsonValue],
        data_reasons: Sequence[Reason],
    ) -> Iterator[Reason]:
        """Every reason against ``actor`` firing ``transition`` on ``current``, in order.

        ``plan`` is `plan()` of ``transition``; ``frozen`` and ``data_reasons`` are
        `check_data()`'s answer for the data.
        Messages are only built for reasons that exist, so taking the first one (or
        finding none) costs little more than the tests themselves.
        """
        workflow = current.workflow
        if workflow is not None and (
            workflow != self.name
            or (current.workflow_version is not None and current.workflow_version != self.version)
        ):
            yield Reason(
                "workflow_mismatch",
                f"ticket {current.id!r} follows workflow {workflow!r} "
                f"v{current.workflow_version}, not {self.name!r} v{self.version}",
                "ticket.workflow",
            )
        if plan is None:
            yield Reason(
                "unknown_transition",
                f"workflow {self.name!r} has no transition {transition!r}",
                "transition",
            )
            return
        status = current.status
        if status not in plan.sources:
            if status not in self.states:
                yield Reason(
                    "unknown_state",
                    f"state {status!r} is not a state of workflow {self.name!r}",
                    "ticket.status",
                )
            else:
                yield Reason(
                    "wrong_state",
                    f"{plan.name!r} cannot be fired from {status!r} "
                    f"(only from {sorted(plan.sources)})",
                    "ticket.status",
                )
        roles = plan.roles
        if roles and roles.isdisjoint(actor.roles):
            yield Reason(
                "role",
                f"actor {actor.id!r} with roles {sorted(actor.roles)} holds none of "
                f"{sorted(roles)}",
                "actor.roles",
            )
        if data_reasons:
            yield from data_reasons
        if plan.required:
            fields = current.fields
            for name in plan.required:
                if not present(frozen.get(name)) and not (
                    name not in frozen and present(fields.get(name))
                ):
                    yield Reason("missing_field", f"field {name!r} is required", f"data.{name}")
        condition = plan.condition
        if condition is not None:
            context = condition_context(current, frozen, actor, plan.needs_actor)
            try:
                holds = condition.evaluate(context)
            except ConditionError as exc:
                yield Reason(
                    "condition", f"condition {str(condition)!r} failed: {exc}", "condition"
                )
            else:
                if not holds:
                    yield Reason(
                        "condition", f"condition {str(condition)!r} does not hold", "condition"
                    )
        if plan.separation:
            yield from _separation_reasons(plan.transition, actor, timeline)

    def verdict(
        self,
        current: Ticket,
        timeline: Timeline | None,
        transition: object,
        actor: Actor,
        frozen: Mapping[str, JsonValue],
        data_reasons: Sequence[Reason],
    ) -> Verdict:
        """Every reason of `reasons()`, collected into a [`Verdict`][csmkit.workflow.Verdict]."""
        plan = self.plans.get(transition) if type(transition) is str else self.plan(transition)
        reasons = tuple(
            self.reasons(current, timeline, transition, plan, actor, frozen, data_reasons)
        )
        if plan is None:
            return Verdict(
                transition=str(transition), status=current.status, target=None, reasons=reasons
            )
        return Verdict(
            transition=plan.name, status=current.status, target=plan.target, reasons=reasons
        )
