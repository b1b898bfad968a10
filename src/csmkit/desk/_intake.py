"""Channel intake of the desk: inbound messages become tickets and messages, with the
rules' actions in the same batch."""

from __future__ import annotations

from collections.abc import Sequence

from csmkit.automation import Outcome
from csmkit.channels import AutoReply, DeliveryReport, InboundMessage, Intake, IntakeResult
from csmkit.customers import CustomerDirectory
from csmkit.desk._core import DeskKernel, log_committed
from csmkit.desk._types import TicketType, intake_problems, intake_workflow
from csmkit.errors import AutomationError
from csmkit.timeline import Event, Timeline

__all__ = ["IntakeOperations"]


class IntakeOperations:
    """`receive()` and the channel intake behind it.

    Args:
        kernel: The desk's kernel.
        intake_type: The ticket type of tickets opened from messages (``None``: the
            desk takes no messages).

    Raises:
        AutomationError: an unknown type, a workflow that does not start in ``new`` or
            a form requiring fields no later transition requires.
    """

    def __init__(self, kernel: DeskKernel, intake_type: str | None) -> None:
        self._kernel = kernel
        self._outcomes: list[Outcome] = []
        self.intake = self._make_intake(intake_type, kernel.customers)

    def _make_intake(
        self, intake_type: str | None, customers: CustomerDirectory | None
    ) -> Intake | None:
        """The intake opening tickets of ``intake_type`` (``None`` without one).

        Raises:
            AutomationError: an unknown type, a workflow that does not start in
                ``new`` or a form requiring fields no later transition requires.
        """
        if intake_type is None:
            return None
        kind: TicketType | None = self._kernel.types.get(intake_type)
        if kind is None:
            raise AutomationError(f"intake_type: unknown ticket type {intake_type!r}")
        problems = intake_problems(intake_type, kind)
        if problems:
            raise AutomationError(
                "intake_type " + "; ".join(problems),
                problems=[f"intake_type.{p}" for p in problems],
            )
        workflow = intake_workflow(kind.workflow)
        return Intake(
            self._kernel.store,
            self._kernel.plugins,
            customers=customers,
            ticket_type=intake_type,
            created_event=workflow.created_event,
            extra_events=self._intake_rules,
            due_mark=self._kernel.due_mark,
        )

    def receive(
        self, message: InboundMessage | DeliveryReport | AutoReply
    ) -> tuple[IntakeResult, list[Outcome]]:
        """[`ServiceDesk.receive()`][csmkit.desk.ServiceDesk.receive]."""
        if self.intake is None:
            raise AutomationError("receive() needs ServiceDesk(intake_type=...)")
        kernel = self._kernel
        with kernel.lock:  # the intake outcomes below are per call
            self._outcomes.clear()
            try:
                result = self.intake.receive(message)
                outcome = self._outcomes[-1] if self._outcomes else None
            finally:
                self._outcomes.clear()
            if result.ticket_id is None or not result.events:
                return result, []
            final = kernel.cache.fresh(result.ticket_id)  # the intake appended it
            kernel.routing.observe(final)
            log_committed(final, result.events)
            kernel.scheduler.after_operation(final, kernel.now())
            if outcome is None:
                return result, []
            kernel.outbox.put(outcome.notifications)  # under the lock: in store order
            return result, [outcome]

    def _intake_rules(self, timeline: Timeline, events: tuple[Event, ...]) -> Sequence[Event]:
        """Run by the intake before its append: the rules' events join its batch."""
        kernel = self._kernel
        outcome = kernel.automation.react(
            timeline, events, now=kernel.now(), env=kernel.env(timeline.ticket)
        )
        self._outcomes.append(outcome)  # the last attempt is the one stored
        stamped = kernel.routing.stamp(timeline, outcome.events) if kernel.routes else None
        return outcome.events if stamped is None else stamped  # routed: with a reference
