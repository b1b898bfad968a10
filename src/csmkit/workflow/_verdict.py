"""Results of checking a transition, and the observer interface around firing one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import attrs

from csmkit._jsonvalue import EMPTY, JsonValue, thaw
from csmkit.timeline import Event, Ticket

if TYPE_CHECKING:
    from csmkit.workflow._model import Actor, Transition
    from csmkit.workflow._workflow import Workflow

__all__ = [
    "REASON_CODES",
    "BusinessClock",
    "Due",
    "Observer",
    "Reason",
    "TransitionContext",
    "Verdict",
]

REASON_CODES: tuple[str, ...] = (
    "unknown_transition",
    "unknown_state",
    "workflow_mismatch",
    "wrong_state",
    "role",
    "condition",
    "missing_field",
    "invalid_data",
    "form",
    "separation_of_duty",
    "history_needed",
)
"""Every `Reason.code` a [`Verdict`][csmkit.workflow.Verdict] may carry."""


@attrs.frozen
class Reason:
    """One reason a transition is not allowed.

    Attributes:
        code: One of [`REASON_CODES`][csmkit.workflow.REASON_CODES].
        message: A human explanation naming the values involved.
        path: Where the problem is: ``"transition"``, ``"ticket.status"``,
            ``"actor.roles"``, ``"data.priority"``, ``"condition"`` … (``""`` if nowhere
            in particular).
    """

    code: str
    message: str
    path: str = ""

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


@attrs.frozen(kw_only=True)
class Verdict:
    """Whether ``transition`` may be fired now, and every reason it may not.

    Truthy when allowed.

    Attributes:
        transition: The transition name asked about.
        status: The ticket's state when checked.
        target: The state it would enter (``None`` for an unknown transition).
        reasons: Every reason it is not allowed (empty when allowed).
    """

    transition: str
    status: str
    target: str | None
    reasons: tuple[Reason, ...] = ()

    @property
    def allowed(self) -> bool:
        """Whether there is no reason against it."""
        return not self.reasons

    def __bool__(self) -> bool:
        return not self.reasons

    @property
    def codes(self) -> tuple[str, ...]:
        """The reason codes, in order."""
        return tuple(reason.code for reason in self.reasons)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (for APIs explaining a disabled button)."""
        return {
            "transition": self.transition,
            "status": self.status,
            "target": self.target,
            "allowed": self.allowed,
            "reasons": [
                {"code": r.code, "message": r.message, "path": r.path} for r in self.reasons
            ],
        }

    def explain(self) -> str:
        """One line per reason, or ``"allowed"``."""
        if not self.reasons:
            return f"{self.transition!r} from {self.status!r} is allowed"
        return f"{self.transition!r} from {self.status!r} is not allowed:" + "".join(
            f"\n  - {reason}" for reason in self.reasons
        )


@attrs.frozen(kw_only=True)
class Due:
    """A timed transition and the instant it falls (or fell) due.

    Attributes:
        transition: The transition to fire (by [`Actor.system()`][csmkit.workflow.Actor.system]).
        state: The state the ticket is in.
        due_at: When it is (was) due.
        since: The instant the timer started counting from.
        data: The timed transition's data, to pass to
            [`Workflow.fire()`][csmkit.workflow.Workflow.fire] as is.
    """

    transition: str
    state: str
    due_at: datetime
    since: datetime
    data: Mapping[str, JsonValue] = attrs.field(default=EMPTY)


@attrs.frozen(kw_only=True)
class TransitionContext:
    """What observers receive about a transition being fired.

    Attributes:
        workflow: The workflow definition.
        ticket: The ticket before the transition (never modified).
        transition: The transition definition.
        actor: Who fires it.
        at: When.
        data: The transition's data (frozen, JSON-safe).
        verdict: The (allowed) verdict.
    """

    workflow: Workflow
    ticket: Ticket
    transition: Transition
    actor: Actor
    at: datetime
    data: Mapping[str, JsonValue]
    verdict: Verdict

    def data_dict(self) -> dict[str, Any]:
        """A plain, mutable copy of `data`."""
        result: dict[str, Any] = thaw(self.data)
        return result


class Observer:
    """Hooks around [`Workflow.fire()`][csmkit.workflow.Workflow.fire]; subclass and override what
    you need.

    Order for one ``fire`` call:

    1. the transition is checked; if it is not allowed, ``TransitionNotAllowed`` is
       raised and **no** observer is called;
    2. ``before_transition`` of each observer, in registration order (workflow
       observers first, then those passed to ``fire``); raising vetoes the transition
       and the exception propagates;
    3. the events and the new ticket are built;
    4. ``after_transition`` of each observer, in the same order, with the new ticket
       and the events; raising propagates too, and ``fire`` returns nothing — since
       ``fire`` stores nothing, the caller has nothing to roll back.
    """

    def before_transition(self, context: TransitionContext) -> None:
        """Called before the events are built; raise to veto."""

    def after_transition(
        self, context: TransitionContext, ticket: Ticket, events: Sequence[Event]
    ) -> None:
        """Called with the new ticket and the events ``fire`` is about to return."""


class BusinessClock(Protocol):
    """Anything that adds business time, such as ``csmkit.sla.BusinessCalendar``.

    Timed transitions with ``clock="business"`` need one passed to
    [`Workflow.due_transitions()`][csmkit.workflow.Workflow.due_transitions] (workflow does not
    import [`csmkit.sla`][csmkit.sla]).
    """

    def add(self, at: datetime, delta: Any, /) -> datetime:
        """The instant ``delta`` of business time after ``at``."""
        ...
