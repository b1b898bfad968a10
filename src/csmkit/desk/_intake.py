"""Channel intake of the desk: inbound messages become tickets and messages, with the
rules' actions in the same batch."""

from __future__ import annotations

from collections.abc import Sequence

from csmkit.automation import Outcome
from csmkit.channels import AutoReply, DeliveryReport, InboundMessage, Intake, IntakeResult
from csmkit.customers import CustomerDirectory
from csmkit.desk._core import DeskCore, log_committed
from csmkit.desk._types import TicketType, intake_problems, intake_workflow
from csmkit.errors import AutomationError
from csmkit.timeline import Event, Timeline

__all__ = ["IntakeOperations"]


class IntakeOperations(DeskCore):
    """`receive()` and the channel intake behind it."""

    _intake_outcomes: list[Outcome]

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
        kind: TicketType | None = self.types.get(intake_type)
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
            self.store,
            self.plugins,
            customers=customers,
            ticket_type=intake_type,
            created_event=workflow.created_event,
            extra_events=self._intake_rules,
            due_mark=self._due_mark,
        )

    def receive(self, message: InboundMessage | DeliveryReport | AutoReply) -> IntakeResult:
        """Take in an inbound message through [`Intake`][csmkit.channels.Intake]
        (duplicates, filters, threading, customer resolution). Bounces and auto-replies
        are recorded on the ticket they answer (``DeliveryFailed``,
        ``AutoReplyReceived``), never a new ticket; the rules see those events too.
        A new ticket is created with the intake type's workflow (its initial state,
        name, version and form defaults). The rules run on the intake's events and what
        they write is appended **in the same batch** as the message, so a crash cannot
        store the message without the rules' actions; the intents (notifications,
        tickets) run after it.

        Raises:
            AutomationError: the desk has no ``intake_type``; too many chained actions
                (nothing written).
        """
        if self.intake is None:
            raise AutomationError("receive() needs ServiceDesk(intake_type=...)")
        with self._lock:  # the intake outcomes below are per call
            self._intake_outcomes.clear()
            try:
                result = self.intake.receive(message)
                outcome = self._intake_outcomes[-1] if self._intake_outcomes else None
            finally:
                self._intake_outcomes.clear()
            if result.ticket_id is not None and result.events:
                final = self._cache.fresh(result.ticket_id)  # the intake appended it
                self._routing.observe(final)
                log_committed(final, result.events)
                self._scheduler.after_operation(final, self.now())
                if outcome is not None:
                    self._run_intents(outcome)
            return result

    def _intake_rules(self, timeline: Timeline, events: tuple[Event, ...]) -> Sequence[Event]:
        """Run by the intake before its append: the rules' events join its batch."""
        outcome = self.automation.react(
            timeline, events, now=self.now(), env=self._env(timeline.ticket)
        )
        self._intake_outcomes.append(outcome)  # the last attempt is the one stored
        stamped = self._routing.stamp(timeline, outcome.events) if self._routes else None
        return outcome.events if stamped is None else stamped  # routed: with a reference
