"""The [`Workflow`][csmkit.workflow.Workflow] definition and its execution on ticket data."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

import attrs

from csmkit._jsonvalue import EMPTY, JsonValue, freeze_mapping, thaw
from csmkit._pickling import reduce_by_init
from csmkit._time import require_aware
from csmkit.errors import TransitionNotAllowed, WorkflowError
from csmkit.timeline import (
    Event,
    Ticket,
    TicketCreated,
    Timeline,
)
from csmkit.workflow import _fast
from csmkit.workflow._engine import Plan, TransitionRules, check_data
from csmkit.workflow._execute import fire_with_data, reference_fire_events, schedule
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
    if type(ticket_or_timeline) is Timeline:  # the common case, one type check
        return ticket_or_timeline.ticket, ticket_or_timeline
    if isinstance(ticket_or_timeline, Ticket):
        return ticket_or_timeline, None
    if isinstance(ticket_or_timeline, Timeline):
        return ticket_or_timeline.ticket, ticket_or_timeline
    raise WorkflowError(
        f"{what} must be a Ticket or a Timeline, got {type(ticket_or_timeline).__name__}"
    )


def _check_actor(actor: object) -> None:
    if not isinstance(actor, Actor):
        raise WorkflowError(f"actor must be an Actor, got {type(actor).__name__} {actor!r}")


def _data(
    form: FormSchema | None, data: object
) -> tuple[Mapping[str, JsonValue], Sequence[Reason]]:
    """The frozen transition data and the reasons against it (none for no data)."""
    if data is None or (isinstance(data, Mapping) and not data):
        return EMPTY, ()
    return check_data(form, data)


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
    _rules: TransitionRules = attrs.field(init=False, eq=False, repr=False, default=None)
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
        rules = TransitionRules(self.name, self.version, frozenset(index), plans)
        object.__setattr__(self, "_rules", rules)

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

        Every reason against it is listed (wrong state, role, invalid data — including
        values a core ticket attribute such as ``priority`` cannot take —, missing
        fields, condition, separation of duty), not only the first.
        [`fire()`][csmkit.workflow.Workflow.fire] succeeds exactly when this verdict is allowed (for
        a valid ``at`` and ``reason``).

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
        if type(ticket) is Ticket:
            current, timeline = ticket, None
        else:
            current, timeline = _split(ticket)
        if type(actor) is not Actor:
            _check_actor(actor)
        if data is None:
            return self._rules.verdict(current, timeline, transition, actor, EMPTY, ())
        frozen, data_reasons = _data(self.form, data)
        return self._rules.verdict(current, timeline, transition, actor, frozen, data_reasons)

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
            TransitionNotAllowed: [`check()`][csmkit.workflow.Workflow.check] finds a reason;
                ``exc.verdict`` holds its verdict (every reason).
            WorkflowError: bad argument types or a naive ``at``.
            TimelineError: ``at`` is earlier than the ticket's latest event, or
                ``reason`` is not a non-empty text.
        """
        if type(at) is not datetime or type(at.tzinfo) is not timezone:
            _aware(at, "at")
        if type(ticket) is Ticket:
            current, timeline = ticket, None
        else:
            current, timeline = _split(ticket)
        if type(actor) is not Actor:
            _check_actor(actor)
        rules = self._rules
        if data is None:
            frozen: Mapping[str, JsonValue] = EMPTY
            data_reasons: Sequence[Reason] = ()
        else:
            frozen, data_reasons = _data(self.form, data)
        plan = self._plans.get(transition) if type(transition) is str else rules.plan(transition)
        first = rules.reasons(current, timeline, transition, plan, actor, frozen, data_reasons)
        if plan is None or next(first, None) is not None:
            verdict = rules.verdict(current, timeline, transition, actor, frozen, data_reasons)
            raise TransitionNotAllowed(verdict.explain(), verdict=verdict)
        every = self.observers + tuple(observers) if observers else self.observers
        if not every and not frozen and reason is None and at >= current.updated_at:
            # the common case, inlined: no observers, no data, valid reason and instant
            event = _fast.status_changed(
                current.id, at, actor.id, current.status, plan.target, plan.category, plan.name,
                None,
            )  # fmt: skip
            return _fast.enter(current, plan.target, plan.category, at, current.version + 1), (
                event,
            )
        context = None
        if every:
            context = TransitionContext(
                workflow=self,
                ticket=current,
                transition=plan.transition,
                actor=actor,
                at=at,
                data=frozen,
                verdict=Verdict(transition=plan.name, status=current.status, target=plan.target),
            )
            for observer in every:
                observer.before_transition(context)
        new, result = self._events(current, plan, actor, at, frozen, reason)
        if context is not None:
            for observer in every:
                observer.after_transition(context, new, result)
        return new, result

    def _events(
        self,
        current: Ticket,
        plan: Plan,
        actor: Actor,
        at: datetime,
        frozen: Mapping[str, JsonValue],
        reason: str | None,
    ) -> tuple[Ticket, tuple[Event, ...]]:
        """The new ticket and the events of an allowed transition."""
        if at < current.updated_at or not (
            reason is None or (type(reason) is str and reason)
        ):  # the validating constructors and Ticket.apply raise the timeline's errors
            return reference_fire_events(
                current,
                plan.name,
                self._state_index[plan.target],
                actor=actor.id,
                at=at,
                data=frozen,
                reason=reason,
            )
        if frozen:
            return fire_with_data(current, plan, actor.id, at, frozen, reason)
        event = _fast.status_changed(
            current.id,
            at,
            actor.id,
            current.status,
            plan.target,
            plan.category,
            plan.name,
            reason,
        )
        new = _fast.enter(current, plan.target, plan.category, at, current.version + 1)
        return new, (event,)

    def available(
        self, ticket: Ticket | Timeline, actor: Actor, *, data: Mapping[str, Any] | None = None
    ) -> tuple[Transition, ...]:
        """The transitions ``actor`` may take now, for UI buttons.

        Exactly the outgoing transitions whose [`check()`][csmkit.workflow.Workflow.check] verdict
        has no reason other than ``missing_field``: the UI collects required fields when the button
        is pressed. With the fields in ``data`` (or on the ticket), a transition is
        available exactly when [`fire()`][csmkit.workflow.Workflow.fire] would succeed.

        Raises:
            WorkflowError: ``ticket`` or ``actor`` is not of the right type.
        """
        current, timeline = _split(ticket)
        _check_actor(actor)
        frozen, data_reasons = _data(self.form, data)
        rules = self._rules
        out = []
        for candidate in self._outgoing.get(current.status, ()):
            plan = self._plans[candidate.name]
            found = rules.reasons(
                current, timeline, candidate.name, plan, actor, frozen, data_reasons
            )
            if all(reason.code == "missing_field" for reason in found):
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
