"""The [`Workflow`][csmkit.workflow.Workflow] definition and its execution on ticket data."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

import attrs

from csmkit._jsonvalue import EMPTY, JsonValue, freeze_mapping, thaw
from csmkit._pickling import reduce_by_init
from csmkit._time import require_aware
from csmkit.errors import ConditionError, TransitionNotAllowed, WorkflowError
from csmkit.timeline import (
    Event,
    Ticket,
    TicketCreated,
    Timeline,
)
from csmkit.workflow import _fast
from csmkit.workflow._execute import (
    Plan,
    check_data,
    condition_context,
    fire_with_data,
    present,
    reference_fire_events,
    schedule,
    separation_reasons,
)
from csmkit.workflow._forms import FormSchema
from csmkit.workflow._model import (
    Actor,
    Labels,
    State,
    TimedTransition,
    Transition,
    _labels_to_dict,
    label_of,
    to_labels,
)
from csmkit.workflow._validate import expand_sources, problems_of
from csmkit.workflow._verdict import (
    BusinessClock,
    Due,
    Observer,
    Reason,
    TransitionContext,
    Verdict,
)

__all__ = ["Workflow"]


def _tuple_of(kind: type[Any], value: Iterable[Any]) -> tuple[Any, ...]:
    items = tuple(value)
    for item in items:
        if not isinstance(item, kind):
            raise WorkflowError(
                f"expected {kind.__name__} items, got {type(item).__name__} {item!r} "
                "(use Workflow.from_dict for the dict form)"
            )
    return items


def _states(value: Iterable[State]) -> tuple[State, ...]:
    return _tuple_of(State, value)


def _transitions(value: Iterable[Transition]) -> tuple[Transition, ...]:
    return _tuple_of(Transition, value)


def _timed(value: Iterable[TimedTransition]) -> tuple[TimedTransition, ...]:
    return _tuple_of(TimedTransition, value)


def _meta(value: object) -> Mapping[str, JsonValue]:
    try:
        return freeze_mapping(value if value is not None else {}, "metadata")
    except ValueError as exc:
        raise WorkflowError(str(exc)) from None


def _split(
    ticket_or_timeline: Ticket | Timeline, what: str = "ticket"
) -> tuple[Ticket, Timeline | None]:
    if isinstance(ticket_or_timeline, Ticket):
        return ticket_or_timeline, None
    if isinstance(ticket_or_timeline, Timeline):
        return ticket_or_timeline.ticket, ticket_or_timeline
    raise WorkflowError(
        f"{what} must be a Ticket or a Timeline, got {type(ticket_or_timeline).__name__}"
    )


def _aware(value: object, name: str) -> datetime:
    return require_aware(value, name, WorkflowError)


@attrs.frozen(kw_only=True)
class Workflow:
    """An immutable workflow definition: states, transitions and their rules.

    One definition serves every ticket: a ticket carries only its state name (plus the
    workflow's name and version). Build one with [`from_dict()`][csmkit.workflow.Workflow.from_dict]
    (the usual way) or from [`State`][csmkit.workflow.State] /
    [`Transition`][csmkit.workflow.Transition] values; either way the definition is validated and
    every problem is reported at once in a [`WorkflowError`][csmkit.errors.WorkflowError].

    Attributes:
        name: The workflow name, stored on tickets (``Ticket.workflow``).
        version: The definition version, stored on tickets (``Ticket.workflow_version``).
        states: The states; exactly one has ``initial=True``.
        transitions: The transitions; names are unique.
        reopen: The state a customer reply moves a solved ticket back to (category open).
        timed: Timed transitions, evaluated by
            [`due_transitions()`][csmkit.workflow.Workflow.due_transitions].
        form: The ticket type's form, if any: ``required`` names must be form fields and
            data written by transitions is type-checked against it.
        labels: ``{audience: {language: text}}`` names of the workflow itself.
        description: Free text.
        metadata: Free JSON-safe data.
        observers: [`Observer`][csmkit.workflow.Observer] instances called by
            [`fire()`][csmkit.workflow.Workflow.fire] (not part of the
            definition: ignored by equality and [`to_dict()`][csmkit.workflow.Workflow.to_dict]).

    Raises:
        WorkflowError: the definition is invalid; ``problems`` lists every problem.
    """

    name: str = attrs.field()
    version: int = attrs.field(default=1)
    states: tuple[State, ...] = attrs.field(converter=_states)
    transitions: tuple[Transition, ...] = attrs.field(converter=_transitions)
    reopen: str | None = attrs.field(default=None)
    timed: tuple[TimedTransition, ...] = attrs.field(default=(), converter=_timed)
    form: FormSchema | None = attrs.field(default=None)
    labels: Labels = attrs.field(default=EMPTY, converter=to_labels)
    description: str = attrs.field(default="")
    metadata: Mapping[str, JsonValue] = attrs.field(default=EMPTY, converter=_meta)
    observers: tuple[Observer, ...] = attrs.field(default=(), eq=False, repr=False)
    _state_index: Mapping[str, State] = attrs.field(init=False, eq=False, repr=False, default=EMPTY)
    _transition_index: Mapping[str, Transition] = attrs.field(
        init=False, eq=False, repr=False, default=EMPTY
    )
    _plans: Mapping[str, Plan] = attrs.field(init=False, eq=False, repr=False, default=EMPTY)
    _sources: Mapping[str, frozenset[str]] = attrs.field(
        init=False, eq=False, repr=False, default=EMPTY
    )
    _outgoing: Mapping[str, tuple[Transition, ...]] = attrs.field(
        init=False, eq=False, repr=False, default=EMPTY
    )

    def __reduce__(self) -> tuple[Any, ...]:
        # The indexes and plans are derived: pickle the definition, rebuild on load.
        return reduce_by_init(self)

    def __attrs_post_init__(self) -> None:
        problems: list[str] = []
        name: object = self.name
        version: object = self.version
        form: object = self.form
        description: object = self.description
        if not isinstance(name, str) or not name or name != name.strip():
            problems.append(f"name: must be a non-empty string, got {name!r}")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            problems.append(f"version: must be an integer >= 1, got {version!r}")
        if form is not None and not isinstance(form, FormSchema):
            problems.append(f"form: must be a FormSchema, got {type(form).__name__}")
        if not isinstance(description, str):
            problems.append(f"description: must be text, got {description!r}")
        observers: tuple[object, ...] = self.observers
        for obs in observers:
            if not isinstance(obs, Observer):
                problems.append(f"observers: {obs!r} is not an Observer")
        problems.extend(
            problems_of(
                self.states,
                self.transitions,
                reopen=self.reopen,
                timed=self.timed,
                form=self.form if isinstance(self.form, FormSchema) else None,
            )
        )
        if problems:
            raise WorkflowError(
                f"workflow {self.name!r} v{self.version} is invalid", problems=problems
            )
        sources = {t.name: frozenset(expand_sources(t, self.states)) for t in self.transitions}
        outgoing = {
            s.name: tuple(t for t in self.transitions if s.name in sources[t.name])
            for s in self.states
        }
        object.__setattr__(self, "_state_index", {s.name: s for s in self.states})
        object.__setattr__(self, "_transition_index", {t.name: t for t in self.transitions})
        object.__setattr__(self, "_sources", sources)
        object.__setattr__(self, "_outgoing", outgoing)
        index = {s.name: s for s in self.states}
        plans = {t.name: Plan(t, sources[t.name], index[t.target]) for t in self.transitions}
        object.__setattr__(self, "_plans", plans)

    # ------------------------------------------------------------------ dict form
    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Workflow:
        """Build and validate a workflow from its dict form (see ``WORKFLOW_SCHEMA``).

        Raises:
            WorkflowError: every problem found, each with its path
                (``transitions[3] 'dispatch'.target: state 'onsite' is not defined``).
        """
        from csmkit.workflow._dictform import workflow_from_dict

        return workflow_from_dict(cls, data)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-safe dict form; ``Workflow.from_dict(wf.to_dict()) == wf``."""
        out: dict[str, Any] = {"name": self.name, "version": self.version}
        if self.labels:
            out["labels"] = _labels_to_dict(self.labels)
        if self.description:
            out["description"] = self.description
        out["states"] = [s.to_dict() for s in self.states]
        out["transitions"] = [t.to_dict() for t in self.transitions]
        if self.reopen is not None:
            out["reopen"] = self.reopen
        if self.timed:
            out["timed"] = [t.to_dict() for t in self.timed]
        if self.form is not None:
            out["form"] = self.form.to_dict()
        if self.metadata:
            out["metadata"] = thaw(self.metadata)
        return out

    def with_observers(self, *observers: Observer) -> Workflow:
        """The same definition with ``observers`` appended to `observers`."""
        return attrs.evolve(self, observers=self.observers + observers)

    # ------------------------------------------------------------------ lookups
    @property
    def initial(self) -> State:
        """The state new tickets start in."""
        return next(s for s in self.states if s.initial)

    def state(self, name: str) -> State:
        """The state called ``name``.

        Raises:
            WorkflowError: no such state.
        """
        try:
            return self._state_index[name]
        except KeyError:
            raise WorkflowError(f"workflow {self.name!r} has no state {name!r}") from None

    def transition(self, name: str) -> Transition:
        """The transition called ``name``.

        Raises:
            WorkflowError: no such transition.
        """
        try:
            return self._transition_index[name]
        except KeyError:
            raise WorkflowError(f"workflow {self.name!r} has no transition {name!r}") from None

    def sources_of(self, transition: str) -> frozenset[str]:
        """The concrete states ``transition`` may leave (``"*"`` expanded)."""
        return self._sources[self.transition(transition).name]

    def outgoing(self, state: str) -> tuple[Transition, ...]:
        """The transitions that leave ``state``, in definition order."""
        return self._outgoing[self.state(state).name]

    def label(self, lang: str = "en", audience: str = "agent") -> str:
        """The workflow's own label, falling back to its name."""
        return label_of(self.labels, self.name, lang, audience)

    def created_event(
        self,
        *,
        ticket_id: str,
        at: datetime,
        type: str,  # the event's own field name
        channel: str,
        **kwargs: Any,
    ) -> TicketCreated:
        """A [`TicketCreated`][csmkit.timeline.TicketCreated] in this workflow's initial state.

        ``status``, ``category``, ``workflow`` and ``workflow_version`` are filled in;
        other keyword arguments go to the event. When the workflow has a form, the
        fields are validated against it first.

        Raises:
            WorkflowError: the fields break the form (every error listed).
        """
        fields = kwargs.get("fields", {})
        if self.form is not None:
            result = self.form.validate(fields)
            if not result.ok:
                raise WorkflowError(
                    f"ticket {ticket_id!r}: fields do not match the form of workflow {self.name!r}",
                    problems=[str(e) for e in result.errors],
                )
            kwargs["fields"] = result.values
        start = self.initial
        return TicketCreated(
            ticket_id=ticket_id,
            at=at,
            type=type,
            channel=channel,
            status=start.name,
            category=start.category,
            workflow=self.name,
            workflow_version=self.version,
            **kwargs,
        )

    # ------------------------------------------------------------------ execution
    def check(
        self,
        ticket: Ticket | Timeline,
        transition: str,
        *,
        actor: Actor,
        data: Mapping[str, Any] | None = None,
    ) -> Verdict:
        """Whether ``actor`` may fire ``transition`` on ``ticket`` with ``data``: pure.

        Every reason against it is listed (wrong state, role, condition, missing
        fields, invalid data, separation of duty), not only the first.

        Args:
            ticket: The ticket, or its [`Timeline`][csmkit.timeline.Timeline] (needed by
                separation-of-duty rules, which read who fired earlier transitions).
            transition: The transition name.
            actor: Who would fire it.
            data: Field values the transition would write (and that count for
                ``required``).

        Raises:
            WorkflowError: ``ticket`` or ``actor`` is not of the right type.
        """
        current, timeline = _split(ticket)
        if not isinstance(actor, Actor):
            raise WorkflowError(f"actor must be an Actor, got {type(actor).__name__} {actor!r}")
        status = current.status
        reasons: list[Reason] = []
        if current.workflow is not None and (
            current.workflow != self.name
            or (current.workflow_version is not None and current.workflow_version != self.version)
        ):
            reasons.append(
                Reason(
                    "workflow_mismatch",
                    f"ticket {current.id!r} follows workflow {current.workflow!r} "
                    f"v{current.workflow_version}, not {self.name!r} v{self.version}",
                )
            )
        found = self._transition_index.get(transition)
        if found is None:
            reasons.append(
                Reason(
                    "unknown_transition",
                    f"workflow {self.name!r} has no transition {transition!r}",
                )
            )
            return Verdict(
                transition=str(transition), status=status, target=None, reasons=tuple(reasons)
            )
        if status not in self._state_index:
            reasons.append(
                Reason(
                    "unknown_state", f"state {status!r} is not a state of workflow {self.name!r}"
                )
            )
        elif status not in self._sources[found.name]:
            reasons.append(
                Reason(
                    "wrong_state",
                    f"{found.name!r} cannot be fired from {status!r} "
                    f"(only from {sorted(self._sources[found.name])})",
                )
            )
        if found.roles and found.roles.isdisjoint(actor.roles):
            reasons.append(
                Reason(
                    "role",
                    f"actor {actor.id!r} with roles {sorted(actor.roles)} holds none of "
                    f"{sorted(found.roles)}",
                )
            )
        frozen: Mapping[str, JsonValue] = EMPTY
        if data:
            frozen, data_reasons = self._check_data(data)
            reasons.extend(data_reasons)
        fields = current.fields
        for name in found.required:
            if not present(frozen.get(name)) and not (
                name not in frozen and present(fields.get(name))
            ):
                reasons.append(Reason("missing_field", f"field {name!r} is required"))
        if found.condition is not None:
            context = condition_context(current, frozen, actor, self._plans[found.name].needs_actor)
            try:
                if not found.condition.evaluate(context):
                    reasons.append(
                        Reason("condition", f"condition {str(found.condition)!r} does not hold")
                    )
            except ConditionError as exc:
                reasons.append(
                    Reason("condition", f"condition {str(found.condition)!r} failed: {exc}")
                )
        if found.separation:
            reasons.extend(separation_reasons(found, actor, timeline))
        return Verdict(
            transition=found.name, status=status, target=found.target, reasons=tuple(reasons)
        )

    def _check_data(self, data: object) -> tuple[Mapping[str, JsonValue], list[Reason]]:
        return check_data(self.form, data)

    def fire(
        self,
        ticket: Ticket | Timeline,
        transition: str,
        *,
        actor: Actor,
        at: datetime,
        data: Mapping[str, Any] | None = None,
        reason: str | None = None,
        observers: Sequence[Observer] = (),
    ) -> tuple[Ticket, tuple[Event, ...]]:
        """Fire ``transition`` and return the new ticket and the events to record.

        The events are one [`FieldChanged`][csmkit.timeline.FieldChanged] per data item whose
        value differs from the ticket's (in ``data`` order), then one
        [`StatusChanged`][csmkit.timeline.StatusChanged]. Nothing is stored and ``ticket`` is
        not modified: append the events to the ticket's timeline yourself.

        Args:
            ticket: The ticket or its timeline (see [`check()`][csmkit.workflow.Workflow.check]).
            transition: The transition name.
            actor: Who fires it (``actor.id`` is written on the events).
            at: When (timezone-aware, not before the ticket's latest event).
            data: Field values to write.
            reason: Free text stored on the ``StatusChanged`` event.
            observers: Extra observers for this call, after `observers`.

        Raises:
            TransitionNotAllowed: the verdict has reasons; ``exc.verdict`` holds it.
            WorkflowError: bad argument types or a naive ``at``.
            TimelineError: ``at`` is earlier than the ticket's latest event.
        """
        if type(at) is not datetime or type(at.tzinfo) is not timezone:
            _aware(at, "at")
        current = ticket if type(ticket) is Ticket else _split(ticket)[0]
        plan = self._plans.get(transition) if type(transition) is str else None
        frozen: Mapping[str, JsonValue] = EMPTY
        verdict: Verdict | None = None
        if data:
            problems = [Reason("invalid_data", "not a mapping")]
            if isinstance(data, Mapping):
                frozen, problems = self._check_data(data)
            if problems:
                verdict = self.check(ticket, transition, actor=actor, data=data)
        if verdict is None and (
            plan is None
            or type(actor) is not Actor
            or not self._quick_allowed(plan, current, actor, frozen)
        ):
            verdict = self.check(ticket, transition, actor=actor, data=data)
        if verdict is not None and verdict.reasons:
            raise TransitionNotAllowed(verdict.explain(), verdict=verdict)
        found = self._plans[transition]
        every = self.observers + tuple(observers) if observers else self.observers
        context = None
        if every:
            if verdict is None:
                verdict = Verdict(transition=found.name, status=current.status, target=found.target)
            context = TransitionContext(
                workflow=self,
                ticket=current,
                transition=found.transition,
                actor=actor,
                at=at,
                data=frozen,
                verdict=verdict,
            )
            for observer in every:
                observer.before_transition(context)
        if at < current.updated_at or not (
            reason is None or (type(reason) is str and reason)
        ):  # the validating constructors and Ticket.apply raise the timeline's errors
            new, result = reference_fire_events(
                current,
                found.name,
                self._state_index[found.target],
                actor=actor.id,
                at=at,
                data=frozen,
                reason=reason,
            )
        elif frozen:
            new, result = fire_with_data(current, found, actor.id, at, frozen, reason)
        else:
            event = _fast.status_changed(
                current.id,
                at,
                actor.id,
                current.status,
                found.target,
                found.category,
                found.name,
                reason,
            )
            new = _fast.enter(current, found.target, found.category, at, current.version + 1)
            result = (event,)
        if context is not None:
            for observer in every:
                observer.after_transition(context, new, result)
        return new, result

    def _quick_allowed(
        self, plan: Plan, current: Ticket, actor: Actor, frozen: Mapping[str, JsonValue]
    ) -> bool:
        """True only if [`check()`][csmkit.workflow.Workflow.check] would find no reason (false
        means: ask ``check``).

        Separation-of-duty rules always go to ``check``; the other tests are the same
        as ``check``'s, without building messages.
        """
        if plan.separation:
            return False
        workflow = current.workflow
        if workflow is not None and (
            workflow != self.name
            or (current.workflow_version is not None and current.workflow_version != self.version)
        ):
            return False
        if current.status not in plan.sources:
            return False
        roles = plan.roles
        if roles and roles.isdisjoint(actor.roles):
            return False
        if plan.required:
            fields = current.fields
            for name in plan.required:
                if not present(frozen.get(name)) and not (
                    name not in frozen and present(fields.get(name))
                ):
                    return False
        condition = plan.condition
        if condition is not None:
            try:
                return bool(
                    condition.evaluate(condition_context(current, frozen, actor, plan.needs_actor))
                )
            except ConditionError:
                return False
        return True

    def available(
        self, ticket: Ticket | Timeline, actor: Actor, *, data: Mapping[str, Any] | None = None
    ) -> tuple[Transition, ...]:
        """The transitions ``actor`` may take now, for UI buttons.

        A transition whose only obstacles are missing required fields is included: the
        UI collects those fields when the button is pressed.
        """
        current, _ = _split(ticket)
        out = []
        for candidate in self._outgoing.get(current.status, ()):
            verdict = self.check(ticket, candidate.name, actor=actor, data=data)
            if all(code == "missing_field" for code in verdict.codes):
                out.append(candidate)
        return tuple(out)

    # ------------------------------------------------------------------ timers
    def scheduled_transitions(
        self, ticket: Ticket | Timeline, calendar: BusinessClock | None = None
    ) -> tuple[Due, ...]:
        """Every timed transition of the ticket's current state, with its due instant.

        Args:
            ticket: The ticket or its timeline. A bare ticket is enough for
                ``since="updated"`` rules, and for ``since="entered"`` only while the
                ticket has never changed (otherwise pass the timeline).
            calendar: Adds business time for ``clock="business"`` rules (any object with
                ``add(at, delta)``, e.g. ``csmkit.sla.BusinessCalendar``).

        Raises:
            WorkflowError: a business-time rule applies and no calendar was given, or
                entry time is unknown for a bare ticket.
        """
        current, timeline = _split(ticket)
        return schedule(self.timed, current, timeline, calendar)

    def due_transitions(
        self,
        ticket: Ticket | Timeline,
        now: datetime,
        calendar: BusinessClock | None = None,
    ) -> tuple[Due, ...]:
        """The timed transitions due at ``now`` (``due_at <= now``), earliest first. Pure.

        Fire each with ``wf.fire(ticket, due.transition, actor=Actor.system(),
        at=due.due_at, data=due.data)``; see
        [`scheduled_transitions()`][csmkit.workflow.Workflow.scheduled_transitions] for the
        arguments and errors.

        Raises:
            WorkflowError: ``now`` is naive, or see
                [`scheduled_transitions()`][csmkit.workflow.Workflow.scheduled_transitions].
        """
        _aware(now, "now")
        return tuple(
            due for due in self.scheduled_transitions(ticket, calendar) if due.due_at <= now
        )

    # ------------------------------------------------------------------ exports
    def to_networkx(self) -> Any:
        """A networkx ``MultiDiGraph`` of the states and transitions (see ``build_graph``)."""
        from csmkit.workflow._validate import build_graph

        return build_graph(self.states, self.transitions)

    def to_mermaid(self, *, current: str | None = None, lang: str | None = None) -> str:
        """A Mermaid ``stateDiagram-v2``; ``current`` highlights a state; ``lang`` labels."""
        from csmkit.workflow._export import to_mermaid

        return to_mermaid(self, current=current, lang=lang)

    def to_dot(self, *, current: str | None = None, lang: str | None = None) -> str:
        """A Graphviz DOT digraph; ``current`` highlights a state; ``lang`` labels."""
        from csmkit.workflow._export import to_dot

        return to_dot(self, current=current, lang=lang)

    def to_table(self, *, lang: str = "en") -> str:
        """A plain-text table of transitions: name, from, to, roles, required, condition."""
        from csmkit.workflow._export import to_table

        return to_table(self, lang=lang)
